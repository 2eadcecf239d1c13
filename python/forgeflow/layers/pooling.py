"""Pooling and padding layers (Keras 3 names, arguments and defaults), channels-last:

``MaxPooling2D(pool_size=(2, 2), strides=None, padding="valid", data_format=None)`` and
``AveragePooling2D(...)`` (strides None means the pool size; "same" average pooling divides by
the number of real elements in each window, as Keras/TensorFlow do),
``GlobalAveragePooling2D(data_format=None, keepdims=False)``,
``GlobalMaxPooling2D(data_format=None, keepdims=False)`` and
``ZeroPadding2D(padding=(1, 1), data_format=None)``.

Unlike other frameworks, max pooling never drops a NaN: a window holding a NaN gives NaN, so
check-numerics sees it at the layer that produced it.
"""
from .. import _core
from .convolutional import _is_int, check_data_format, normalize_padding, normalize_tuple
from .core import Layer, _seed

__all__ = ["MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
           "ZeroPadding2D"]


class _Pooling2D(Layer):
    _core_class = None

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.pool_size = normalize_tuple(pool_size, 2, "pool_size")
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, 2, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = check_data_format(type(self).__name__, data_format)
        self._core = self._core_class(self.name, _seed(), self.pool_size, self.strides,
                                      self.padding)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format}


class MaxPooling2D(_Pooling2D):
    """Maximum over each pool_size window of (N, H, W, C). Output per spatial axis:
    ``valid``: floor((in - pool) / stride) + 1; ``same``: ceil(in / stride)."""

    _core_class = _core.MaxPooling2D


class AveragePooling2D(_Pooling2D):
    """Mean over each pool_size window of (N, H, W, C); output sizes as MaxPooling2D."""

    _core_class = _core.AveragePooling2D


class _GlobalPooling(Layer):
    """The global poolings' shared arguments (any rank: the 1-D ones derive from it too)."""

    _core_class = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(type(self).__name__, data_format)
        if not isinstance(keepdims, bool):
            raise TypeError(f"{type(self).__name__}: keepdims must be True or False, "
                            f"received {keepdims!r}")
        self.keepdims = keepdims
        self._core = self._core_class(self.name, _seed(), self.keepdims)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling):
    """(N, H, W, C) -> (N, C): the mean over H and W ((N, 1, 1, C) with keepdims=True)."""

    _core_class = _core.GlobalAveragePooling2D


class GlobalMaxPooling2D(_GlobalPooling):
    """(N, H, W, C) -> (N, C): the maximum over H and W ((N, 1, 1, C) with keepdims=True)."""

    _core_class = _core.GlobalMaxPooling2D


def _normalize_padding2d(padding):
    if _is_int(padding):
        if padding < 0:
            raise ValueError(f"`padding` must be >= 0. Received: padding={padding!r}.")
        return ((int(padding),) * 2,) * 2
    if hasattr(padding, "__len__") and not isinstance(padding, str):
        if len(padding) != 2:
            raise ValueError(f"`padding` should have two elements. Received: padding={padding!r}.")
        height = normalize_tuple(padding[0], 2, "1st entry of padding", allow_zero=True)
        width = normalize_tuple(padding[1], 2, "2nd entry of padding", allow_zero=True)
        return (height, width)
    raise ValueError(
        "`padding` should be either an int, a tuple of 2 ints (symmetric_height_pad, "
        "symmetric_width_pad), or a tuple of 2 tuples of 2 ints ((top_pad, bottom_pad), "
        f"(left_pad, right_pad)). Received: padding={padding!r}."
    )


class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros around (N, H, W, C): ``padding`` is an int, a pair
    (symmetric height, symmetric width) or ((top, bottom), (left, right))."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _normalize_padding2d(padding)
        self.data_format = check_data_format("ZeroPadding2D", data_format)
        (top, bottom), (left, right) = self.padding
        self._core = _core.ZeroPadding2D(self.name, _seed(), [top, bottom, left, right])

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}
