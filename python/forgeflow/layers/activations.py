"""Activation layers (Keras 3 names, arguments and defaults):

``Softmax(axis=-1)``, ``ReLU(max_value=None, negative_slope=0.0, threshold=0.0)``,
``LeakyReLU(negative_slope=0.3)``, ``ELU(alpha=1.0)`` and
``PReLU(alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None,
shared_axes=None)``. Softmax keeps its output float32 under mixed precision, as
``Activation("softmax")`` does.

Stricter than Keras: numbers must be finite real numbers (not strings, booleans or NaN),
``Softmax`` normalises along the last axis only, and ``PReLU``'s ``shared_axes`` must name input
axes from 1 (Keras silently misreads 0 and negative axes).
"""
import numbers
import warnings

from .. import _core
from .core import Layer, _initializer_name, _seed

__all__ = ["Softmax", "ReLU", "LeakyReLU", "ELU", "PReLU"]


def _finite(value, layer, name):
    """A finite real number as float; TypeError/ValueError naming the layer and argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{layer}: `{name}` must be a number, received {name}={value!r}")
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{layer}: `{name}` must be a finite number, received {name}={value!r}")
    return value


class Softmax(Layer):
    """Softmax along the last axis: ``exp(x) / sum(exp(x))``, each row summing to 1. The output
    stays float32 under a mixed-precision policy (probabilities feeding a loss)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise ValueError(f"Softmax: axis must be an integer (the last axis, -1); received "
                             f"axis={axis!r}")
        self.axis = int(axis)
        self._core = _core.Softmax(self.name, _seed(), self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class ReLU(Layer):
    """Rectified linear unit with Keras's options: ``min(x, max_value)`` where
    ``x > threshold``, else ``negative_slope * (x - threshold)``. With the defaults this is
    ``max(x, 0)``."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None:
            max_value = _finite(max_value, "ReLU", "max_value")
            if max_value < 0.0:
                raise ValueError("max_value of a ReLU layer cannot be a negative value. "
                                 f"Received: {max_value}")
        if negative_slope is None or _finite(negative_slope, "ReLU", "negative_slope") < 0.0:
            raise ValueError("negative_slope of a ReLU layer cannot be a negative value. "
                             f"Received: {negative_slope}")
        if threshold is None or _finite(threshold, "ReLU", "threshold") < 0.0:
            raise ValueError("threshold of a ReLU layer cannot be a negative value. "
                             f"Received: {threshold}")
        self.max_value = max_value
        self.negative_slope = float(negative_slope)
        self.threshold = float(threshold)
        self._core = _core.ReLU(self.name, _seed(), self.max_value, self.negative_slope,
                                self.threshold)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(Layer):
    """Leaky rectified linear unit: ``x`` where ``x >= 0``, ``negative_slope * x`` below.
    (``alpha=`` is accepted with Keras's deprecation warning.)"""

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.",
                          stacklevel=2)
        super().__init__(**kwargs)
        if negative_slope is None or _finite(negative_slope, "LeakyReLU",
                                             "negative_slope") < 0.0:
            raise ValueError("The negative_slope value of a Leaky ReLU layer cannot be None or "
                             f"negative value. Expected a float. Received: "
                             f"negative_slope={negative_slope}")
        self.negative_slope = float(negative_slope)
        self._core = _core.LeakyReLU(self.name, _seed(), self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
    """Exponential linear unit: ``x`` where ``x > 0``, ``alpha * (exp(x) - 1)`` below."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = _finite(alpha, "ELU", "alpha")
        self._core = _core.ELU(self.name, _seed(), self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


def _shared_axes(value):
    if value is None:
        return None
    axes = list(value) if isinstance(value, (list, tuple)) else [value]
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, numbers.Integral) or a < 1:
            raise ValueError(
                "PReLU: shared_axes must be input axes from 1 (the batch axis 0 is never shared, "
                f"negative axes are not accepted), e.g. shared_axes=[1, 2] for one alpha per "
                f"channel of images; received shared_axes={value!r}")
    return [int(a) for a in axes]


class PReLU(Layer):
    """Parametric ReLU: ``x`` where ``x >= 0``, ``alpha * x`` below, with ``alpha`` learned. Its
    weight ``alpha`` has the input's per-sample shape, with size 1 along each of
    ``shared_axes`` (``shared_axes=[1, 2]`` on (N, H, W, C) images learns one alpha per
    channel)."""

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("alpha_regularizer", alpha_regularizer),
                           ("alpha_constraint", alpha_constraint)):
            if value is not None:
                raise ValueError(f"PReLU: {arg} is not supported; leave it None (received "
                                 f"{arg}={value!r})")
        self.alpha_initializer = _initializer_name(alpha_initializer, "alpha_initializer")
        self.shared_axes = _shared_axes(shared_axes)
        self._core = _core.PReLU(self.name, _seed(), self.alpha_initializer,
                                 self.shared_axes or [])

    def get_config(self):
        return {**super().get_config(), "alpha_initializer": self.alpha_initializer,
                "alpha_regularizer": None, "alpha_constraint": None,
                "shared_axes": self.shared_axes}
