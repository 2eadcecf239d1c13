"""Normalization layers (Keras 3 names, arguments and defaults), channels-last:

``BatchNormalization(axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
moving_variance_initializer="ones")``: batch statistics in training (the moving mean and
variance are updated in the forward pass, also by ``model(x, training=True)``, as in Keras),
moving statistics at inference. Weights: gamma, beta (trainable), moving_mean,
moving_variance (non-trainable).

``LayerNormalization(axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
beta_initializer="zeros", gamma_initializer="ones", ...)``: each sample normalised over its
trailing axes with its own mean and variance (no moving statistics); gamma and beta stay
float32 under mixed precision.

``Normalization(axis=-1, mean=None, variance=None, invert=False)`` with ``adapt(data)``:
``(x - mean) / max(sqrt(variance), 1e-7)`` per feature of the last axis (or one mean for all
values with ``axis=None``). ``adapt`` streams the data in chunks with float64 accumulation and
works before the layer is built (the values are written into the weights when the model builds)
and after (they are written at once). Using the layer before ``adapt`` (and without ``mean=`` /
``variance=``) raises instead of silently normalising with 0 and 1.
"""
import numbers

import numpy as np

from .. import _core
from .core import Layer, _initializer_name, _seed

__all__ = ["BatchNormalization", "Normalization", "LayerNormalization"]

# Rows per adapt() chunk when no batch_size is given: about a million values each.
_ADAPT_CHUNK_VALUES = 1 << 20


