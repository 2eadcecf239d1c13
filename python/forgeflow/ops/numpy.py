"""``ff.ops`` NumPy-style operations with Keras 3's names and arguments (``keras.ops.numpy``):
arithmetic, comparisons (float32 0/1 results), math functions, reductions along axes, shape
operations, matmul/dot (einsum in _einsum.py), array creation. Each works on symbolic tensors (a graph
node, see ``_op_layer.py``) and on arrays (computed at once, a NumPy array returned).

Broadcasting follows NumPy, except that an elementwise op where both operands would grow
(``(N, 1)`` with ``(N,)`` giving ``(N, N)``) raises ValueError naming both shapes and the fix.
Values are float32 (comparisons give 0.0/1.0, ``argmax`` whole numbers; on arrays ``argmax``
and integer casts return integer arrays)."""
import builtins
import numbers

import numpy as np

from ..layers.core import KerasTensor
from ._op_layer import call_op, is_symbolic, symbolic_of

__all__ = ["add", "subtract", "multiply", "divide", "true_divide", "negative", "power",
           "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
           "exp", "log", "sqrt", "square", "abs", "absolute", "sign", "maximum", "minimum",
           "where", "clip", "sum", "mean", "max", "min", "argmax", "argmin", "logsumexp",
           "reshape", "transpose", "expand_dims", "squeeze", "concatenate", "stack", "split",
           "take", "take_along_axis", "matmul", "dot", "zeros", "ones"]  # einsum: _einsum.py


# ---------------------------------------------------------------------------------- arithmetic
def add(x1, x2):
    """``x1 + x2`` elementwise (NumPy broadcasting; both operands growing is an error)."""
    return call_op("add", [x1, x2])


def subtract(x1, x2):
    """``x1 - x2`` elementwise."""
    return call_op("subtract", [x1, x2])


def multiply(x1, x2):
    """``x1 * x2`` elementwise."""
    return call_op("multiply", [x1, x2])


def divide(x1, x2):
    """``x1 / x2`` elementwise (true division)."""
    return call_op("divide", [x1, x2])


true_divide = divide


def negative(x):
    """``-x`` elementwise."""
    return call_op("negative", [x])


def power(x1, x2):
    """``x1 ** x2`` elementwise."""
    return call_op("power", [x1, x2])


def maximum(x1, x2):
    """The elementwise maximum (NaN propagates)."""
    return call_op("maximum", [x1, x2])


def minimum(x1, x2):
    """The elementwise minimum (NaN propagates)."""
    return call_op("minimum", [x1, x2])


# ---------------------------------------------------------------------------------- comparisons
def equal(x1, x2):
    """``x1 == x2`` elementwise, as float32 1.0/0.0."""
    return call_op("equal", [x1, x2])


def not_equal(x1, x2):
    """``x1 != x2`` elementwise, as float32 1.0/0.0."""
    return call_op("not_equal", [x1, x2])


def less(x1, x2):
    """``x1 < x2`` elementwise, as float32 1.0/0.0."""
    return call_op("less", [x1, x2])


def less_equal(x1, x2):
    """``x1 <= x2`` elementwise, as float32 1.0/0.0."""
    return call_op("less_equal", [x1, x2])


def greater(x1, x2):
    """``x1 > x2`` elementwise, as float32 1.0/0.0."""
    return call_op("greater", [x1, x2])


def greater_equal(x1, x2):
    """``x1 >= x2`` elementwise, as float32 1.0/0.0."""
    return call_op("greater_equal", [x1, x2])


# ---------------------------------------------------------------------------------- math
def exp(x):
    """``e ** x`` elementwise."""
    return call_op("exp", [x])


def log(x):
    """The natural logarithm elementwise (NaN for negative values, -inf at 0)."""
    return call_op("log", [x])


def sqrt(x):
    """The square root elementwise."""
    return call_op("sqrt", [x])


def square(x):
    """``x * x`` elementwise."""
    return call_op("square", [x])


def abs(x):  # noqa: A001 (Keras's name)
    """``|x|`` elementwise."""
    return call_op("abs", [x])


