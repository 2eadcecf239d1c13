"""A fingerprint of the training data, so a run records what it was trained on.

Arrays (and nested lists / tuples / dicts of arrays): ``blake2b:<hex>`` of, for each array in
order (dict keys sorted), its position/key, dtype, shape and raw C-order bytes. An array larger
than ``FULL_HASH_BYTES`` (32 MiB) is hashed from a sample instead: its first and last MiB and
``SAMPLED_ROWS`` rows spread evenly over it, and the fingerprint says so
(``blake2b-sampled:<hex>``). Hashing every byte of a large array cost a fit about as much as
13% of an MLP epoch on Fashion-MNIST, and read every page of a memory-mapped array that training
itself only samples. Objects with a ``_fingerprint()`` method (ff.data datasets: file names, sizes
and modification times) give their own string. Anything else is ``"unknown"``.
"""
import hashlib

import numpy as np

__all__ = ["data_fingerprint", "FULL_HASH_BYTES", "SAMPLED_ROWS"]

FULL_HASH_BYTES = 32 << 20
SAMPLED_ROWS = 1024
_EDGE_BYTES = 1 << 20


def _feed_array(h, a, sampled):
    """Hashes the array's bytes, or for a large one its edges and evenly spaced rows; returns
    whether it sampled."""
    if a.nbytes <= FULL_HASH_BYTES or a.ndim == 0:
        h.update(memoryview(a).cast("B"))
        return False
    raw = a.reshape(-1).view(np.uint8) if a.dtype.itemsize else a.reshape(-1)
    h.update(memoryview(raw[:_EDGE_BYTES]))
    h.update(memoryview(raw[-_EDGE_BYTES:]))
    rows = np.linspace(0, len(a) - 1, num=min(SAMPLED_ROWS, len(a))).astype(np.int64)
    for r in np.unique(rows):
        h.update(f"{r};".encode())
        h.update(memoryview(np.ascontiguousarray(a[r])).cast("B"))
    return True


def _feed(h, obj, path, sampled):
    if obj is None:
        h.update(f"{path}:None;".encode())
        return True
    if isinstance(obj, dict):
        for key in sorted(obj, key=str):
            if not _feed(h, obj[key], f"{path}[{key!r}]", sampled):
                return False
        return True
    if isinstance(obj, (list, tuple)) and not (obj and isinstance(obj[0], (int, float))):
        for i, item in enumerate(obj):
            if not _feed(h, item, f"{path}[{i}]", sampled):
                return False
        return True
    if isinstance(obj, (np.ndarray, list, tuple, int, float)) or hasattr(obj, "__array__"):
        a = np.ascontiguousarray(np.asarray(obj))
        if a.dtype.kind == "O":
            return False
        h.update(f"{path}:{a.dtype.str}:{a.shape};".encode())
        if _feed_array(h, a, sampled):
            sampled.append(path)
        return True
    return False


def data_fingerprint(x, y=None):
    """``blake2b:<hex>`` of the arrays x (and y), the dataset's own ``_fingerprint()``, or
    ``"unknown"``."""
    own = getattr(x, "_fingerprint", None)
    if callable(own):
        try:
            return str(own())
        except Exception:  # a dataset that cannot say: not worth failing the fit
            return "unknown"
    h = hashlib.blake2b(digest_size=20)
    sampled = []
    try:
        if not (_feed(h, x, "x", sampled) and _feed(h, y, "y", sampled)):
            return "unknown"
    except (TypeError, ValueError):
        return "unknown"
    return ("blake2b-sampled:" if sampled else "blake2b:") + h.hexdigest()
