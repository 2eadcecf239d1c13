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
import os as _os

# OpenMP (libgomp) reads its settings once, when _core loads it. Its default keeps idle threads
# spinning for milliseconds after each parallel region, taking CPU from other processes (and
# from this one's own pipeline threads); a short spin still bridges the gaps between one
# training step's kernels. Left alone when the user set either variable, and not passed on to
# child processes.
_spin_default = "OMP_WAIT_POLICY" not in _os.environ and "GOMP_SPINCOUNT" not in _os.environ
if _spin_default:
    _os.environ["GOMP_SPINCOUNT"] = "10000"
try:
    from . import _core
finally:
    if _spin_default:
        _os.environ.pop("GOMP_SPINCOUNT", None)
del _spin_default
from . import activations, applications, callbacks, config, datasets, debugging, errors, layers, losses, metrics, optimizers, utils
from . import distribute
from . import ops, random, regularizers
from ._checks import LikelyMistakeWarning
from .layers import Input, InputLayer
from .models import Model, Sequential
from .variables import Variable
from . import models, saving, train
from . import mixed_precision
from . import tracking
from . import data


def version():
    """The forgeflow version string, ``ff.__version__`` (as ``keras.version()``)."""
    return __version__


__all__ = ["version", "Variable", "Model", "Sequential", "Input", "InputLayer", "layers", "losses", "optimizers", "metrics",
           "callbacks", "config", "distribute", "errors", "activations", "applications", "data", "mixed_precision", "models", "ops", "random", "regularizers", "saving", "train", "datasets", "debugging", "tracking", "utils",
           "LikelyMistakeWarning"]
