"""Core seeds of new layers: drawn from the global sequence (ff.utils.set_random_seed), or the
saved one while forgeflow.saving re-creates a layer."""
import threading

from .. import _core

__all__ = ["_pending_seed", "_seed"]


# Set by the loader (forgeflow.saving) while it re-creates a layer: the saved core seed, so that
# dropout and augmentation streams continue exactly after a load. None: draw a fresh one.
_pending_seed = threading.local()


def _seed():
    seed = getattr(_pending_seed, "value", None)
    return _core.next_seed() if seed is None else seed
