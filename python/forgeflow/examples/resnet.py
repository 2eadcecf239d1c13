"""ResNet-18 in its CIFAR form (He et al. 2016, as the convolution issue's benchmark defines it):
a 3x3 stem of 64 filters without max-pooling, four stages of two basic blocks with 64, 128, 256
and 512 filters (stride 2 and a 1x1 projection shortcut where a stage starts smaller), global
average pooling and a dense classifier. Built with the functional API: skip connections through
``Add``, batch normalisation after every convolution, channels last.

    from forgeflow.examples.resnet import resnet18_cifar
    model = resnet18_cifar()       # (32, 32, 3) -> 10 logits
"""
import forgeflow as ff

__all__ = ["resnet18_cifar"]


def _conv_bn(x, filters, kernel_size, strides, name):
    x = ff.layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False,
                         kernel_initializer="he_normal", name=f"{name}_conv")(x)
    return ff.layers.BatchNormalization(name=f"{name}_bn")(x)


def _basic_block(x, filters, strides, name):
    shortcut = x
    y = _conv_bn(x, filters, 3, strides, f"{name}_1")
    y = ff.layers.Activation("relu", name=f"{name}_1_relu")(y)
    y = _conv_bn(y, filters, 3, 1, f"{name}_2")
    if strides != 1 or x.shape[-1] != filters:
        shortcut = _conv_bn(x, filters, 1, strides, f"{name}_proj")
    y = ff.layers.Add(name=f"{name}_add")([y, shortcut])
    return ff.layers.Activation("relu", name=f"{name}_out")(y)


def resnet18_cifar(input_shape=(32, 32, 3), classes=10, name="resnet18"):
    """The functional ResNet-18 (CIFAR form); outputs ``classes`` logits (use a loss with
    ``from_logits=True``). Under a mixed policy the logits head is kept float32."""
    inputs = ff.Input(shape=input_shape, name="image")
    x = _conv_bn(inputs, 64, 3, 1, "stem")
    x = ff.layers.Activation("relu", name="stem_relu")(x)
    for stage, filters in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            strides = 2 if stage > 1 and block == 0 else 1
            x = _basic_block(x, filters, strides, f"stage{stage}_block{block + 1}")
    x = ff.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = ff.layers.Dense(classes, dtype="float32", name="logits")(x)
    return ff.Model(inputs, outputs, name=name)
