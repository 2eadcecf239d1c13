"""Depthwise and separable convolution layers (Keras 3 names, arguments and defaults),
channels-last:

``DepthwiseConv2D(kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
depthwise_initializer="glorot_uniform", bias_initializer="zeros")``: each input channel
convolved with its own ``depth_multiplier`` filters, (N, H, W, C) -> (N, OH, OW, C *
depth_multiplier); weights ``kernel`` (kh, kw, C, depth_multiplier) and ``bias``.

``SeparableConv2D(filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
bias_initializer="zeros")``: the depthwise convolution, then a 1x1 convolution to ``filters``
channels; weights ``depthwise_kernel``, ``pointwise_kernel`` (1, 1, C * depth_multiplier,
filters) and ``bias``.

Output sizes as Conv2D ("valid", or "same" with TensorFlow's split). Regularizers
(``depthwise_regularizer``, ``pointwise_regularizer``, ``bias_regularizer``,
``activity_regularizer``: ff.regularizers) are applied in the C++ training step; constraints are
not supported.
"""
from .. import _core
from .convolutional import (_check_filters, _is_int, check_data_format, normalize_padding,
                            normalize_tuple)
from .core import (Layer, _activation_name, _initializer_name, _regularizer_config, _seed,
                   _weight_regularizers)

__all__ = ["DepthwiseConv2D", "SeparableConv2D"]


def _refuse(layer, **extras):
    for arg, value in extras.items():
        if value is not None:
            raise ValueError(f"{layer}: {arg} is not supported; leave it None (received "
                             f"{arg}={value!r})")


def _depth_multiplier(value):
    if not _is_int(value) or value <= 0:
        raise ValueError("Invalid value for argument `depth_multiplier`. Expected a strictly "
                         f"positive value. Received depth_multiplier={value!r}.")
    return int(value)


class _DepthwiseArgs(Layer):
    def _parse(self, kernel_size, strides, padding, data_format, depth_multiplier,
               dilation_rate, activation, use_bias, bias_initializer):
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size")
        self.strides = normalize_tuple(strides, 2, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = check_data_format(type(self).__name__, data_format)
        self.depth_multiplier = _depth_multiplier(depth_multiplier)
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate")
        self.activation = _activation_name(activation)
        self.use_bias = bool(use_bias)
        self.bias_initializer = _initializer_name(bias_initializer, "bias_initializer")

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "depth_multiplier": self.depth_multiplier, "dilation_rate": self.dilation_rate,
                "activation": self.activation, "use_bias": self.use_bias,
                "bias_initializer": self.bias_initializer}


class DepthwiseConv2D(_DepthwiseArgs):
    """Depthwise 2-D convolution: every input channel convolved with its own
    ``depth_multiplier`` filters (output channel ``c * depth_multiplier + m``), then bias and
    activation."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        _refuse("DepthwiseConv2D", depthwise_constraint=depthwise_constraint,
                bias_constraint=bias_constraint)
        self._parse(kernel_size, strides, padding, data_format, depth_multiplier, dilation_rate,
                    activation, use_bias, bias_initializer)
        self.depthwise_initializer = _initializer_name(depthwise_initializer,
                                                       "depthwise_initializer")
        self._core = _core.DepthwiseConv2D(
            self.name, _seed(), self.kernel_size, self.strides, self.padding,
            self.depth_multiplier, self.dilation_rate, self.activation, self.use_bias,
            self.depthwise_initializer, self.bias_initializer)
        _weight_regularizers(self, kernel=("depthwise_regularizer", depthwise_regularizer),
                             bias=("bias_regularizer", bias_regularizer))

    def get_config(self):
        return {**super().get_config(), "depthwise_initializer": self.depthwise_initializer,
                **_regularizer_config(self)}


class SeparableConv2D(_DepthwiseArgs):
    """Depthwise separable 2-D convolution: DepthwiseConv2D (no bias), then a 1x1 convolution to
    ``filters`` channels, then bias and activation."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        _refuse("SeparableConv2D", depthwise_constraint=depthwise_constraint,
                pointwise_constraint=pointwise_constraint, bias_constraint=bias_constraint)
        self.filters = _check_filters(filters)
        self._parse(kernel_size, strides, padding, data_format, depth_multiplier, dilation_rate,
                    activation, use_bias, bias_initializer)
        self.depthwise_initializer = _initializer_name(depthwise_initializer,
                                                       "depthwise_initializer")
        self.pointwise_initializer = _initializer_name(pointwise_initializer,
                                                       "pointwise_initializer")
        self._core = _core.SeparableConv2D(
            self.name, _seed(), self.filters, self.kernel_size, self.strides, self.padding,
            self.depth_multiplier, self.dilation_rate, self.activation, self.use_bias,
            self.depthwise_initializer, self.pointwise_initializer, self.bias_initializer)
        _weight_regularizers(
            self, depthwise_kernel=("depthwise_regularizer", depthwise_regularizer),
            pointwise_kernel=("pointwise_regularizer", pointwise_regularizer),
            bias=("bias_regularizer", bias_regularizer))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "depthwise_initializer": self.depthwise_initializer,
                "pointwise_initializer": self.pointwise_initializer, **_regularizer_config(self)}
