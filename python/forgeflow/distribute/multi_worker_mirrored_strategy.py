"""``ff.distribute.MultiWorkerMirroredStrategy``: data-parallel training over processes on one or
many machines."""
from . import _strategy

__all__ = ["MultiWorkerMirroredStrategy"]


class MultiWorkerMirroredStrategy(_strategy.Strategy):
    """Data-parallel training over several processes (workers) on one or many machines, as
    ``tf.distribute.MultiWorkerMirroredStrategy``: each worker holds one replica; ``fit``'s
    batch is the global batch, split among the workers; the gradients are summed in a fixed order
    (bit-reproducible runs) over MPI (``mpirun -np N python train.py``) or, without mpirun,
    over TCP after a rendezvous at worker 0 (``FORGEFLOW_RANK``, ``FORGEFLOW_WORLD_SIZE``,
    ``FORGEFLOW_MASTER_ADDR``, ``FORGEFLOW_MASTER_PORT``, or torchrun's ``RANK``... names).

    Create it first thing in the script, before the models (every worker runs the same script).

    Args:
        cluster_resolver: None only: the cluster comes from the launcher's environment.
        communication_options: an ``ff.distribute.experimental.CommunicationOptions``; its
            ``timeout_seconds`` bounds every wait on another worker (default 300 s).
    """

    def __init__(self, cluster_resolver=None, communication_options=None):
        if cluster_resolver is not None:
            raise ValueError("cluster_resolver: forgeflow reads the cluster from the launcher "
                             "(mpirun, or the FORGEFLOW_RANK / WORLD_SIZE / MASTER_ADDR / "
                             "MASTER_PORT variables); pass None")
        super().__init__(communication_options)
