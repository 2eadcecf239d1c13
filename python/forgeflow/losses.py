"""Keras-compatible losses (string names or classes), computed by the C++ core.

``compile(loss="sparse_categorical_crossentropy")`` and
``compile(loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True))`` are equivalent
apart from ``from_logits``. Targets are checked against outputs, never broadcast.
"""
import numpy as np

from . import _core

__all__ = ["Loss", "MeanSquaredError", "MeanAbsoluteError", "Huber", "BinaryCrossentropy",
           "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "get"]


class Loss:
    """Base of the built-in losses. ``loss(y_true, y_pred)`` returns the batch mean as a float."""

    _core_name = None
    _keras_stricter = ("targets must have the outputs' shape ((N,) for (N, 1) aside), never "
                       "broadcast; sparse losses take integer labels, float labels are not cast")

    def __init__(self, from_logits=False, name=None, **core_args):
        self.from_logits = bool(from_logits)
        self.name = name or self._core_name
        self._core = _core.make_loss(self._core_name, self.from_logits, **core_args)

    @property
    def sparse(self):
        """True for losses that take integer class indices as targets."""
        return self._core.sparse

    def __call__(self, y_true, y_pred):
        y_pred = np.ascontiguousarray(y_pred, dtype=np.float32)
        y_true = np.asarray(y_true)
        if self.sparse:
            if y_true.dtype.kind not in "iu":
                raise TypeError(f"{self._core_name} expects integer class indices, received {y_true.dtype}")
            y_true = np.ascontiguousarray(y_true, dtype=np.int64)
        else:
            y_true = np.ascontiguousarray(y_true, dtype=np.float32)
        return float(self._core(y_true, y_pred))

    def get_config(self):
        """The loss's constructor arguments as a dict (``from_config``'s input)."""
        return {"name": self.name, "from_logits": self.from_logits}

    @classmethod
    def from_config(cls, config):
        """A new loss from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} from_logits={self.from_logits}>"


class MeanSquaredError(Loss):
    """mean((y_true - y_pred)**2) over the last axis, averaged over the batch."""
    _core_name = "mean_squared_error"

    def __init__(self, name=None):
        super().__init__(False, name)

    def get_config(self):
        return {"name": self.name}


class MeanAbsoluteError(Loss):
    """mean(|y_true - y_pred|) over the last axis, averaged over the batch."""
    _core_name = "mean_absolute_error"

    def __init__(self, name=None):
        super().__init__(False, name)

    def get_config(self):
        return {"name": self.name}


class Huber(Loss):
    """Quadratic for |error| <= delta, linear beyond (Keras's Huber, delta=1.0)."""
    _core_name = "huber"

    def __init__(self, delta=1.0, name=None):
        self.delta = float(delta)
        super().__init__(False, name or "huber_loss", delta=self.delta)

    def get_config(self):
        return {"name": self.name, "delta": self.delta}


class BinaryCrossentropy(Loss):
    """Cross-entropy for 0/1 targets; ``from_logits=True`` when the model outputs logits."""
    _core_name = "binary_crossentropy"


class CategoricalCrossentropy(Loss):
    """Cross-entropy for one-hot targets of shape (N, classes)."""
    _core_name = "categorical_crossentropy"


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy for integer class indices of shape (N,) against (N, classes) outputs."""
    _core_name = "sparse_categorical_crossentropy"


_ALIASES = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError, "meansquarederror": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError, "meanabsoluteerror": MeanAbsoluteError,
    "huber": Huber, "huber_loss": Huber,
    "binary_crossentropy": BinaryCrossentropy, "binarycrossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy, "categoricalcrossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "sparsecategoricalcrossentropy": SparseCategoricalCrossentropy,
}


def get(identifier):
    """A Loss from a name ('mse', 'sparse_categorical_crossentropy', ...) or a Loss instance."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier.lower())
        if cls is None:
            raise ValueError(
                f"Unknown loss: '{identifier}'. Expected one of: " + ", ".join(sorted(
                    k for k in _ALIASES if "_" in k or k in ("mse", "mae", "huber")))
            )
        return cls()
    raise TypeError(f"loss must be a loss name or a forgeflow.losses.Loss, received {identifier!r}")
