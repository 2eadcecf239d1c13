"""Resizing layers (Keras 3 names, arguments and defaults), channels-last:

``UpSampling2D(size=(2, 2), data_format=None, interpolation="nearest")``: (N, H, W, C) ->
(N, H * size[0], W * size[1], C); "nearest" repeats each pixel, "bilinear" is TensorFlow's
half-pixel bilinear resize (what Keras's UpSampling2D computes); Keras's other interpolations
("bicubic", "lanczos3", "lanczos5") raise an error naming the supported ones.

``Cropping2D(cropping=((0, 0), (0, 0)), data_format=None)``: removes rows and columns at the
edges, (N, H, W, C) -> (N, H - top - bottom, W - left - right, C); ``cropping`` is an int, a pair
(symmetric height, symmetric width) or ((top, bottom), (left, right)).
"""
from .. import _core
from .convolutional import _is_int, check_data_format, normalize_tuple
from .core import Layer, _seed

__all__ = ["UpSampling2D", "Cropping2D"]

_INTERPOLATIONS = ("nearest", "bilinear")


class UpSampling2D(Layer):
    """Repeats (``"nearest"``) or bilinearly interpolates (``"bilinear"``) an (N, H, W, C) image
    to (N, H * size[0], W * size[1], C)."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format("UpSampling2D", data_format)
        self.size = normalize_tuple(size, 2, "size")
        if not isinstance(interpolation, str):
            raise TypeError("UpSampling2D: interpolation must be a string, 'nearest' or "
                            f"'bilinear'; received interpolation={interpolation!r}")
        self.interpolation = interpolation.lower()
        if self.interpolation not in _INTERPOLATIONS:
            raise ValueError(f"UpSampling2D: interpolation={interpolation!r} is not supported; "
                             "the supported ones are 'nearest' and 'bilinear'")
        self._core = _core.UpSampling2D(self.name, _seed(), list(self.size), self.interpolation)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}


def _normalize_cropping(cropping):
    if _is_int(cropping):
        if cropping < 0:
            raise ValueError(f"`cropping` cannot be negative. Received: cropping={cropping}.")
        return ((int(cropping),) * 2,) * 2
    if hasattr(cropping, "__len__") and not isinstance(cropping, str):
        if len(cropping) != 2:
            raise ValueError(f"`cropping` should have two elements. Received: cropping={cropping}.")
        height = normalize_tuple(cropping[0], 2, "1st entry of cropping", allow_zero=True)
        width = normalize_tuple(cropping[1], 2, "2nd entry of cropping", allow_zero=True)
        return (height, width)
    raise ValueError(
        "`cropping` should be either an int, a tuple of 2 ints (symmetric_height_crop, "
        "symmetric_width_crop), or a tuple of 2 tuples of 2 ints ((top_crop, bottom_crop), "
        f"(left_crop, right_crop)). Received: cropping={cropping}."
    )


class Cropping2D(Layer):
    """Removes ``cropping`` rows and columns at the edges of an (N, H, W, C) image."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _normalize_cropping(cropping)
        self.data_format = check_data_format("Cropping2D", data_format)
        (top, bottom), (left, right) = self.cropping
        self._core = _core.Cropping2D(self.name, _seed(), [top, bottom, left, right])

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping,
                "data_format": self.data_format}
