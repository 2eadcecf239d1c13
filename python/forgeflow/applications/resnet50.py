"""ResNet50 (He et al. 2015, v1) as keras.applications.ResNet50: a 7x7/2 stem with 3-pixel zero
padding, 3x3/2 max-pooling, four stacks of bottleneck blocks (3, 4, 6, 3 blocks; 64, 128, 256,
512 filters, 4x expansion, a 1x1 projection shortcut in each stack's first block), batch
normalisation with epsilon 1.001e-5; Keras's layer names."""
from .. import layers as L

from ._common import check_arguments, finish, model_input

__all__ = ["ResNet50"]

_EPS = 1.001e-5


def _block(x, filters, stride, conv_shortcut, name):
    if conv_shortcut:
        shortcut = L.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(x)
        shortcut = L.BatchNormalization(epsilon=_EPS, name=name + "_0_bn")(shortcut)
    else:
        shortcut = x
    x = L.Conv2D(filters, 1, strides=stride, name=name + "_1_conv")(x)
    x = L.BatchNormalization(epsilon=_EPS, name=name + "_1_bn")(x)
    x = L.Activation("relu", name=name + "_1_relu")(x)
    x = L.Conv2D(filters, 3, padding="same", name=name + "_2_conv")(x)
    x = L.BatchNormalization(epsilon=_EPS, name=name + "_2_bn")(x)
    x = L.Activation("relu", name=name + "_2_relu")(x)
    x = L.Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    x = L.BatchNormalization(epsilon=_EPS, name=name + "_3_bn")(x)
    x = L.Add(name=name + "_add")([shortcut, x])
    return L.Activation("relu", name=name + "_out")(x)


def _stack(x, filters, blocks, stride, name):
    x = _block(x, filters, stride, True, name + "_block1")
    for i in range(2, blocks + 1):
        x = _block(x, filters, 1, False, f"{name}_block{i}")
    return x


def ResNet50(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
             classes=1000, classifier_activation="softmax", name="resnet50"):
    """The ResNet50 architecture (25,636,712 weights with the top, 23,587,712 without)."""
    input_shape = check_arguments("ResNet50", include_top, weights, pooling, classes, input_shape,
                                  224)
    inputs = model_input(input_tensor, input_shape)
    x = L.ZeroPadding2D(padding=3, name="conv1_pad")(inputs)
    x = L.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
    x = L.BatchNormalization(epsilon=_EPS, name="conv1_bn")(x)
    x = L.Activation("relu", name="conv1_relu")(x)
    x = L.ZeroPadding2D(padding=1, name="pool1_pad")(x)
    x = L.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = _stack(x, 64, 3, 1, "conv2")
    x = _stack(x, 128, 4, 2, "conv3")
    x = _stack(x, 256, 6, 2, "conv4")
    x = _stack(x, 512, 3, 2, "conv5")
    return finish(name, inputs, x, include_top, pooling, classes, classifier_activation, weights)
