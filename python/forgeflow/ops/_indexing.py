"""Indexing of symbolic tensors, ``x[:, 0]``, ``x[..., 1:3]``, ``x[:, None]``, ``x[:, [0, 2]]``:
integers, slices with step 1, ``None`` and ``...``, as split pieces, squeezes and expand_dims,
and one integer array (a list or NumPy array) as ``ff.ops.take`` along its axis (graph nodes).
In a model the batch axis (0) must be taken whole (``:``). Steps, negative strides, boolean
masks, several arrays and an array beside integer indices (NumPy moves the axes then) are refused
with a TypeError naming what is supported."""
import numbers

import numpy as np

from . import numpy as _ops


def _check(item):
    if item is None or item is Ellipsis or isinstance(item, slice):
        if isinstance(item, slice) and item.step not in (None, 1):
            raise TypeError(f"Indexing a symbolic tensor takes slices with step 1; received step "
                            f"{item.step}")
        return item
    if isinstance(item, (numbers.Integral, np.integer)) and not isinstance(item, bool):
        return int(item)
    if isinstance(item, (list, np.ndarray)):
        arr = np.asarray(item)
        if arr.dtype.kind in "iu" or (arr.size == 0 and arr.dtype.kind == "f"):
            return arr.astype(np.int64)
        if arr.dtype.kind == "b":
            raise TypeError("Indexing a symbolic tensor with a boolean mask is not supported (its "
                            "result's shape depends on the values); use ff.ops.where, or "
                            "ff.ops.take with the mask's np.flatnonzero indices")
    raise TypeError(f"Indexing a symbolic tensor takes integers, slices with step 1, None, ... "
                    f"and one integer array; received {item!r}")


def getitem(tensor, key):
    items = [_check(k) for k in (key if isinstance(key, tuple) else (key,))]
    arrays = sum(1 for k in items if isinstance(k, np.ndarray))
    if arrays > 1:
        raise TypeError("Indexing a symbolic tensor takes one integer array; received "
                        f"{arrays} (use ff.ops.take once per axis)")
    if arrays and any(isinstance(k, int) for k in items):
        raise TypeError("Indexing a symbolic tensor with an array beside integer indices is not "
                        "supported (NumPy's rules move the axes then); index with the integer "
                        "first, then with the array")
    if sum(1 for k in items if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    rank = len(tensor.shape)
    used = sum(1 for k in items if k is not None and k is not Ellipsis)
    if used > rank:
        raise IndexError(f"too many indices for a tensor of shape {tensor.shape}: {used} given")
    if any(k is Ellipsis for k in items):
        at = next(i for i, k in enumerate(items) if k is Ellipsis)
        items = items[:at] + [slice(None)] * (rank - used) + items[at + 1:]
    else:
        items = items + [slice(None)] * (rank - used)
    out, axis, squeeze = tensor, 0, []
    for k in items:
        if k is None:
            out = _ops.expand_dims(out, axis)
            axis += 1
            continue
        size = out.shape[axis]
        if isinstance(k, np.ndarray):
            if size is None:
                raise ValueError("Indexing a symbolic tensor cannot gather along the batch axis "
                                 "(axis 0) inside a model; take it whole with ':'")
            out = _ops.take(out, k, axis=axis)
            axis += k.ndim
            continue
        if isinstance(k, int):
            i = k + size if (k < 0 and size is not None) else k
            if size is not None and not 0 <= i < size:
                raise IndexError(f"index {k} is out of bounds for axis {axis} of size {size}")
            out = _ops.split(out, [i, i + 1], axis=axis)[1]
            squeeze.append(axis)
        elif k != slice(None):
            if size is None:
                raise ValueError("Indexing a symbolic tensor cannot slice the batch axis (axis 0) "
                                 "inside a model; take it whole with ':'")
            start, stop, _ = k.indices(size)
            out = _ops.split(out, [start, max(start, stop)], axis=axis)[1]
        axis += 1
    return _ops.squeeze(out, axis=squeeze) if squeeze else out
