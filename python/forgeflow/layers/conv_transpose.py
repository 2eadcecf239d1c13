"""The transposed convolution layer (Keras 3 name, arguments and defaults), channels-last:

``Conv2DTranspose(filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
kernel_initializer="glorot_uniform", bias_initializer="zeros")`` on (N, H, W, C), giving
(N, OH, OW, filters) with Keras's output size per spatial axis (``deconv_output_length``):
without output_padding, ``valid``: in * stride + max(k - stride, 0), ``same``: in * stride;
with it, (in - 1) * stride + k (- 2 * (k // 2) for ``same``) + output_padding, k the dilated
kernel size. The kernel is stored as Keras stores it, (kh, kw, filters, in_channels).
Stricter than Keras: output_padding must be smaller than the stride (tf.keras's rule; Keras 3
leaves TensorFlow to fail at the first call). Regularizers (ff.regularizers) are applied in the C++
training step; constraints are not supported.
"""
from .. import _core
from .convolutional import _check_filters, check_data_format, normalize_padding, normalize_tuple
from .core import (Layer, _activation_name, _initializer_name, _refuse_constraints,
                   _regularizer_config, _seed, _weight_regularizers)

__all__ = ["Conv2DTranspose"]


class Conv2DTranspose(Layer):
    """The transpose of a 2-D convolution (a "deconvolution"), e.g. strides=2 doubles H and W:
    ``activation(conv2d_transpose(x, kernel) + bias)``, kernel (kh, kw, filters, C)."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        _refuse_constraints("Conv2DTranspose", kernel_constraint=kernel_constraint,
                            bias_constraint=bias_constraint)
        self.filters = _check_filters(filters)
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size")
        self.strides = normalize_tuple(strides, 2, "strides")
        self.padding = normalize_padding(padding)
        self.output_padding = (None if output_padding is None else
                               normalize_tuple(output_padding, 2, "output_padding",
                                               allow_zero=True))
        if self.output_padding is not None and any(
                p >= s for p, s in zip(self.output_padding, self.strides)):
            raise ValueError("Strides must be greater than output padding. Received "
                             f"strides={self.strides}, output_padding={self.output_padding}.")
        self.data_format = check_data_format("Conv2DTranspose", data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate")
        self.activation = _activation_name(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _initializer_name(kernel_initializer, "kernel_initializer")
        self.bias_initializer = _initializer_name(bias_initializer, "bias_initializer")
        self._core = _core.Conv2DTranspose(
            self.name, _seed(), self.filters, self.kernel_size, self.strides, self.padding,
            list(self.output_padding or ()), self.dilation_rate, self.activation, self.use_bias,
            self.kernel_initializer, self.bias_initializer)
        _weight_regularizers(self, kernel=("kernel_regularizer", kernel_regularizer),
                             bias=("bias_regularizer", bias_regularizer))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding,
                "output_padding": self.output_padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "activation": self.activation,
                "use_bias": self.use_bias, "kernel_initializer": self.kernel_initializer,
                "bias_initializer": self.bias_initializer, **_regularizer_config(self)}