def _real(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number, received {name}={value!r}")
    return float(value)


def _axis(value, layer, allow_none):
    """The axis as an int (None when allowed); a one-element list/tuple is accepted as Keras does."""
    if value is None and allow_none:
        return None
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        options = "-1 (the last axis) or None" if allow_none else "-1 (the last axis)"
        raise ValueError(f"{layer}: axis must be {options}; received axis={value!r}. Only the "
                         "channels-last feature axis is supported.")
    return int(value)


class BatchNormalization(Layer):
    """Normalises each feature of the last axis with the batch mean and variance in training and
    with their moving averages at inference, then scales by gamma and shifts by beta."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones", **kwargs):
        super().__init__(**kwargs)
        self.axis = _axis(axis, "BatchNormalization", allow_none=False)
        self.momentum = _real(momentum, "momentum")
        if not 0.0 <= self.momentum <= 1.0:
            raise ValueError(f"`momentum` must be between 0 and 1, received momentum={momentum!r}")
        self.epsilon = _real(epsilon, "epsilon")
        if self.epsilon <= 0.0:
            raise ValueError(f"`epsilon` must be positive, received epsilon={epsilon!r}")
        for flag, name in ((center, "center"), (scale, "scale")):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"BatchNormalization: `{name}` must be True or False, "
                                f"received {flag!r}")
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = _initializer_name(beta_initializer, "beta_initializer")
        self.gamma_initializer = _initializer_name(gamma_initializer, "gamma_initializer")
        self.moving_mean_initializer = _initializer_name(moving_mean_initializer,
                                                         "moving_mean_initializer")
        self.moving_variance_initializer = _initializer_name(moving_variance_initializer,
                                                             "moving_variance_initializer")
        self._core = _core.BatchNormalization(
            self.name, _seed(), self.axis, self.momentum, self.epsilon, self.center, self.scale,
            self.beta_initializer, self.gamma_initializer, self.moving_mean_initializer,
            self.moving_variance_initializer)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": self.beta_initializer,
                "gamma_initializer": self.gamma_initializer,
                "moving_mean_initializer": self.moving_mean_initializer,
                "moving_variance_initializer": self.moving_variance_initializer}


def _batches(data):
    """('array', ndarray) or ('batches', iterable of batches) for adapt's data argument."""
    if isinstance(data, np.ndarray):
        return "array", data
    if isinstance(data, (list, tuple)):
        if data and all(isinstance(d, np.ndarray) for d in data):
            return "batches", data  # a list of batches, as Keras accepts
        return "array", np.asarray(data)
    if hasattr(data, "__array__"):
        return "array", np.asarray(data)
    if hasattr(data, "__iter__"):
        return "batches", data
    raise TypeError(f"Normalization.adapt: unsupported data type {type(data).__name__}. Pass a "
                    "NumPy array or an iterable of batches (arrays, or (x, y) tuples).")


class Normalization(Layer):
    """Shifts and scales inputs to mean 0 and variance 1 per feature of the last axis, with a
    mean and variance computed by ``adapt(data)`` or given as ``mean=`` / ``variance=``."""

    _keras_stricter = ("used before adapt() or mean=/variance= it raises (Keras normalises with "
                       "mean 0 and variance 1)")

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axis(axis, "Normalization", allow_none=True)
        if (mean is None) != (variance is None):
            raise ValueError("When setting values directly, both `mean` and `variance` must be "
                             f"set. Received: mean={mean} and variance={variance}")
        if not isinstance(invert, (bool, np.bool_)):
            raise TypeError(f"Normalization: `invert` must be True or False, received {invert!r}")
        self.invert = bool(invert)
        self.input_mean = mean
        self.input_variance = variance
        per_feature = self.axis is not None
        self._core = _core.Normalization(self.name, _seed(), per_feature,
                                         self.axis if per_feature else 0, self.invert)
        if mean is not None:
            m = np.asarray(mean, dtype=np.float64)
            v = np.asarray(variance, dtype=np.float64)
            if m.shape != v.shape:
                raise ValueError("When setting values directly, `mean` and `variance` must have "
                                 f"the same shape. Received: mean shape {m.shape} and variance "
                                 f"shape {v.shape}")
            if m.ndim > (1 if per_feature else 0):
                raise ValueError(f"The rank of `mean` must be at most {1 if per_feature else 0} "
                                 f"for axis={self.axis!r} (one value, or one per feature). "
                                 f"Received: mean shape {m.shape}")
            self._set_statistics(m, v)

    def _set_statistics(self, mean, variance):
        mean = np.ascontiguousarray(np.ravel(mean), dtype=np.float32)
        variance = np.ascontiguousarray(np.ravel(variance), dtype=np.float32)
        self._core.set_statistics(mean, variance)
        self._statistics = (mean, variance)

    def _statistic(self, i):
        if self.built and self.is_adapted:
            return self.get_weights()[i]  # the weights themselves (a model's set_weights too)
        stats = self.__dict__.get("_statistics")
        return None if stats is None else stats[i].copy()

    @property
    def mean(self):
        """The mean the layer subtracts, as Keras's ``layer.mean``: one value per feature (a
        scalar for ``axis=None`` once built), or None before ``adapt``."""
        return self._statistic(0)

    @property
    def variance(self):
        """The variance the layer divides by (its square root), as Keras's ``layer.variance``;
        None before ``adapt``."""
        return self._statistic(1)

    @property
    def is_adapted(self):
        """True once mean and variance are known (adapt, constructor or set_weights)."""
        return self._core.has_statistics

    def adapt(self, data, batch_size=None, steps=None):
        """Computes the mean and (biased) variance of ``data`` per feature of the last axis (over
        every value with ``axis=None``) and stores them as the layer's weights.

        ``data``: a NumPy array (or array-like), or an iterable of batches (arrays or (x, y)
        tuples, e.g. a generator). Arrays are read ``batch_size`` samples at a time (default:
        about a million values per chunk), accumulating in float64; ``steps`` limits the number
        of chunks/batches read. Works before the layer is built (the model writes the values
        when it builds the layer) and after (they are written at once).
        """
        if batch_size is not None and (isinstance(batch_size, bool) or
                                       not isinstance(batch_size, numbers.Integral) or
                                       batch_size <= 0):
            raise ValueError(f"batch_size must be a positive integer, received {batch_size!r}")
        if steps is not None and (isinstance(steps, bool) or
                                  not isinstance(steps, numbers.Integral) or steps <= 0):
            raise ValueError(f"steps must be a positive integer, received {steps!r}")
        kind, source = _batches(data)
        if kind == "array":
            chunks = self._array_chunks(source, batch_size)
        else:
            chunks = (b[0] if isinstance(b, tuple) else b for b in source)
        count, mean, m2 = 0, None, None
        for i, chunk in enumerate(chunks):
            if steps is not None and i >= steps:
                break
            values = self._feature_matrix(np.asarray(chunk))
            n = values.shape[0]
            if n == 0:
                continue
            chunk_mean = values.mean(axis=0)
            chunk_m2 = ((values - chunk_mean) ** 2).sum(axis=0)
            if count == 0:
                count, mean, m2 = n, chunk_mean, chunk_m2
                continue
            if chunk_mean.shape != mean.shape:
                raise ValueError("Normalization.adapt: the batches have different numbers of "
                                 f"features ({mean.shape[0]} and {chunk_mean.shape[0]})")
            # Chan et al.'s pairwise update: exact for any chunking, no catastrophic cancellation.
            total = count + n
            delta = chunk_mean - mean
            mean = mean + delta * (n / total)
            m2 = m2 + chunk_m2 + delta ** 2 * (count * n / total)
            count = total
        if count == 0:
            raise ValueError("Normalization.adapt received no data (an empty array or iterable); "
                             "pass at least one sample")
        self._set_statistics(mean, m2 / count)

    def _array_chunks(self, array, batch_size):
        if array.ndim == 0:
            array = array.reshape(1)
        self._feature_matrix(array[:0])  # dtype and shape errors before any work
        per_row = max(1, int(np.prod(array.shape[1:], dtype=np.int64)))
        rows = batch_size or max(1, _ADAPT_CHUNK_VALUES // per_row)
        for start in range(0, len(array), rows):
            yield array[start:start + rows]

    def _feature_matrix(self, values):
        """values as float64 (samples, features): features of the last axis, or 1 (axis=None)."""
        if values.dtype.kind not in "biuf":
            raise TypeError("Normalization.adapt expects numeric data (float, int or bool); "
                            f"received an array of dtype {values.dtype}")
        values = values.astype(np.float64, copy=False)
        if self.axis is None:
            return values.reshape(-1, 1)
        if values.ndim < 2:
            raise ValueError(
                f"Normalization.adapt with axis={self.axis} keeps one mean per feature of the last "
                f"axis, but the data has shape {values.shape} (no feature axis). Pass axis=None "
                "for one mean over all values, or give the data a feature axis (x[:, None]).")
        features = values.shape[-1]
        if self.built and features != self._core.features:
            raise ValueError(f"The layer was built with input_shape={self.input_shape}, but "
                             "adapt() is being called with data with an incompatible shape, "
                             f"data.shape={values.shape}")
        return values.reshape(-1, features)

    def set_weights(self, weights):
        """Sets [mean, variance] (exact shapes; finite values, variance >= 0)."""
        weights = [np.asarray(w, dtype=np.float32) for w in weights]
        if len(weights) == 2:
            if not (np.all(np.isfinite(weights[0])) and np.all(np.isfinite(weights[1]))):
                raise ValueError(f'Layer "{self.name}": mean and variance must be finite')
            if np.any(weights[1] < 0):
                raise ValueError(f'Layer "{self.name}": variance must be >= 0')
        super().set_weights(weights)
        self._set_statistics(weights[0], weights[1])

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": None if self.input_mean is None else np.array(self.input_mean).tolist(),
                "variance": (None if self.input_variance is None
                             else np.array(self.input_variance).tolist())}


def _layer_norm_axes(axis):
    """axis (an int, or a list/tuple of ints) -> the list given to the core; Keras keeps the
    argument as given in its config."""
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    if not axes or any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in axes):
        raise TypeError("Expected an int or a list/tuple of ints for the argument 'axis', but "
                        f"received: {axis}")
    return [int(a) for a in axes]


