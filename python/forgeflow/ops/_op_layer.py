"""How an ``ff.ops`` call runs: on symbolic tensors (``ff.Input`` and what layers and ops make of
it) it becomes an ``OpLayer``, a node of the model's C++ graph with its forward and backward
written against the backend contract (cpp/src/layers/ops/); on arrays and Python numbers it runs
at once, through the same C++ op (``_core.run_op``: the op built for the arrays' shapes and run
once on the default device), and returns a NumPy array. See docs/ops.md.

An op's operands are graph inputs (symbolic tensors), scalars (Python numbers, kept in the op) or
constant arrays (NumPy values next to a symbolic tensor, kept in the op and saved in its config).
"""
import numbers

import numpy as np

from .. import _core
from .._eager import eager
from .._naming import unique_name
from ..layers.core import KerasTensor, Layer, _seed
from ..variables import Variable

__all__ = ["OpLayer", "call_op", "is_symbolic", "symbolic_of"]

UNARY_OPS = ("negative", "exp", "log", "sqrt", "square", "abs", "sign", "trunc", "not_zero",
             "clip", "relu", "sigmoid", "tanh", "gelu", "silu", "leaky_relu", "elu",
             "stop_gradient")
BINARY_OPS = ("add", "subtract", "multiply", "divide", "power", "maximum", "minimum", "equal",
              "not_equal", "less", "less_equal", "greater", "greater_equal")
_ACTIVATION_OPS = ("softmax", "log_softmax", "sigmoid", "relu", "tanh", "gelu", "silu",
                   "leaky_relu", "elu")
# Ops whose second operand holds indices: an integer ff.Input may feed it (its values are whole
# numbers, carried as float32 like every value of the graph).
_INDEX_OPS = ("take",)
REDUCE_OPS = ("sum", "mean", "max", "min", "argmax", "argmin", "logsumexp")


def _make_core(op, name, seed, arguments, operands):
    """The C++ op layer for an op name, its arguments and its operands (None: an input, a float:
    a scalar, an array: a constant)."""
    a = arguments
    if op in UNARY_OPS:
        return _core.UnaryOp(name, op, seed, float(a.get("p0", 0.0)), float(a.get("p1", 0.0)))
    if op in BINARY_OPS:
        return _core.BinaryOp(name, op, seed, operands)
    if op == "where":
        return _core.WhereOp(name, seed, operands)
    if op in REDUCE_OPS:
        return _core.ReduceOp(name, op, seed, a.get("axis"), bool(a.get("keepdims", False)))
    if op in ("softmax", "log_softmax"):
        return _core.SoftmaxOp(name, op, seed, int(a.get("axis", -1)))
    if op in ("reshape", "expand_dims", "squeeze"):
        return _core.ReshapeOp(name, op, seed, a.get("newshape"), a.get("axis"))
    if op == "transpose":
        return _core.TransposeOp(name, seed, a.get("axes"))
    if op in ("concatenate", "stack"):
        return _core.ConcatOp(name, op, seed, operands, int(a["axis"]))
    if op == "split":
        return _core.SliceOp(name, seed, int(a["axis"]), int(a["start"]), int(a["stop"]))
    if op == "matmul":
        return _core.MatmulOp(name, seed, operands)
    if op == "take":
        axis = a.get("axis")
        return _core.TakeOp(name, seed, operands, None if axis is None else int(axis))
    if op == "one_hot":
        return _core.OneHotOp(name, seed, int(a["num_classes"]))
    if op in ("random_normal", "random_uniform", "dropout"):  # ff.random
        return _core.RandomOp(name, op, int(a.get("seed", seed)), a.get("shape") or [],
                              float(a.get("p0", 0.0)), float(a.get("p1", 0.0)))
    raise ValueError(f"unknown ff.ops operation {op!r}")


def _operand_to_config(operand):
    if operand is None:
        return "input"
    if isinstance(operand, str):  # "unbatched": an input without a batch axis (a weight)
        return operand
    if isinstance(operand, float):
        return {"scalar": operand}
    return {"constant": operand.tolist(), "shape": list(operand.shape)}


