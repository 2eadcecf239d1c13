"""What the ff.applications constructors share: Keras's arguments (include_top, weights,
input_tensor, input_shape, pooling, classes, classifier_activation), their checks, the input, the
top and the weights. Nothing downloads: weights="imagenet" raises, naming what to do instead."""
import os

from .. import layers as L
from ..layers import Input
from ..models import Model

__all__ = ["check_arguments", "model_input", "finish"]


def check_arguments(name, include_top, weights, pooling, classes, input_shape, default_size):
    """Keras's argument checks; returns the input shape (height, width, channels)."""
    if weights == "imagenet":
        raise ValueError(
            f"{name}(weights='imagenet'): forgeflow downloads nothing, and the ImageNet weights "
            "are Keras's files. Use weights=None (random initialisation) or the path of weights "
            f"saved by forgeflow for this architecture (model.save_weights(...)).")
    if weights is not None and not (isinstance(weights, (str, os.PathLike))
                                    and os.path.exists(weights)):
        raise ValueError(f"{name}: the `weights` argument should be either None (random "
                         "initialization), or the path to the weights file to be loaded. "
                         f"Received: weights={weights!r}")
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"{name}: pooling must be None, 'avg' or 'max'; received {pooling!r}")
    if not isinstance(classes, int) or isinstance(classes, bool) or classes <= 0:
        raise ValueError(f"{name}: classes must be a positive integer; received {classes!r}")
    if input_shape is None:
        input_shape = (default_size, default_size, 3)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or input_shape[-1] != 3:
        raise ValueError(f"{name}: input_shape must be (height, width, 3) (channels last, RGB); "
                         f"received {input_shape!r}")
    if any(d is not None and d < 32 for d in input_shape[:2]):
        raise ValueError(f"{name}: input size must be at least 32x32 (Keras's minimum); "
                         f"received input_shape={input_shape!r}")
    if include_top and input_shape[:2] != (default_size, default_size) and name == "VGG16":
        raise ValueError(f"{name}: with include_top=True the input must be {default_size}x"
                         f"{default_size} (the classifier's Dense layers fix it); received "
                         f"{input_shape!r}. Pass include_top=False for other sizes.")
    return input_shape


def model_input(input_tensor, input_shape):
    return input_tensor if input_tensor is not None else Input(shape=input_shape)


def finish(name, inputs, x, include_top, pooling, classes, classifier_activation, weights,
           flatten_top=False, top_dropout=0.0):
    """The top (or the pooling), the model, and the weights file when one is given.
    ``top_dropout`` > 0 puts Keras's Dropout "top_dropout" before the classifier."""
    if include_top:
        if not flatten_top:
            x = L.GlobalAveragePooling2D(name="avg_pool")(x)
        if top_dropout > 0:
            x = L.Dropout(top_dropout, name="top_dropout")(x)
        x = L.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = L.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = L.GlobalMaxPooling2D(name="max_pool")(x)
    model = Model(inputs, x, name=name)
    if weights is not None:
        model.load_weights(weights)
    return model
