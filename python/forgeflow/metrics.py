"""Keras-compatible metrics. ``"accuracy"`` resolves, as in Keras, to binary, categorical or
sparse categorical accuracy from the loss and the output shape. Metric values are epoch
averages accumulated in the C++ core."""
from . import _core

__all__ = ["Metric", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
           "MeanSquaredError", "MeanAbsoluteError", "resolve"]


class Metric:
    """A metric specification: kind (what the core computes) and the name shown in logs."""

    _kind = None
    _default_name = None

    def __init__(self, name=None):
        self.name = name or self._default_name

    def _make_core(self, threshold=0.5):
        return _core.make_metric(self._kind, self.name, threshold)

    def get_config(self):
        """The metric's constructor arguments as a dict (``from_config``'s input)."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        """A new metric from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class BinaryAccuracy(Metric):
    """Share of predictions on the right side of ``threshold`` (0.5)."""
    _kind, _default_name = "binary_accuracy", "binary_accuracy"

    def __init__(self, name=None, threshold=0.5):
        super().__init__(name)
        self.threshold = float(threshold)

    def _make_core(self, threshold=None):
        return _core.make_metric(self._kind, self.name, self.threshold if threshold is None else threshold)

    def get_config(self):
        return {"name": self.name, "threshold": self.threshold}


class CategoricalAccuracy(Metric):
    """argmax(y_pred) == argmax(y_true) for one-hot targets."""
    _kind, _default_name = "categorical_accuracy", "categorical_accuracy"


class SparseCategoricalAccuracy(Metric):
    """argmax(y_pred) == y_true for integer class indices."""
    _kind, _default_name = "sparse_categorical_accuracy", "sparse_categorical_accuracy"


class MeanSquaredError(Metric):
    """Mean squared error between targets and outputs, averaged over the epoch (``"mse"``)."""

    _kind, _default_name = "mean_squared_error", "mean_squared_error"


class MeanAbsoluteError(Metric):
    """Mean absolute error between targets and outputs, averaged over the epoch (``"mae"``)."""

    _kind, _default_name = "mean_absolute_error", "mean_absolute_error"


_BY_NAME = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
}


def resolve(identifier, loss, output_shape):
    """The core metric for ``identifier`` given the compiled loss and the model's output shape.

    Like Keras, a string metric keeps the string as its log name ("acc" shows as "acc")."""
    if isinstance(identifier, Metric):
        if isinstance(identifier, BinaryAccuracy) and loss.from_logits and identifier.threshold == 0.5:
            return identifier._make_core(0.0)
        return identifier._make_core()
    if not isinstance(identifier, str):
        raise TypeError(f"metrics must be names or forgeflow.metrics objects, received {identifier!r}")
    key = identifier.lower()
    if key in ("accuracy", "acc"):
        if loss.sparse:
            kind = "sparse_categorical_accuracy"
        elif loss._core_name == "binary_crossentropy" or (output_shape and output_shape[-1] == 1):
            kind = "binary_accuracy"
        else:
            kind = "categorical_accuracy"
        # On logits the decision boundary of sigmoid(x) > 0.5 is x > 0.
        threshold = 0.0 if (kind == "binary_accuracy" and loss.from_logits) else 0.5
        return _core.make_metric(kind, identifier, threshold)
    cls = _BY_NAME.get(key)
    if cls is None:
        raise ValueError(f"Unknown metric: '{identifier}'. Expected 'accuracy' or one of: "
                         + ", ".join(sorted(_BY_NAME)))
    if cls in (SparseCategoricalAccuracy,) and not loss.sparse:
        pass  # the core raises a clear error at fit time if targets do not fit
    return _core.make_metric(cls._kind, identifier, 0.5)