absolute = abs


def sign(x):
    """-1, 0 or 1 by the sign of x (NaN stays NaN)."""
    return call_op("sign", [x])


def clip(x, x_min, x_max):
    """``min(max(x, x_min), x_max)`` elementwise (scalar bounds; NaN stays NaN)."""
    for name, v in (("x_min", x_min), ("x_max", x_max)):
        if isinstance(v, bool) or not isinstance(v, (numbers.Real, np.number)):
            raise TypeError(f"ff.ops.clip: {name} must be a number, received {v!r} (for tensor "
                            "bounds use ff.ops.maximum and ff.ops.minimum)")
    return call_op("clip", [x], {"p0": float(x_min), "p1": float(x_max)})


def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` is nonzero, else ``x2`` (broadcast together)."""
    if x1 is None or x2 is None:
        raise ValueError("ff.ops.where needs x1 and x2: where(condition) (the indices of nonzero "
                         "values) has a data-dependent shape and is not supported")
    return call_op("where", [condition, x1, x2])


# ---------------------------------------------------------------------------------- reductions
def _axes(axis, op):
    if axis is None:
        return None
    items = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    for a in items:
        if isinstance(a, bool) or not isinstance(a, (numbers.Integral, np.integer)):
            raise TypeError(f"ff.ops.{op}: axis must be an integer, a tuple of integers or None; "
                            f"received {axis!r}")
    return [int(a) for a in items]


def _reduce(op, x, axis, keepdims):
    return call_op(op, [x], {"axis": _axes(axis, op), "keepdims": bool(keepdims)})


def sum(x, axis=None, keepdims=False):  # noqa: A001
    """The sum over ``axis`` (an int, a tuple, or None: every axis)."""
    return _reduce("sum", x, axis, keepdims)


def mean(x, axis=None, keepdims=False):
    """The mean over ``axis``."""
    return _reduce("mean", x, axis, keepdims)


def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    """The maximum over ``axis`` (NaN if the values hold one)."""
    if initial is not None:
        raise ValueError("ff.ops.max: initial= is not supported; combine with ff.ops.maximum")
    return _reduce("max", x, axis, keepdims)


def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    """The minimum over ``axis`` (NaN if the values hold one)."""
    if initial is not None:
        raise ValueError("ff.ops.min: initial= is not supported; combine with ff.ops.minimum")
    return _reduce("min", x, axis, keepdims)


def _arg(op, x, axis, keepdims):
    if axis is not None and isinstance(axis, (list, tuple)):
        raise TypeError(f"ff.ops.{op}: axis must be an integer or None, received {axis!r}")
    out = _reduce(op, x, axis, keepdims)
    return out if isinstance(out, KerasTensor) else out.astype(np.int32)


def argmax(x, axis=None, keepdims=False):
    """The index of the first maximum along ``axis`` (None: of the flattened values). On arrays
    an int32 array; in a model float32 whole numbers (no gradient)."""
    return _arg("argmax", x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    """The index of the first minimum along ``axis`` (see argmax)."""
    return _arg("argmin", x, axis, keepdims)


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, computed stably (``keras.ops.logsumexp``)."""
    return _reduce("logsumexp", x, axis, keepdims)


# ---------------------------------------------------------------------------------- shapes
def _int_tuple(value, what, allow_none=False):
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    out = []
    for v in items:
        if v is None and allow_none:
            out.append(-1)
        elif isinstance(v, bool) or not isinstance(v, (numbers.Integral, np.integer)):
            raise TypeError(f"{what} must hold integers, received {value!r}")
        else:
            out.append(int(v))
    return out


def reshape(x, newshape):
    """``x`` with the shape ``newshape`` (one entry may be -1). In a model the first entry is the
    batch size: -1 or None."""
    return call_op("reshape", [x], {"newshape": _int_tuple(newshape, "ff.ops.reshape newshape",
                                                           allow_none=True)})


def transpose(x, axes=None):
    """``x`` with its axes permuted (``axes=None`` reverses them). In a model axis 0 (the batch)
    stays first."""
    args = {"axes": None if axes is None else _int_tuple(axes, "ff.ops.transpose axes")}
    return call_op("transpose", [x], args)


def expand_dims(x, axis):
    """``x`` with a new axis of size 1 at ``axis``."""
    return call_op("expand_dims", [x], {"axis": _int_tuple(axis, "ff.ops.expand_dims axis")[:1]})


def squeeze(x, axis=None):
    """``x`` without the axes of size 1 named by ``axis`` (None: every axis of size 1)."""
    args = {"axis": None if axis is None else _int_tuple(axis, "ff.ops.squeeze axis")}
    return call_op("squeeze", [x], args)


def _tensor_list(xs, op):
    if isinstance(xs, (KerasTensor, np.ndarray)) or not isinstance(xs, (list, tuple)):
        raise TypeError(f"ff.ops.{op} takes a list or tuple of tensors, received "
                        f"{type(xs).__name__}")
    if not xs:
        raise ValueError(f"ff.ops.{op} needs at least one tensor")
    return [symbolic_of(x) for x in xs]


def concatenate(xs, axis=0):
    """The tensors of ``xs`` joined along ``axis`` (Keras's default 0; in a model use 1 or
    later: axis 0 is the batch)."""
    return call_op("concatenate", _tensor_list(xs, "concatenate"), {"axis": int(axis)},
                   scalars=False)


def stack(x, axis=0):
    """The tensors of ``x`` (one shape) stacked along a new axis ``axis``."""
    return call_op("stack", _tensor_list(x, "stack"), {"axis": int(axis)}, scalars=False)


def split(x, indices_or_sections, axis=0):
    """``x`` cut along ``axis`` into ``indices_or_sections`` equal pieces, or at the given
    indices; a list of tensors (NumPy's and Keras's rules)."""
    x = symbolic_of(x)
    if isinstance(x, KerasTensor):
        shape = x.shape
    else:
        shape = np.shape(x)
    rank = len(shape)
    if isinstance(axis, bool) or not isinstance(axis, (numbers.Integral, np.integer)):
        raise TypeError(f"ff.ops.split: axis must be an integer, received {axis!r}")
    if not -rank <= axis < rank:
        raise ValueError(f"ff.ops.split: axis {axis} is out of range for a tensor of rank {rank}")
    a = int(axis) % rank
    size = shape[a]
    if size is None:
        raise ValueError(f"ff.ops.split: axis {axis} of shape {tuple(shape)} is the batch axis; "
                         "in a model split along axis=1 or later")
    if isinstance(indices_or_sections, (numbers.Integral, np.integer)) and not isinstance(
            indices_or_sections, bool):
        n = int(indices_or_sections)
        if n <= 0 or size % n:
            raise ValueError(f"ff.ops.split: axis {axis} of size {size} cannot be split into "
                             f"{n} equal sections")
        bounds = [size * i // n for i in range(n + 1)]
    else:
        cuts = _int_tuple(indices_or_sections, "ff.ops.split indices")
        bounds = [0] + [builtins.min(builtins.max(c if c >= 0 else c + size, 0), size)
                        for c in cuts] + [size]
    pieces = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        stop = builtins.max(start, stop)
        pieces.append(call_op("split", [x], {"axis": a, "start": start, "stop": stop}))
    return pieces


# ---------------------------------------------------------------------------------- gathers
_MAX_EXACT_INDEX = 2 ** 24  # indices travel as float32 values: whole numbers exact below this


def _indices(indices, op):
    """Constant indices as a float32 array of whole numbers (symbolic ones unchanged)."""
    indices = symbolic_of(indices)
    if isinstance(indices, KerasTensor):
        if indices.dtype not in ("float32", "int32", "int64"):
            raise TypeError(f"ff.ops.{op}: indices must be integers; received the tensor "
                            f'"{indices.name}" of dtype {indices.dtype}')
        return indices
    try:
        arr = np.asarray(indices)
    except Exception as e:  # ragged lists and the like
        raise TypeError(f"ff.ops.{op}: cannot use {type(indices).__name__} as indices: {e}") from None
    if arr.size == 0 and arr.dtype.kind == "f":
        arr = arr.astype(np.int64)  # np.asarray([]) is float64
    if arr.dtype.kind not in "iu":
        raise TypeError(f"ff.ops.{op}: indices must be integers; received an array of dtype "
                        f"{arr.dtype}")
    if arr.size and int(np.abs(arr.astype(np.int64)).max()) >= _MAX_EXACT_INDEX:
        raise ValueError(f"ff.ops.{op}: indices must lie within (-{_MAX_EXACT_INDEX}, "
                         f"{_MAX_EXACT_INDEX}) (they travel as float32 values); received "
                         f"{int(np.abs(arr.astype(np.int64)).max())}")
    return np.asarray(arr, dtype=np.float32, order="C")


def _axis_arg(axis, op):
    if axis is None:
        return None
    if isinstance(axis, bool) or not isinstance(axis, (numbers.Integral, np.integer)):
        raise TypeError(f"ff.ops.{op}: axis must be an integer or None, received {axis!r}")
    return int(axis)


def take(x, indices, axis=None):
    """The entries of ``x`` at ``indices`` along ``axis`` (NumPy's and Keras 3's ``take``): the
    result has shape ``x.shape[:axis] + indices.shape + x.shape[axis + 1:]``; ``axis=None``
    takes from ``x`` flattened. Negative indices count from the end; an index outside
    ``[-size, size)`` raises ValueError naming it and the axis size (Keras clips on some
    backends; forgeflow does not). ``indices`` may be an integer array (kept in the op and saved
    in the model) or a symbolic tensor of indices (an ``ff.Input(dtype="int32")``: taking rows of
    a weight is an embedding lookup). The gradient adds ``dy`` back into the rows taken."""
    axis = _axis_arg(axis, "take")
    return call_op("take", [x, _indices(indices, "take")], {"axis": axis}, scalars=False)


def take_along_axis(x, indices, axis=None):
    """NumPy's and Keras 3's ``take_along_axis``: ``indices`` (the rank of ``x``, broadcasting
    against it on the other axes) pick entries of ``x`` along ``axis``; ``axis=None`` takes from
    ``x`` flattened with 1-D indices. Built on ``take``: the indices become flat positions (on
    the host), so they must be an integer array (kept in the op); next to a symbolic ``x`` they
    cannot vary along the batch axis (their first size is 1). Out-of-range indices raise
    ValueError naming the index and the axis size."""
    axis = _axis_arg(axis, "take_along_axis")
    if isinstance(symbolic_of(indices), KerasTensor):
        raise TypeError("ff.ops.take_along_axis takes indices as an integer array; symbolic "
                        "indices are not supported yet (use ff.ops.take, or compute on arrays)")
    idx = _indices(indices, "take_along_axis").astype(np.int64)
    xs = symbolic_of(x)
    symbolic = isinstance(xs, KerasTensor)
    shape = tuple(xs.shape) if symbolic else np.shape(x)
    if axis is None:
        if idx.ndim != 1:
            raise ValueError("ff.ops.take_along_axis: with axis=None the indices must be 1-D; "
                             f"received shape {idx.shape}")
        return take(x, idx, axis=None)
    rank = len(shape)
    if idx.ndim != rank:
        raise ValueError(f"ff.ops.take_along_axis: indices of shape {idx.shape} must have the "
                         f"rank of x (shape {shape})")
    if not -rank <= axis < rank:
        raise ValueError(f"ff.ops.take_along_axis: axis {axis} is out of range for x of rank "
                         f"{rank}")
    axis %= rank
    first = 1 if symbolic else 0
    if symbolic:
        if axis == 0:
            raise ValueError("ff.ops.take_along_axis: axis 0 is the batch axis of x (shape "
                             f"{shape}); in a model use axis=1 or later")
        if idx.shape[0] != 1:
            raise ValueError(f"ff.ops.take_along_axis: indices of shape {idx.shape} next to a "
                             f"symbolic x (shape {shape}) must have size 1 along the batch axis "
                             "(the same indices for every sample)")
    size = shape[axis]
    bad = np.flatnonzero((idx < -size) | (idx >= size))
    if bad.size:
        raise ValueError(f"ff.ops.take_along_axis: index {int(idx.flat[bad[0]])} at position "
                         f"{int(bad[0])} of the indices is out of bounds for axis {axis} with "
                         f"size {size}")
    idx = np.where(idx < 0, idx + size, idx)
    out = []
    for d in range(first, rank):
        if d == axis:
            out.append(idx.shape[d])
        elif shape[d] == idx.shape[d] or idx.shape[d] == 1:
            out.append(shape[d])
        elif shape[d] == 1:
            out.append(idx.shape[d])
        else:
            raise ValueError(f"ff.ops.take_along_axis: indices of shape {idx.shape} do not "
                             f"broadcast against x of shape {shape} on axis {d}")
    out = tuple(out)
    grids = np.indices(out, sparse=True)
    wrapped = np.broadcast_to(idx[(0,) * first], out) if first else np.broadcast_to(idx, out)
    flat = np.zeros(out, dtype=np.int64)
    stride = 1
    for d in reversed(range(first, rank)):
        if d == axis:
            flat = flat + wrapped * stride
        elif shape[d] != 1:
            flat = flat + grids[d - first] * stride
        stride *= shape[d]
    if symbolic:
        return take(reshape(x, (-1, stride)), flat, axis=1)
    return take(x, flat, axis=None)


# ---------------------------------------------------------------------------------- products
def matmul(x1, x2):
    """The matrix product of (..., M, K) and (..., K, N) (a 1-D operand counts as a row or a
    column); batch axes broadcast as NumPy's (in a model the batch size None meets None or 1)."""
    return call_op("matmul", [x1, x2], scalars=False)


def _rank(x):
    x = symbolic_of(x)
    return len(x.shape) if isinstance(x, KerasTensor) else np.ndim(x)


def dot(x1, x2):
    """NumPy's dot: a product with a scalar, the inner product of vectors, matmul for a second
    operand of rank 1 or 2 (the sum over x1's last axis and x2's first or second-to-last)."""
    r1, r2 = _rank(x1), _rank(x2)
    if r1 == 0 or r2 == 0:
        return multiply(x1, x2)
    if r2 <= 2:
        return matmul(x1, x2)
    raise ValueError(f"ff.ops.dot of operands of rank {r1} and {r2}: a second operand of rank 3 "
                     "or more is not supported; use ff.ops.einsum or ff.ops.matmul")


# ---------------------------------------------------------------------------------- creation
def _creation_shape(shape, op):
    items = list(shape) if isinstance(shape, (list, tuple)) else [shape]
    for d in items:
        if isinstance(d, bool) or not isinstance(d, (numbers.Integral, np.integer)) or d < 0:
            raise ValueError(f"ff.ops.{op}: shape must hold non-negative integers, received "
                             f"{shape!r}")
    return tuple(int(d) for d in items)


def zeros(shape, dtype=None):
    """A NumPy array of zeros (float32 unless ``dtype``)."""
    return np.zeros(_creation_shape(shape, "zeros"), dtype=dtype or np.float32)


def ones(shape, dtype=None):
    """A NumPy array of ones (float32 unless ``dtype``)."""
    return np.ones(_creation_shape(shape, "ones"), dtype=dtype or np.float32)


# The marker scripts/gen_keras_compat.py reads (docs/keras-compatibility.md): where forgeflow
# raises and Keras broadcasts.
_BOTH_GROW = ("raises where both operands would grow ((N, 1) with (N,) into (N, N)); Keras "
              "broadcasts them")
for _op in (add, subtract, multiply, divide, power, maximum, minimum, equal, not_equal, less,
            less_equal, greater, greater_equal, where):
    _op._keras_stricter = _BOTH_GROW
del _op