class LayerNormalization(Layer):
    """Normalises each sample over its trailing axes (``axis=-1``: each position's features;
    ``axis=[1, 2, 3]``: a whole image) with the sample's own mean and variance, then scales by
    ``gamma`` and shifts by ``beta`` (weights of the normalised axes' shape). The same in
    training and at inference. Only trailing axes are supported (Keras also takes others);
    ``rms_scaling``, regularizers and constraints are not."""

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, tuple) else axis
        self._axes = _layer_norm_axes(axis)
        self.epsilon = _real(epsilon, "epsilon")
        if self.epsilon <= 0.0:
            raise ValueError(f"`epsilon` must be positive, received epsilon={epsilon!r}")
        for flag, name in ((center, "center"), (scale, "scale"), (rms_scaling, "rms_scaling")):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"LayerNormalization: `{name}` must be True or False, "
                                f"received {flag!r}")
        if rms_scaling:
            raise ValueError("LayerNormalization: rms_scaling=True is not supported")
        for arg, value in (("beta_regularizer", beta_regularizer),
                           ("gamma_regularizer", gamma_regularizer),
                           ("beta_constraint", beta_constraint),
                           ("gamma_constraint", gamma_constraint)):
            if value is not None:
                raise ValueError(f"LayerNormalization: {arg} is not supported; leave it None "
                                 f"(received {arg}={value!r})")
        self.center = bool(center)
        self.scale = bool(scale)
        self.rms_scaling = False
        self.beta_initializer = _initializer_name(beta_initializer, "beta_initializer")
        self.gamma_initializer = _initializer_name(gamma_initializer, "gamma_initializer")
        self._core = _core.LayerNormalization(self.name, _seed(), self._axes, self.epsilon,
                                              self.center, self.scale, self.beta_initializer,
                                              self.gamma_initializer)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "rms_scaling": self.rms_scaling,
                "beta_initializer": self.beta_initializer,
                "gamma_initializer": self.gamma_initializer, "beta_regularizer": None,
                "gamma_regularizer": None, "beta_constraint": None, "gamma_constraint": None}
