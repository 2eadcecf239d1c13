"""``ff.ops`` neural-network functions with Keras 3's names and arguments (``keras.ops.nn``):
activations, softmax/log_softmax along an axis, and one_hot. On symbolic tensors each is a
graph node; on arrays it runs at once (see ``_op_layer.py``). The elementwise activations run
the same kernels as the Activation layer."""
import math
import numbers

import numpy as np

from ..layers.core import KerasTensor
from . import numpy as _np_ops
from ._op_layer import call_op

__all__ = ["relu", "sigmoid", "tanh", "gelu", "silu", "swish", "leaky_relu", "elu", "softmax",
           "log_softmax", "one_hot"]


def relu(x):
    """``max(x, 0)`` elementwise (NaN stays NaN)."""
    return call_op("relu", [x])


def sigmoid(x):
    """``1 / (1 + exp(-x))`` elementwise."""
    return call_op("sigmoid", [x])


def tanh(x):
    """The hyperbolic tangent elementwise."""
    return call_op("tanh", [x])


def gelu(x, approximate=True):
    """The Gaussian error linear unit. ``approximate=True`` (Keras's default for this op) is the
    tanh form ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``, composed of ops;
    ``approximate=False`` the exact ``x * Phi(x)`` (the "gelu" activation's kernel)."""
    if not approximate:
        return call_op("gelu", [x])
    inner = _np_ops.multiply(
        _np_ops.add(x, _np_ops.multiply(_np_ops.power(x, 3.0), 0.044715)),
        math.sqrt(2.0 / math.pi))
    return _np_ops.multiply(_np_ops.multiply(x, 0.5), _np_ops.add(tanh(inner), 1.0))


def silu(x):
    """``x * sigmoid(x)`` elementwise (also ``swish``)."""
    return call_op("silu", [x])


swish = silu


def leaky_relu(x, negative_slope=0.2):
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    return call_op("leaky_relu", [x], {"p0": float(negative_slope)})


def elu(x, alpha=1.0):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    return call_op("elu", [x], {"p0": float(alpha)})


def _axis(axis, op):
    if isinstance(axis, bool) or not isinstance(axis, (numbers.Integral, np.integer)):
        raise TypeError(f"ff.ops.{op}: axis must be an integer, received {axis!r}")
    return int(axis)


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` along ``axis`` (max-subtracted; a NaN makes its slice NaN)."""
    return call_op("softmax", [x], {"axis": _axis(axis, "softmax")})


def log_softmax(x, axis=-1):
    """``x - logsumexp(x)`` along ``axis``."""
    return call_op("log_softmax", [x], {"axis": _axis(axis, "log_softmax")})


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot rows of ``num_classes`` for the class indices in ``x`` (a new last axis). Stricter
    than Keras: an index outside [0, num_classes), or not a whole number, is an error (not a
    zero row)."""
    if axis != -1:
        raise ValueError("ff.ops.one_hot: only axis=-1 (a new last axis) is supported")
    if sparse:
        raise ValueError("ff.ops.one_hot: sparse=True is not supported")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (numbers.Integral, np.integer)):
        raise TypeError(f"ff.ops.one_hot: num_classes must be an integer, received {num_classes!r}")
    out = call_op("one_hot", [x], {"num_classes": int(num_classes)})
    if dtype is not None and not isinstance(out, KerasTensor):
        out = out.astype(dtype)
    return out
