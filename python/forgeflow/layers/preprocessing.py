"""Preprocessing and image augmentation layers (Keras 3 names, arguments and defaults),
channels-last:

``Rescaling(scale, offset=0.0)``: ``x * scale + offset`` (``Rescaling(1./255)`` for pixels).

``RandomFlip(mode="horizontal_and_vertical", seed=None)``,
``RandomTranslation(height_factor, width_factor, fill_mode="reflect", interpolation="bilinear",
seed=None, fill_value=0.0)``, ``RandomZoom(height_factor, width_factor=None, ...)`` and
``RandomRotation(factor, ...)``: active only in training (``fit``, ``model(x, training=True)``);
the identity in ``predict``/``evaluate``. Every image gets its own transform per training step,
drawn from a counter-based generator keyed by the layer's seed, the step and the sample index, so
``seed=`` (or ``ff.utils.set_random_seed``) reproduces a run. A factor ``f`` means the range
``[-f, f]``, a pair ``(lo, hi)`` that range; factors lie in [-1, 1]. Fill modes: "reflect",
"wrap", "constant" (``fill_value``) and "nearest"; interpolation "bilinear" or "nearest".
Gradients flow through them exactly (the adjoint of the resampling), so they may sit anywhere
in a model, not only first.
"""
import numbers

import numpy as np

from .. import _core
from .core import Layer, _seed

__all__ = ["Rescaling", "RandomFlip", "RandomTranslation", "RandomZoom", "RandomRotation"]

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("nearest", "bilinear")


def _is_real(value):
    return not isinstance(value, bool) and isinstance(value, numbers.Real)


def _scalar(value, name, layer):
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if not _is_real(value) or not np.isfinite(value):
        hint = ""
        if isinstance(value, (list, tuple, np.ndarray)):
            hint = " A per-channel (array) value is not supported yet; pass one number."
        raise ValueError(f"{layer}: `{name}` must be a finite number, received {name}={value!r}."
                         f"{hint}")
    return float(value)


def _factor(value, name):
    """Keras's factor: f -> (-|f|, |f|); (lo, hi) -> sorted; every bound in [-1, 1]."""
    message = (f"The `{name}` argument should be a number (or a list of two numbers) in the range "
               f"[-1.0, 1.0]. Received: {name}={value!r}")
    if isinstance(value, (tuple, list)):
        if len(value) != 2 or not all(_is_real(v) and np.isfinite(v) for v in value):
            raise ValueError(message)
        lower, upper = sorted(float(v) for v in value)
    elif _is_real(value) and np.isfinite(value):
        lower, upper = -abs(float(value)), abs(float(value))
    else:
        raise ValueError(message)
    if lower < -1.0 or upper > 1.0:
        raise ValueError(message)
    return lower, upper


def _core_seed(seed):
    if seed is None:
        return _seed()
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"seed must be an integer or None, received seed={seed!r}")
    return int(seed) & 0xFFFFFFFFFFFFFFFF


def _check_data_format(layer, data_format):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{layer}: only data_format='channels_last' (images as (batch, height, "
                         f"width, channels)) is supported, received {data_format!r}")
    return "channels_last"


class Rescaling(Layer):
    """Multiplies inputs by ``scale`` and adds ``offset``: ``Rescaling(1./255)`` maps pixels
    0..255 to [0, 1], ``Rescaling(1./127.5, offset=-1)`` to [-1, 1]."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _scalar(scale, "scale", "Rescaling")
        self.offset = _scalar(offset, "offset", "Rescaling")
        self._core = _core.Rescaling(self.name, _seed(), self.scale, self.offset)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class RandomFlip(Layer):
    """Randomly flips each image left-right ("horizontal"), top-bottom ("vertical") or, as in
    Keras 3, both or neither ("horizontal_and_vertical": one draw per image), during training."""

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError(f"RandomFlip layer {self.name} received an unknown mode argument "
                             f"{mode!r}. Expected one of: 'horizontal', 'vertical', "
                             "'horizontal_and_vertical'")
        self.mode = mode
        self.seed = seed
        self.data_format = _check_data_format("RandomFlip", data_format)
        self._core = _core.RandomFlip(self.name, _core_seed(seed), self.mode)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "seed": self.seed,
                "data_format": self.data_format}


class _RandomAffine(Layer):
    """Shared argument handling of RandomTranslation, RandomZoom and RandomRotation."""

    def _affine_args(self, fill_mode, interpolation, seed, fill_value, data_format):
        if fill_mode not in _FILL_MODES:
            raise NotImplementedError(f"Unknown `fill_mode` {fill_mode}. Expected of one "
                                      f"{_FILL_MODES}.")
        if interpolation not in _INTERPOLATIONS:
            raise NotImplementedError(f"Unknown `interpolation` {interpolation}. Expected of one "
                                      f"{_INTERPOLATIONS}.")
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.seed = seed
        self.fill_value = _scalar(fill_value, "fill_value", type(self).__name__)
        self.data_format = _check_data_format(type(self).__name__, data_format)
        return _core_seed(seed)

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "seed": self.seed,
                "fill_value": self.fill_value, "data_format": self.data_format}


class RandomTranslation(_RandomAffine):
    """Randomly shifts each image by a fraction of its height (positive: down) and width
    (positive: right) during training, filling the uncovered part according to ``fill_mode``."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        height = _factor(height_factor, "height_factor")
        width = _factor(width_factor, "width_factor")
        core_seed = self._affine_args(fill_mode, interpolation, seed, fill_value, data_format)
        self._core = _core.RandomTranslation(self.name, core_seed, height, width, self.fill_mode,
                                             self.interpolation, self.fill_value)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomZoom(_RandomAffine):
    """Randomly zooms each image about its centre during training: a positive factor zooms out,
    a negative one in; ``width_factor=None`` keeps the aspect ratio (the height's zoom)."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        height = _factor(height_factor, "height_factor")
        width = None if width_factor is None else _factor(width_factor, "width_factor")
        core_seed = self._affine_args(fill_mode, interpolation, seed, fill_value, data_format)
        self._core = _core.RandomZoom(self.name, core_seed, height, width, self.fill_mode,
                                      self.interpolation, self.fill_value)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomRotation(_RandomAffine):
    """Randomly rotates each image about its centre during training by a fraction of a full
    turn (``factor=0.1``: up to +-36 degrees; positive is counter-clockwise)."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor
        lower_upper = _factor(factor, "factor")
        core_seed = self._affine_args(fill_mode, interpolation, seed, fill_value, data_format)
        self._core = _core.RandomRotation(self.name, core_seed, lower_upper, self.fill_mode,
                                          self.interpolation, self.fill_value)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}
