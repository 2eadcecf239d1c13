"""The base of ff.distribute's strategies: the scope a model is created (or compiled) in, which
ties the model to the strategy's workers, and what TensorFlow code reads from a strategy
(``num_replicas_in_sync``, ``cluster_resolver``, ``scope()``), plus ``get_strategy`` and
``has_strategy``.

Each worker (process) holds one replica of the model on one device: the batch given to ``fit``
(``batch_size``, or a dataset's batches) is the *global* batch, split among the replicas, and
the gradients are summed over the workers in a fixed order before each update, so every replica
applies the same update. The learning rate is used as given (as TensorFlow does): a larger
global batch usually wants a larger rate, which the script chooses.
"""
import contextlib
import threading

from .. import _core
from ..config import devices as _devices
from . import _runtime

__all__ = ["Strategy", "ClusterResolver", "get_strategy", "has_strategy", "current_strategy"]

_scopes = threading.local()


def _stack():
    if not hasattr(_scopes, "stack"):
        _scopes.stack = []
    return _scopes.stack


def current_strategy():
    """The strategy whose scope is open in this thread, or None."""
    stack = _stack()
    return stack[-1] if stack else None


def has_strategy():
    """True inside a strategy's ``scope()`` (``tf.distribute.has_strategy``)."""
    return current_strategy() is not None


class ClusterResolver:
    """What ``strategy.cluster_resolver`` tells a script (TensorFlow's attributes): every
    worker is a "worker", worker 0 the chief (it writes checkpoints)."""

    def __init__(self, task_id, num_workers, launcher):
        self.task_type = "worker"
        self.task_id = task_id
        self.num_workers = num_workers
        self.launcher = launcher  # "mpi", "env" or None

    def __repr__(self):
        return (f"ClusterResolver(task_type='worker', task_id={self.task_id}, "
                f"num_workers={self.num_workers})")


class Strategy:
    """A data-parallel strategy over this run's workers (see the module's docstring)."""

    def __init__(self, communication_options=None):
        timeout = getattr(communication_options, "timeout_seconds", None)
        self._collective, self._cluster = _runtime.collective(timeout)
        self._choose_device()

    def _choose_device(self):
        """One GPU per worker: the worker of local rank k uses GPU k of its machine (set before
        the first model; nothing on a machine without GPUs)."""
        if self._collective.size == 1:
            return
        gpus = _devices.list_physical_devices("GPU")
        if not gpus:
            return
        local = self._cluster.local_rank
        if local >= len(gpus):
            raise ValueError(
                f"This worker has local rank {local} but its machine has {len(gpus)} GPU(s): "
                "start at most one worker per GPU")
        try:
            _devices.set_visible_devices([gpus[local]], "GPU")
        except RuntimeError:
            pass  # models exist already: they keep their device

    # ---------------------------------------------------------------- TensorFlow's surface
    @property
    def num_replicas_in_sync(self):
        """The number of replicas (workers) that train together; the global batch is split
        among them."""
        return self._collective.size

    @property
    def cluster_resolver(self):
        """This worker in the cluster: ``task_type`` "worker", ``task_id`` its index (0 is the
        chief), ``num_workers``."""
        return ClusterResolver(self._collective.rank, self._collective.size,
                               self._cluster.launcher)

    @contextlib.contextmanager
    def scope(self):
        """Models created (or compiled) inside train with this strategy: ``with
        strategy.scope(): model = ...; model.compile(...)``, then ``model.fit`` anywhere."""
        stack = _stack()
        stack.append(self)
        try:
            yield self
        finally:
            stack.pop()

    # ---------------------------------------------------------------- forgeflow's extras
    @property
    def worker_index(self):
        """This worker's index (0 is the chief, which writes checkpoints and run records)."""
        return self._collective.rank

    @property
    def is_chief(self):
        """True on worker 0, which writes checkpoints, backups and the run record."""
        return self._collective.rank == 0

    @property
    def timeout(self):
        """Seconds a worker may send nothing before the others stop with an error naming it."""
        return self._collective.timeout

    def barrier(self, what="a barrier"):
        """Waits until every worker got here (an error names a worker that does not come)."""
        self._collective.barrier(what)

    def __repr__(self):
        return (f"<{type(self).__name__} num_replicas_in_sync={self.num_replicas_in_sync} "
                f"worker={self.worker_index} transport={self._collective.transport}>")


class _DefaultStrategy(Strategy):
    """What ``get_strategy()`` gives outside any scope: one replica, this process."""

    def __init__(self):
        self._collective = _core.distribute.local_collective()
        from .cluster import Cluster
        self._cluster = Cluster(None)


_default = []


def get_strategy():
    """The strategy whose scope is open, or the default one-replica strategy
    (``tf.distribute.get_strategy``)."""
    current = current_strategy()
    if current is not None:
        return current
    if not _default:
        _default.append(_DefaultStrategy())
    return _default[0]
