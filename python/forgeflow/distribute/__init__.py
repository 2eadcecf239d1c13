"""``ff.distribute``: data-parallel training over several processes, on CPUs or GPUs, with
TensorFlow's strategies and shape of use::

    strategy = ff.distribute.MultiWorkerMirroredStrategy()
    with strategy.scope():
        model = ff.Sequential([...])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=64 * strategy.num_replicas_in_sync, epochs=5)

started as ``mpirun -np 4 python train.py``, or without mpirun with ``FORGEFLOW_RANK``,
``FORGEFLOW_WORLD_SIZE``, ``FORGEFLOW_MASTER_ADDR`` and ``FORGEFLOW_MASTER_PORT`` (or torchrun's
``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``) on every process. The guide:
docs/distributed.md.
"""
from . import experimental
from ._strategy import ClusterResolver, Strategy, current_strategy, get_strategy, has_strategy
from .mirrored_strategy import MirroredStrategy
from .multi_worker_mirrored_strategy import MultiWorkerMirroredStrategy

__all__ = ["MirroredStrategy", "MultiWorkerMirroredStrategy", "Strategy", "ClusterResolver",
           "get_strategy", "has_strategy", "experimental"]
