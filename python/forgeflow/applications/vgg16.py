"""VGG16 (Simonyan & Zisserman 2014) as keras.applications.VGG16: five blocks of 3x3 "same"
ReLU convolutions (64, 128, 256, 512, 512 filters; 2, 2, 3, 3, 3 layers) each ending in 2x2
max-pooling, then Flatten, two Dense(4096) and the classifier; Keras's layer names."""
from .. import layers as L

from ._common import check_arguments, finish, model_input

__all__ = ["VGG16"]


def VGG16(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", name="vgg16"):
    """The VGG16 architecture (138,357,544 weights with the top, 14,714,688 without)."""
    input_shape = check_arguments("VGG16", include_top, weights, pooling, classes, input_shape, 224)
    inputs = model_input(input_tensor, input_shape)
    x = inputs
    for block, (filters, convs) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), 1):
        for i in range(1, convs + 1):
            x = L.Conv2D(filters, 3, activation="relu", padding="same",
                         name=f"block{block}_conv{i}")(x)
        x = L.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
    if include_top:
        x = L.Flatten(name="flatten")(x)
        x = L.Dense(4096, activation="relu", name="fc1")(x)
        x = L.Dense(4096, activation="relu", name="fc2")(x)
    return finish(name, inputs, x, include_top, pooling, classes, classifier_activation, weights,
                  flatten_top=True)
