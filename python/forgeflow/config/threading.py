"""``ff.config.threading``: the CPU kernels' thread count, with TensorFlow's names.

By default (0, "automatic") each kernel uses the CPUs this process may actually run on (its
affinity mask, e.g. ``taskset``; a container's CPU quota, cgroup ``cpu.max``), minus those other
processes keep busy (measured every 100 ms), and no more threads than its size pays for.
``OMP_NUM_THREADS`` in the environment at start-up, or ``set_intra_op_parallelism_threads(n)``,
fixes the count instead. Results never depend on the thread count.
"""
import numbers

from .. import _core

__all__ = ["get_intra_op_parallelism_threads", "set_intra_op_parallelism_threads",
           "usable_cpu_count", "current_intra_op_threads"]


def set_intra_op_parallelism_threads(num_threads):
    """Fixes the threads one CPU kernel may use; 0 returns to the automatic count. Takes effect
    from the next kernel (unlike TensorFlow, it may be called at any time)."""
    if isinstance(num_threads, bool) or not isinstance(num_threads, numbers.Integral):
        raise TypeError("set_intra_op_parallelism_threads: expected an int (0 for automatic), "
                        f"received {type(num_threads).__name__} {num_threads!r}")
    _core.set_intra_op_threads(int(num_threads))


def get_intra_op_parallelism_threads():
    """The fixed thread count (set here, or ``OMP_NUM_THREADS`` at start-up), or 0 when the
    count is automatic."""
    return _core.intra_op_threads_setting()


def usable_cpu_count():
    """The CPUs this process may use: its affinity mask, lowered to a cgroup CPU quota (rounded
    up). The automatic thread count never exceeds it."""
    return _core.usable_cpus()


def current_intra_op_threads():
    """The threads a large CPU kernel would use now: the fixed count, or the automatic one (the
    usable CPUs other processes leave free, at least 1)."""
    return _core.max_threads_now()
