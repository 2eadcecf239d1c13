"""Weights as Keras variables: ``layer.weights``, ``layer.trainable_weights``,
``layer.non_trainable_weights`` (and the model's) are ``Variable`` objects naming one weight of
one layer ("dense/kernel"), with ``.numpy()`` to read it, ``.assign(value)`` /
``.assign_add`` / ``.assign_sub`` to write it (shape checked, nothing cast from another shape),
``shape``, ``dtype``, ``trainable``, and NumPy interoperability (``np.asarray(v)``, arithmetic
gives NumPy arrays). A Variable reads and writes the layer's weights where they live (its model's
buffer, on the model's device), so it always shows the current values."""
import numpy as np

__all__ = ["Variable"]


class Variable:
    """One weight of a layer (see the module docstring)."""

    __array_priority__ = 10  # NumPy defers to our operators (v + array calls Variable.__add__)

    def __init__(self, layer, index, name, shape, trainable):
        self._layer = layer
        self._index = index
        self.name = name
        self.path = f"{layer.name}/{name}"
        self.shape = tuple(shape)
        self.dtype = "float32"
        self.trainable = trainable

    def numpy(self):
        """The current value (a copy)."""
        return self._layer.get_weights()[self._index]

    @property
    def value(self):
        """The current value (a copy), as ``numpy()``."""
        return self.numpy()

    def assign(self, value):
        """Writes `value` (an array of exactly this shape; a number fills it)."""
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
        return self.assign(self.numpy() + np.asarray(delta, dtype=np.float32))

    def assign_sub(self, delta):
        """Subtracts `delta` from the value."""
        return self.assign(self.numpy() - np.asarray(delta, dtype=np.float32))

    def __array__(self, dtype=None, copy=None):
        value = self.numpy()
        return value if dtype is None else value.astype(dtype)

    def __repr__(self):
        return (f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, "
                f"value={self.numpy()!r}>")

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, index):
        return self.numpy()[index]

    # Arithmetic through NumPy (the results are arrays).
    def __neg__(self):
        return -self.numpy()

    def __add__(self, other):
        return self.numpy() + np.asarray(other)

    def __radd__(self, other):
        return np.asarray(other) + self.numpy()

    def __sub__(self, other):
        return self.numpy() - np.asarray(other)

    def __rsub__(self, other):
        return np.asarray(other) - self.numpy()

    def __mul__(self, other):
        return self.numpy() * np.asarray(other)

    def __rmul__(self, other):
        return np.asarray(other) * self.numpy()

    def __truediv__(self, other):
        return self.numpy() / np.asarray(other)

    def __rtruediv__(self, other):
        return np.asarray(other) / self.numpy()

    def __matmul__(self, other):
        return self.numpy() @ np.asarray(other)

    def __rmatmul__(self, other):
        return np.asarray(other) @ self.numpy()

    def __pow__(self, other):
        return self.numpy() ** np.asarray(other)


def layer_variables(layer):
    """The layer's weights as Variables, in get_weights() order (empty before it has weights)."""
    if not layer._core.built or not layer.get_weights():
        return []
    names = layer._core.param_names
    trainable = layer._core.param_trainable
    shapes = [w.shape for w in layer.get_weights()]
    return [Variable(layer, i, names[i], shapes[i], bool(trainable[i]) and layer.trainable)
            for i in range(len(names))]
