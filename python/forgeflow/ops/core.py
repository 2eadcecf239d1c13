"""``ff.ops`` core operations with Keras 3's names (``keras.ops.core``): ``cast``,
``convert_to_tensor``, ``stop_gradient``, ``shape``. Inside a model every value is float32: a
cast to an integer type truncates toward zero (kept as float32 whole numbers) and a cast to
bool gives 0.0/1.0; on arrays the result has the requested dtype."""
import numpy as np

from ..layers.core import KerasTensor
from ._op_layer import call_op, is_symbolic, symbolic_of

__all__ = ["cast", "convert_to_tensor", "stop_gradient", "shape"]


def _dtype(dtype):
    try:
        return np.dtype(getattr(dtype, "name", dtype))
    except TypeError:
        raise TypeError(f"ff.ops.cast: unknown dtype {dtype!r}") from None


def cast(x, dtype):
    """``x`` converted to ``dtype``: floats unchanged (in a model), integer types truncated
    toward zero, bool as x != 0."""
    if str(dtype) == "bfloat16":
        kind, target = "f", None
    else:
        target = _dtype(dtype)
        kind = target.kind
    if kind not in "biuf":
        raise TypeError(f"ff.ops.cast: cannot cast to {dtype!r}; numeric dtypes only")
    if is_symbolic([x]):
        if kind == "f":
            return x  # every value in a model is float32 already
        return call_op("not_zero" if kind == "b" else "trunc", [x])
    arr = np.asarray(x)
    if target is None:
        return arr.astype(np.float32)
    return arr.astype(target)


def convert_to_tensor(x, dtype=None, sparse=None):
    """A symbolic tensor unchanged; anything else as a NumPy array (``dtype`` if given; Python
    floats and lists of them as float32, Keras's floatx)."""
    if sparse:
        raise ValueError("ff.ops.convert_to_tensor: sparse tensors are not supported")
    x = symbolic_of(x)
    if isinstance(x, KerasTensor):
        return x if dtype is None else cast(x, dtype)
    if dtype is not None:
        return np.asarray(x, dtype=_dtype(dtype))
    arr = np.asarray(x)
    if arr.dtype == np.float64 and not isinstance(x, (np.ndarray, np.generic)):
        arr = arr.astype(np.float32)
    return arr


def stop_gradient(variable):
    """The value unchanged, with no gradient flowing back through it (in a model); on arrays a
    float32 copy."""
    return call_op("stop_gradient", [variable])


def shape(x):
    """The shape as a tuple (None for the batch axis of a symbolic tensor)."""
    x = symbolic_of(x)
    if isinstance(x, KerasTensor):
        return tuple(x.shape)
    return tuple(np.shape(x))
