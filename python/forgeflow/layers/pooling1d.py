"""1-D pooling layers (Keras 3 names, arguments and defaults) on (N, steps, channels):

``MaxPooling1D(pool_size=2, strides=None, padding="valid", data_format=None)`` and
``AveragePooling1D(...)`` (strides None means the pool size; "same" average pooling divides by
the number of real elements in each window, as Keras/TensorFlow do),
``GlobalAveragePooling1D(data_format=None, keepdims=False)`` and
``GlobalMaxPooling1D(data_format=None, keepdims=False)``. They run the 2-D pooling kernels on
inputs of height 1. Max pooling never drops a NaN. Keras's ``mask`` argument of the global
layers is not supported (forgeflow has no masking).
"""
from .. import _core
from .convolutional import check_data_format, normalize_padding, normalize_tuple
from .core import Layer, _seed
from .pooling import _GlobalPooling

__all__ = ["MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling1D", "GlobalMaxPooling1D"]


class _Pooling1D(Layer):
    _core_class = None

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = normalize_tuple(pool_size, 1, "pool_size")
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, 1, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = check_data_format(type(self).__name__, data_format)
        self._core = self._core_class(self.name, _seed(), self.pool_size[0], self.strides[0],
                                      self.padding)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format}


class MaxPooling1D(_Pooling1D):
    """Maximum over each pool_size window of (N, steps, C). Output steps: ``valid``:
    floor((steps - pool) / stride) + 1; ``same``: ceil(steps / stride)."""

    _core_class = _core.MaxPooling1D


class AveragePooling1D(_Pooling1D):
    """Mean over each pool_size window of (N, steps, C); output steps as MaxPooling1D."""

    _core_class = _core.AveragePooling1D


class GlobalAveragePooling1D(_GlobalPooling):
    """(N, steps, C) -> (N, C): the mean over the steps ((N, 1, C) with keepdims=True)."""

    _core_class = _core.GlobalAveragePooling1D


class GlobalMaxPooling1D(_GlobalPooling):
    """(N, steps, C) -> (N, C): the maximum over the steps ((N, 1, C) with keepdims=True)."""

    _core_class = _core.GlobalMaxPooling1D
