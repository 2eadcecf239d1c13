"""forgeflow: a Keras-style deep-learning framework with a C++ core that fails loudly.

    import forgeflow as ff
    model = ff.Sequential([ff.layers.Flatten(input_shape=(28, 28)),
                           ff.layers.Dense(128, activation="relu"), ff.layers.Dense(10)])
    model.compile(optimizer="adam",
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=10)

The functional API builds any directed acyclic graph of layers:

    inputs = ff.Input(shape=(32,))
    h = ff.layers.Dense(64, activation="relu")(inputs)
    outputs = ff.layers.Dense(1)(ff.layers.Add()([h, ff.layers.Dense(64)(h)]))
    model = ff.Model(inputs, outputs)
"""
from ._version import __version__
from . import _core
from . import activations, callbacks, datasets, debugging, layers, losses, metrics, optimizers, utils
from ._checks import LikelyMistakeWarning
from .layers import Input, InputLayer
from .models import Model, Sequential
from . import models, saving, train
from . import mixed_precision
from . import tracking
from . import data

__all__ = ["Model", "Sequential", "Input", "InputLayer", "layers", "losses", "optimizers", "metrics",
           "callbacks", "activations", "data", "mixed_precision", "models", "saving", "train", "datasets", "debugging", "tracking", "utils",
           "LikelyMistakeWarning"]