def _operand_from_config(spec):
    if isinstance(spec, np.ndarray):
        return np.asarray(spec, dtype=np.float32, order="C")
    if spec is None or (isinstance(spec, str) and spec == "input"):
        return None
    if isinstance(spec, str) and spec == "unbatched":
        return "unbatched"
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return float(spec)
    if isinstance(spec, dict) and "scalar" in spec:
        return float(spec["scalar"])
    if isinstance(spec, dict) and "constant" in spec:
        value = np.asarray(spec["constant"], dtype=np.float32)
        shape = tuple(spec.get("shape", value.shape))
        if value.shape != shape:
            raise ValueError(f"an op constant of shape {shape} holds values of shape "
                             f"{value.shape}")
        return np.asarray(value, order="C")
    raise ValueError(f"an op operand must be \"input\", {{\"scalar\": v}} or {{\"constant\": "
                     f"values, \"shape\": shape}}; received {spec!r}")


class OpLayer(Layer):
    """The graph node of one ``ff.ops`` call on symbolic tensors (``op``: the ff.ops name,
    ``arguments``: its settings, ``operands``: ``"input"``, a scalar or a constant array each).
    It computes in float32 under any dtype policy, has no weights, and is saved with its model
    like any layer."""

    def __init__(self, op, arguments=None, operands=None, **kwargs):
        if kwargs.get("name") is None:
            kwargs["name"] = unique_name(op)
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.op = op
        self.arguments = dict(arguments or {})
        self._operands = [_operand_from_config(o) for o in (operands or ["input"])]
        self._core = _make_core(op, self.name, _seed(), self.arguments, self._operands)
        # Inputs without a batch axis (a custom layer's weights, values computed from them):
        # marked before the op is built.
        inputs = [o for o in self._operands if o is None or isinstance(o, str)]
        for i, o in enumerate(inputs):
            if isinstance(o, str):
                self._core.set_input_batched(i, False)

    @property
    def activation(self):
        """The activation this op applies ("softmax", "sigmoid", ...), None for other ops: the
        compile-time checks read it (a softmax head built with ff.ops is not "linear")."""
        return self.op if self.op in _ACTIVATION_OPS else None

    def get_config(self):
        return {**super().get_config(), "op": self.op, "arguments": dict(self.arguments),
                "operands": [_operand_to_config(o) for o in self._operands]}

    def __repr__(self):
        return f"<OpLayer ff.ops.{self.op} name={self.name}, built={self.built}>"


def _traced(v):
    """A custom layer's weight read inside a traced call(): its graph value."""
    return isinstance(v, Variable) and v._tracing()


def symbolic_of(v):
    """A traced custom-layer weight as its graph value; anything else unchanged."""
    return v._symbolic() if _traced(v) else v


def is_symbolic(values):
    return any(isinstance(v, KerasTensor) or _traced(v) for v in values)


def _is_scalar(v):
    return (isinstance(v, (numbers.Number, np.number, np.bool_)) and not isinstance(v, complex)) or (
        isinstance(v, np.ndarray) and v.ndim == 0)


def _as_array(value, op):
    try:
        arr = np.asarray(value)
    except Exception as e:  # ragged lists and the like
        raise TypeError(f"ff.ops.{op}: cannot use {type(value).__name__} as a tensor: {e}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"ff.ops.{op} computes on numbers; received a value of dtype {arr.dtype}"
                        f" ({type(value).__name__})")
    return np.asarray(arr, dtype=np.float32, order="C")  # (ascontiguousarray makes 0-d 1-d)


def call_op(op, values, arguments=None, scalars=True):
    """Runs ``op`` on ``values`` (its operands in order): a new graph node when one of them is a
    symbolic tensor (the others become scalars or constants), else at once on arrays."""
    arguments = dict(arguments or {})
    if is_symbolic(values):
        operands, inputs = [], []
        for v in values:
            if _traced(v):
                v = v._symbolic()
            if isinstance(v, KerasTensor):
                if v.dtype != "float32" and not (op in _INDEX_OPS and len(operands) == 1
                                                  and v.dtype in ("int32", "int64")):
                    raise TypeError(f'ff.ops.{op}: input "{v.name}" has dtype {v.dtype}; ops '
                                    "compute on float32 tensors (apply a lookup layer first)")
                operands.append(None if v._batched else "unbatched")
                inputs.append(v)
            elif scalars and _is_scalar(v):
                operands.append(float(np.asarray(v, dtype=np.float32)))
            else:
                operands.append(_as_array(v, op))
        layer = OpLayer(op, arguments, operands)
        return layer(inputs[0] if len(inputs) == 1 else inputs)
    arrays = [_as_array(v, op) for v in values]
    core = _make_core(op, op, 0, arguments, [None] * len(arrays))
    return eager(_core.run_op(core, arrays))  # arrays with TensorFlow's .numpy()
