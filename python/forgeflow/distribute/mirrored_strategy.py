"""``ff.distribute.MirroredStrategy``: data-parallel training on the GPUs of one machine."""
import warnings

from ..config import devices as _devices
from . import _strategy

__all__ = ["MirroredStrategy"]


class MirroredStrategy(_strategy.Strategy):
    """Data-parallel training on one machine, one replica per process and device, as
    ``tf.distribute.MirroredStrategy`` (whose one process drives every GPU).

    forgeflow runs one process per GPU: start the script once per GPU with
    ``mpirun -np <GPUs> python train.py`` (or with ``FORGEFLOW_RANK`` / ``FORGEFLOW_WORLD_SIZE``
    / ``FORGEFLOW_MASTER_ADDR`` / ``FORGEFLOW_MASTER_PORT``, or torchrun's names); worker k uses
    GPU k. Started once, it trains one replica on the default device.

    Args:
        devices: None, or a list of device names such as ``["/gpu:0", "/gpu:1"]``: its length
            must be the number of workers. Either way worker k uses GPU k of its machine.
        cross_device_ops: None only: the gradients are summed in a fixed order by forgeflow's
            collective (MPI, TCP; NCCL on GPUs).
    """

    def __init__(self, devices=None, cross_device_ops=None):
        if cross_device_ops is not None:
            raise ValueError("cross_device_ops: forgeflow sums gradients with its own fixed-order "
                             "all-reduce (over MPI, TCP or NCCL); pass None")
        super().__init__()
        if devices is not None:
            devices = [devices] if isinstance(devices, str) else list(devices)
            if len(devices) != self.num_replicas_in_sync:
                raise ValueError(
                    f"MirroredStrategy(devices={devices!r}) lists {len(devices)} device(s) but "
                    f"{self.num_replicas_in_sync} worker process(es) run: forgeflow drives one "
                    f"device per process, so start {len(devices)} processes (mpirun -np "
                    f"{len(devices)} python train.py)")
        self._devices = devices
        gpus = _devices.list_physical_devices("GPU")
        if self.num_replicas_in_sync == 1 and len(gpus) > 1:
            warnings.warn(
                f"MirroredStrategy in a single process trains on one of this machine's {len(gpus)} "
                "GPUs: forgeflow drives one GPU per process. Start one process per GPU: "
                f"mpirun -np {len(gpus)} python <script>.", UserWarning, stacklevel=2)
