"""A fingerprint of the training data, so a run records exactly what it was trained on.

Arrays (and nested lists / tuples / dicts of arrays): ``blake2b:<hex>`` of, for each array in
order (dict keys sorted), its position/key, dtype, shape and raw C-order bytes. Objects with a
``_fingerprint()`` method (ff.data datasets: file names, sizes and modification times) give
their own string. Anything else is ``"unknown"``.
"""
import hashlib

import numpy as np

__all__ = ["data_fingerprint"]


def _feed(h, obj, path):
    if obj is None:
        h.update(f"{path}:None;".encode())
        return True
    if isinstance(obj, dict):
        for key in sorted(obj, key=str):
            if not _feed(h, obj[key], f"{path}[{key!r}]"):
                return False
        return True
    if isinstance(obj, (list, tuple)) and not (obj and isinstance(obj[0], (int, float))):
        for i, item in enumerate(obj):
            if not _feed(h, item, f"{path}[{i}]"):
                return False
        return True
    if isinstance(obj, (np.ndarray, list, tuple, int, float)) or hasattr(obj, "__array__"):
        a = np.ascontiguousarray(np.asarray(obj))
        if a.dtype.kind == "O":
            return False
        h.update(f"{path}:{a.dtype.str}:{a.shape};".encode())
        h.update(memoryview(a).cast("B"))
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
    try:
        if not (_feed(h, x, "x") and _feed(h, y, "y")):
            return "unknown"
    except (TypeError, ValueError):
        return "unknown"
    return "blake2b:" + h.hexdigest()
