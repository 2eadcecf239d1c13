"""Basic indexing of symbolic tensors, ``x[:, 0]``, ``x[..., 1:3]``, ``x[:, None]``: integers,
slices with step 1, ``None`` and ``...``, as split pieces, squeezes and expand_dims (graph
nodes). In a model the batch axis (0) must be taken whole (``:``). Steps, negative strides and
array indices are refused with a TypeError naming what is supported."""
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
    raise TypeError(f"Indexing a symbolic tensor takes integers, slices with step 1, None and "
                    f"...; received {item!r} (for a gather, use an op on arrays)")


def getitem(tensor, key):
    items = [_check(k) for k in (key if isinstance(key, tuple) else (key,))]
    if items.count(Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    rank = len(tensor.shape)
    used = sum(1 for k in items if k is not None and k is not Ellipsis)
    if used > rank:
        raise IndexError(f"too many indices for a tensor of shape {tensor.shape}: {used} given")
    if Ellipsis in items:
        at = items.index(Ellipsis)
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
