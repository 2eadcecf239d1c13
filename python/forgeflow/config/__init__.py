"""Runtime configuration, as ``tf.config``: ``ff.config.threading`` sets how many threads the CPU
kernels use."""
from . import threading

__all__ = ["threading"]
