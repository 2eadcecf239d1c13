"""``ff.ops``: Keras 3's ``keras.ops`` for forgeflow (docs/ops.md).

On symbolic tensors (``ff.Input`` and what layers and ops make of it) every call becomes a node
of the model's C++ graph, with forward and backward through the backend's kernels: the training
step stays in C++, on the CPU and on the GPU alike. On NumPy arrays and Python numbers the same
C++ op runs at once and a NumPy array comes back::

    inputs = ff.Input(shape=(16,))
    h = ff.layers.Dense(16)(inputs)
    outputs = ff.layers.Dense(3)(inputs + ff.ops.relu(h))   # a residual connection
    ff.ops.softmax(np.array([[1.0, 2.0, 3.0]]))             # -> array([[0.09, 0.24, 0.67]])

Symbolic tensors also take ``+ - * / ** @``, unary ``-`` and ``abs()``, ``< <= > >=``
(``==``/``!=`` keep their identity meaning: use ``ff.ops.equal``/``not_equal``) and basic
indexing (``x[:, 0]``, ``x[..., 1:3]``, ``x[:, None]``; the batch axis taken whole). Broadcasting
follows NumPy except that an op where both operands would grow (``(N, 1)`` with ``(N,)``)
raises. Values are float32.
"""
import sys as _sys

from .. import regularizers as _regularizers, variables as _variables
from ..layers.core import KerasTensor
from .core import cast, convert_to_tensor, shape, stop_gradient
from .nn import (elu, gelu, leaky_relu, log_softmax, one_hot, relu, sigmoid, silu, softmax,
                 swish, tanh)
from ._einsum import einsum
from ._indexing import getitem as _getitem
from .numpy import (abs, absolute, add, argmax, argmin, clip, concatenate, divide, dot,
                    equal, exp, expand_dims, greater, greater_equal, less, less_equal, log,
                    logsumexp, matmul, max, maximum, mean, min, minimum, multiply, negative,
                    not_equal, ones, power, reshape, sign, split, sqrt, square, squeeze, stack,
                    subtract, sum, take, take_along_axis, transpose, true_divide, where, zeros)
from ._op_layer import OpLayer
from ..layers._tracing import tracing

__all__ = ["add", "subtract", "multiply", "divide", "true_divide", "negative", "power",
           "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
           "exp", "log", "sqrt", "square", "abs", "absolute", "sign", "maximum", "minimum",
           "where", "clip", "sum", "mean", "max", "min", "argmax", "argmin", "logsumexp",
           "reshape", "transpose", "expand_dims", "squeeze", "concatenate", "stack", "split",
           "take", "take_along_axis", "matmul", "dot", "einsum", "zeros", "ones", "cast", "convert_to_tensor",
           "stop_gradient", "shape", "relu", "sigmoid", "tanh", "gelu", "silu", "swish",
           "leaky_relu", "elu", "softmax", "log_softmax", "one_hot", "OpLayer"]


# ---------------------------------------------------------------------------------- operators
# KerasTensor's arithmetic, attached here (layers.core cannot import ops: ops builds on it).
def _binary(fn, reflected=False):
    def method(self, other):
        return fn(other, self) if reflected else fn(self, other)
    return method


def _no_value(tensor, what, instead):
    where = ("a custom layer's (or model's) call() runs once, on symbolic tensors, to build the "
             "model's graph: the training step then runs in C++ without Python, so no value "
             "exists when call() runs" if tracing() else
             "it has no value while the model is being defined (the step runs in C++)")
    return TypeError(f"The symbolic tensor {tensor.name} {tensor.shape} cannot be used as {what}: "
                     f"{where}. {instead}")


_WHERE = ("Choose values elementwise with ff.ops.where(condition, x1, x2) (and "
          "ff.ops.maximum/minimum/clip); a Python branch may use Python values (the `training` "
          "argument, shapes, the layer's settings).")


def _bool(self):
    raise _no_value(self, "a Python bool (if/while/and/or/not)", _WHERE)


def _float(self):
    raise _no_value(self, "a Python number (float/int)", _WHERE)


def _iter(self):
    raise _no_value(self, "an iterable (a for loop or unpacking)",
                    "Index it (x[:, 0]) or split it with ff.ops.split / ff.ops.unstack-like "
                    "slices; iterate over Python ranges of its known sizes instead.")


def _array(self, dtype=None, copy=None):
    raise _no_value(self, "a NumPy array", "Compute with ff.ops, which builds graph nodes on "
                    "symbolic tensors and computes at once on arrays.")


def _numpy(self):
    """A symbolic tensor has no values: raises TypeError saying where values come from."""
    raise _no_value(self, "an array (.numpy())", "Call the model or layer on arrays (or use "
                    "predict) to get values.")


KerasTensor.__add__ = _binary(add)
KerasTensor.__radd__ = _binary(add, True)
KerasTensor.__sub__ = _binary(subtract)
KerasTensor.__rsub__ = _binary(subtract, True)
KerasTensor.__mul__ = _binary(multiply)
KerasTensor.__rmul__ = _binary(multiply, True)
KerasTensor.__truediv__ = _binary(divide)
KerasTensor.__rtruediv__ = _binary(divide, True)
KerasTensor.__pow__ = _binary(power)
KerasTensor.__rpow__ = _binary(power, True)
KerasTensor.__matmul__ = _binary(matmul)
KerasTensor.__rmatmul__ = _binary(matmul, True)
KerasTensor.__lt__ = _binary(less)
KerasTensor.__le__ = _binary(less_equal)
KerasTensor.__gt__ = _binary(greater)
KerasTensor.__ge__ = _binary(greater_equal)
KerasTensor.__neg__ = lambda self: negative(self)
KerasTensor.__pos__ = lambda self: self
KerasTensor.__abs__ = lambda self: abs(self)
KerasTensor.__bool__ = _bool
KerasTensor.__float__ = _float
KerasTensor.__int__ = _float
KerasTensor.__index__ = _float
KerasTensor.__iter__ = _iter
KerasTensor.__array__ = _array
KerasTensor.numpy = _numpy
KerasTensor.__getitem__ = _getitem  # x[:, 0], x[..., 1:3], x[:, None]
KerasTensor.__array_ufunc__ = None  # NumPy defers: array + tensor calls tensor.__radd__


# Weights and regularizers compute with ff.ops on symbolic tensors (they cannot import it).
_variables._register_ops(_sys.modules[__name__])
_regularizers._register_ops(_sys.modules[__name__])
