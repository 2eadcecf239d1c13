"""MobileNetV2 (Sandler et al. 2018) as keras.applications.MobileNetV2 with alpha=1.0: a 3x3/2
stem of 32 filters, 17 inverted residual blocks (1x1 expansion, 3x3 depthwise, 1x1 linear
projection, ReLU6, a residual Add where shapes allow), a 1x1 convolution to 1280 channels;
batch normalisation with epsilon 1e-3 and momentum 0.999; Keras's layer names."""
from .. import layers as L

from ._common import check_arguments, finish, model_input

__all__ = ["MobileNetV2"]


def _bn(name):
    return L.BatchNormalization(epsilon=1e-3, momentum=0.999, name=name)


def _correct_pad(x):
    """Keras's correct_pad for a 3x3 kernel of stride 2: one more row/column after than before
    on even sizes."""
    h, w = x.shape[1], x.shape[2]
    return ((1 - (1 - h % 2), 1), (1 - (1 - w % 2), 1))


def _inverted_res_block(inputs, expansion, stride, filters, block_id):
    in_channels = inputs.shape[-1]
    x = inputs
    prefix = f"block_{block_id}_"
    if block_id:
        x = L.Conv2D(expansion * in_channels, 1, padding="same", use_bias=False,
                     name=prefix + "expand")(x)
        x = _bn(prefix + "expand_BN")(x)
        x = L.ReLU(6.0, name=prefix + "expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = L.ZeroPadding2D(padding=_correct_pad(x), name=prefix + "pad")(x)
    x = L.DepthwiseConv2D(3, strides=stride, use_bias=False,
                          padding="same" if stride == 1 else "valid",
                          name=prefix + "depthwise")(x)
    x = _bn(prefix + "depthwise_BN")(x)
    x = L.ReLU(6.0, name=prefix + "depthwise_relu")(x)
    x = L.Conv2D(filters, 1, padding="same", use_bias=False, name=prefix + "project")(x)
    x = _bn(prefix + "project_BN")(x)
    if in_channels == filters and stride == 1:
        return L.Add(name=prefix + "add")([inputs, x])
    return x


# (filters, stride, expansion) of blocks 0..16 (alpha = 1.0: filters already multiples of 8)
_BLOCKS = ((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6),
           (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6), (160, 2, 6),
           (160, 1, 6), (160, 1, 6), (320, 1, 6))


def MobileNetV2(input_shape=None, alpha=1.0, include_top=True, weights=None, input_tensor=None,
                pooling=None, classes=1000, classifier_activation="softmax", name=None):
    """The MobileNetV2 architecture, alpha=1.0 (3,538,984 weights with the top, 2,257,984
    without); other widths raise."""
    if alpha != 1.0:
        raise ValueError(f"MobileNetV2: only alpha=1.0 is built here; received alpha={alpha!r}")
    input_shape = check_arguments("MobileNetV2", include_top, weights, pooling, classes,
                                  input_shape, 224)
    inputs = model_input(input_tensor, input_shape)
    x = L.Conv2D(32, 3, strides=2, padding="same", use_bias=False, name="Conv1")(inputs)
    x = _bn("bn_Conv1")(x)
    x = L.ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_res_block(x, expansion, stride, filters, block_id)
    x = L.Conv2D(1280, 1, use_bias=False, name="Conv_1")(x)
    x = _bn("Conv_1_bn")(x)
    x = L.ReLU(6.0, name="out_relu")(x)
    return finish(name or "mobilenetv2_1.00_224", inputs, x, include_top, pooling, classes,
                  classifier_activation, weights)
