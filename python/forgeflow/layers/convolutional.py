"""Convolution layers (Keras 3 names, arguments and defaults), channels-last:

``Conv2D(filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
bias_regularizer=None, activity_regularizer=None)`` on (N, H, W, C) and
``Conv1D(filters, kernel_size, strides=1, padding="valid", ...)`` on (N, steps, C), with
padding "valid", "same" (TensorFlow's split: the smaller half before) or, for Conv1D, "causal".
Kernels are stored as Keras stores them: (kh, kw, in_channels, filters) and
(k, in_channels, filters), so ``get_weights``/``set_weights`` exchange arrays with Keras as they
are. Unlike Keras, strides > 1 may be combined with dilation_rate > 1 (the output-size formula
above holds). Only ``groups=1`` and channels-last data are supported. The argument helpers here
are shared with the pooling layers.
"""
import numbers

from .. import _core
from .core import (Layer, _activation_name, _initializer_name, _refuse_constraints,
                   _regularizer_config, _seed, _weight_regularizers)

__all__ = ["Conv1D", "Conv2D"]


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def normalize_tuple(value, n, name, allow_zero=False):
    """An int or a sequence of n ints -> a tuple of n ints (Keras's standardize_tuple), with
    Keras's messages for a wrong length, a non-integer or a value out of range."""
    msg = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value!r}"
    if _is_int(value):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(msg) from None
        if len(values) != n:
            raise ValueError(msg)
        for v in values:
            if not _is_int(v):
                raise ValueError(f"{msg}, including element {v!r} of type {type(v)}")
        values = tuple(int(v) for v in values)
    bad = sorted({v for v in values if v < 0 or (v == 0 and not allow_zero)})
    if bad:
        req = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{msg}, including values {set(bad)} that do not satisfy `value {req}`")
    return values


def normalize_padding(value, allow_causal=False):
    """'valid' / 'same' (/ 'causal'), case-insensitive as in Keras."""
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    padding = value.lower() if isinstance(value, str) else value
    if padding not in allowed:
        raise ValueError(
            "The `padding` argument must be one of {" + ", ".join(repr(a) for a in allowed)
            + f"}}. Received: padding={value!r}"
        )
    return padding


def check_data_format(layer, data_format):
    if data_format not in (None, "channels_last"):
        raise ValueError(
            f"{layer}: only data_format='channels_last' (NHWC, the Keras default) is supported, "
            f"received data_format={data_format!r}. Transpose channels-first data with "
            "np.transpose(x, (0, 2, 3, 1))."
        )
    return "channels_last"


def _check_filters(filters):
    if not _is_int(filters) or filters <= 0:
        raise ValueError(
            "Invalid value for argument `filters`. Expected a strictly positive value. "
            f"Received filters={filters!r}."
        )
    return int(filters)


class _Conv(Layer):
    rank = None

    def __init__(self, filters, kernel_size, strides, padding, data_format, dilation_rate, groups,
                 activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                 bias_regularizer, kernel_constraint, bias_constraint, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        _refuse_constraints(cls, kernel_constraint=kernel_constraint,
                            bias_constraint=bias_constraint)
        self._regularizer_args = (kernel_regularizer, bias_regularizer)
        self.filters = _check_filters(filters)
        self.kernel_size = normalize_tuple(kernel_size, self.rank, "kernel_size")
        self.strides = normalize_tuple(strides, self.rank, "strides")
        self.padding = normalize_padding(padding, allow_causal=self.rank == 1)
        self.data_format = check_data_format(cls, data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, self.rank, "dilation_rate")
        if not _is_int(groups) or groups != 1:
            raise ValueError(f"{cls}: only groups=1 is supported, received groups={groups!r}")
        self.groups = 1
        self.activation = _activation_name(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _initializer_name(kernel_initializer, "kernel_initializer")
        self.bias_initializer = _initializer_name(bias_initializer, "bias_initializer")

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding,
                "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "groups": self.groups, "activation": self.activation, "use_bias": self.use_bias,
                "kernel_initializer": self.kernel_initializer,
                "bias_initializer": self.bias_initializer, **_regularizer_config(self)}

    def _set_regularizers(self):
        kernel, bias = self._regularizer_args
        _weight_regularizers(self, kernel=("kernel_regularizer", kernel),
                             bias=("bias_regularizer", bias))


class Conv2D(_Conv):
    """2-D convolution over (N, H, W, C): ``activation(conv2d(x, kernel) + bias)``, kernel
    (kh, kw, C, filters). Output (N, OH, OW, filters) with, per spatial axis,
    ``valid``: floor((in - (k-1)*dilation - 1) / stride) + 1; ``same``: ceil(in / stride)."""

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, kernel_constraint,
                         bias_constraint, **kwargs)
        self._core = _core.Conv2D(self.name, _seed(), self.filters, self.kernel_size, self.strides,
                                  self.padding, self.dilation_rate, self.activation,
                                  self.use_bias, self.kernel_initializer, self.bias_initializer)
        self._set_regularizers()


class Conv1D(_Conv):
    """1-D convolution over (N, steps, C): ``activation(conv1d(x, kernel) + bias)``, kernel
    (k, C, filters). ``padding="causal"`` pads (k-1)*dilation zeros on the left only, so output
    step t depends on inputs up to t (output length ceil(steps / stride))."""

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, kernel_constraint,
                         bias_constraint, **kwargs)
        self._core = _core.Conv1D(self.name, _seed(), self.filters, self.kernel_size[0],
                                  self.strides[0], self.padding, self.dilation_rate[0],
                                  self.activation, self.use_bias, self.kernel_initializer,
                                  self.bias_initializer)
        self._set_regularizers()
