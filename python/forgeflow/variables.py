"""Weights as Keras variables: ``layer.weights``, ``layer.trainable_weights``,
``layer.non_trainable_weights`` (and the model's) are ``Variable`` objects naming one weight of
one layer ("dense/kernel"), with ``.numpy()`` to read it, ``.assign(value)`` /
``.assign_add`` / ``.assign_sub`` to write it (shape checked, nothing cast from another shape),
``shape``, ``dtype``, ``trainable``, and NumPy interoperability (``np.asarray(v)``, arithmetic
gives NumPy arrays). A Variable reads and writes the layer's weights where they live (its model's
buffer, on the model's device), so it always shows the current values."""
import numpy as np

from ._keras_tensor import KerasTensor
from .layers._tracing import tracing

__all__ = ["Variable"]


# ff.ops, registered by forgeflow.ops when it is imported (it builds on this module: no import
# back): what a weight's arithmetic uses on symbolic tensors.
_ops = None


def _register_ops(module):
    global _ops
    _ops = module


def _tracing():
    return tracing()


def _symbolic(value):
    return isinstance(value, KerasTensor)


class Variable:
    """One weight of a layer (see the module docstring). A custom layer's weight (made by
    ``add_weight``) is also a value of the model's graph: inside ``call`` on symbolic tensors,
    ``ff.ops`` and the arithmetic operators read it as a graph value (its gradient flows to the
    one weight however many ops read it)."""

    __array_priority__ = 10  # NumPy defers to our operators (v + array calls Variable.__add__)

    def __init__(self, layer, index, name, shape, trainable, owner=None, weight_core=None,
                 regularizer=None):
        self._layer = layer
        self._index = index
        self.name = name
        self.path = f"{layer.name}/{name}"
        self.shape = tuple(shape)
        self.dtype = "float32"
        self._trainable = bool(trainable)
        self._owner = owner              # the custom layer whose add_weight made it
        self._weight_core = weight_core  # its C++ Weight (a graph value)
        self.regularizer = regularizer
        self.constraint = None

    @property
    def trainable(self):
        """Trained by the optimizer: created trainable, and its layer not frozen."""
        return self._trainable and (self._owner is None or self._owner.trainable)

    def _tracing(self):
        """True when this weight reads as a graph value (a custom layer's weight, while a call()
        is traced)."""
        return self._weight_core is not None and _tracing()

    def _symbolic(self):
        """The weight as a symbolic tensor of the graph being traced (no batch axis)."""
        if self._weight_core is None:
            raise TypeError(
                f'The weight "{self.path}" belongs to a built-in layer: inside a traced call() '
                "use that layer itself (call it on a tensor), or make the weight with "
                "self.add_weight in your custom layer.")
        tensor = self.__dict__.get("_symbolic_tensor")
        if tensor is None:
            tensor = KerasTensor(self.shape, self.path)
            tensor._batched = False
            tensor._weight = self._weight_core
            tensor._variable = self
            self.__dict__["_symbolic_tensor"] = tensor
        return tensor

    def numpy(self):
        """The current value (a copy)."""
        return self._layer.get_weights()[self._index]

    @property
    def value(self):
        """The current value (a copy), as ``numpy()``."""
        return self.numpy()

    def _refuse_symbolic_update(self, value, what):
        if _symbolic(value) or self._tracing():
            raise TypeError(
                f'{what} on the weight "{self.path}" inside a call() traced on symbolic tensors: '
                "the model's step runs in C++, where a layer cannot update its weights itself "
                "(the optimizer updates trainable ones). Compute the value with ff.ops and "
                "return it (or add it with self.add_loss); the update works when the layer is "
                "called on arrays.")

    def assign(self, value):
        """Writes `value` (an array of exactly this shape; a number fills it)."""
        self._refuse_symbolic_update(value, "assign")
        array = np.asarray(value, dtype=np.float32)
        if array.ndim == 0:
            array = np.full(self.shape, array, np.float32)
        if array.shape != self.shape:
            raise ValueError(f'Variable "{self.path}" has shape {self.shape}; assign received an '
                             f"array of shape {array.shape}")
        weights = self._layer.get_weights()
        weights[self._index] = array
        self._layer.set_weights(weights)
        return self

    def assign_add(self, delta):
        """Adds `delta` (broadcast as NumPy does against this shape) to the value."""
        self._refuse_symbolic_update(delta, "assign_add")
        return self.assign(self.numpy() + np.asarray(delta, dtype=np.float32))

    def assign_sub(self, delta):
        """Subtracts `delta` from the value."""
        self._refuse_symbolic_update(delta, "assign_sub")
        return self.assign(self.numpy() - np.asarray(delta, dtype=np.float32))

    def __array__(self, dtype=None, copy=None):
        if self._tracing():
            raise TypeError(
                f'The weight "{self.path}" was converted to an array inside a call() traced on '
                "symbolic tensors: its value would be baked in as a constant and never trained. "
                "Compute with ff.ops (ff.ops.matmul(inputs, self.w), self.w * 2, ...), which "
                "read it as a graph value.")
        value = self.numpy()
        return value if dtype is None else value.astype(dtype)

    def __repr__(self):
        return (f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, "
                f"value={self.numpy()!r}>")

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, index):
        if self._tracing():
            return self._symbolic()[index]
        return self.numpy()[index]

    # Arithmetic: through ff.ops on symbolic tensors (inside a traced call()), else through
    # NumPy (the results are arrays).
    def _op(self, name, other, reflected=False):
        if _symbolic(other) or self._tracing():
            fn = getattr(_ops, name)
            return fn(other, self) if reflected else fn(self, other)
        return None

    def __neg__(self):
        if self._tracing():
            return _ops.negative(self)
        return -self.numpy()

    def __add__(self, other):
        r = self._op("add", other)
        return self.numpy() + np.asarray(other) if r is None else r

    def __radd__(self, other):
        r = self._op("add", other, True)
        return np.asarray(other) + self.numpy() if r is None else r

    def __sub__(self, other):
        r = self._op("subtract", other)
        return self.numpy() - np.asarray(other) if r is None else r

    def __rsub__(self, other):
        r = self._op("subtract", other, True)
        return np.asarray(other) - self.numpy() if r is None else r

    def __mul__(self, other):
        r = self._op("multiply", other)
        return self.numpy() * np.asarray(other) if r is None else r

    def __rmul__(self, other):
        r = self._op("multiply", other, True)
        return np.asarray(other) * self.numpy() if r is None else r

    def __truediv__(self, other):
        r = self._op("divide", other)
        return self.numpy() / np.asarray(other) if r is None else r

    def __rtruediv__(self, other):
        r = self._op("divide", other, True)
        return np.asarray(other) / self.numpy() if r is None else r

    def __matmul__(self, other):
        r = self._op("matmul", other)
        return self.numpy() @ np.asarray(other) if r is None else r

    def __rmatmul__(self, other):
        r = self._op("matmul", other, True)
        return np.asarray(other) @ self.numpy() if r is None else r

    def __pow__(self, other):
        r = self._op("power", other)
        return self.numpy() ** np.asarray(other) if r is None else r

    def __rpow__(self, other):
        r = self._op("power", other, True)
        return np.asarray(other) ** self.numpy() if r is None else r


def layer_variables(layer):
    """The layer's weights as Variables, in get_weights() order (empty before it has weights)."""
    if not layer._core.built or not layer.get_weights():
        return []
    names = layer._core.param_names
    trainable = layer._core.param_trainable
    shapes = [w.shape for w in layer.get_weights()]
    return [Variable(layer, i, names[i], shapes[i], bool(trainable[i]) and layer.trainable)
            for i in range(len(names))]


class _WeightSlot:
    """The layer-like holder of one custom-layer weight (a C++ Weight): what a Variable made by
    ``add_weight`` reads and writes."""

    def __init__(self, core, layer_name):
        self.core = core
        self.name = layer_name

    def get_weights(self):
        return list(self.core.get_weights())

    def set_weights(self, weights):
        self.core.set_weights([np.asarray(w, dtype=np.float32, order="C") for w in weights])


def weight_variable(owner, core, name, shape, trainable, regularizer):
    """The Variable of a custom layer's weight ``core`` (a C++ Weight with its values)."""
    return Variable(_WeightSlot(core, owner.name), 0, name, shape, trainable, owner=owner,
                    weight_core=core, regularizer=regularizer)
