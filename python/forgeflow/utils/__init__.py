"""Utilities: seeding, the progress bar and the summary table, ``to_categorical``, and
``plot_model`` / ``model_to_dot`` (Graphviz drawings of a model, through pydot)."""
import random as _random

import numpy as _np

from .. import _core, _naming
from .progbar import Progbar
from .image_dataset import image_dataset_from_directory, set_image_decode_memory_limit
from .plot import plot_history
from .numerical_utils import to_categorical
from .model_plot import model_to_dot, plot_model

__all__ = ["set_random_seed", "clear_session", "Progbar", "image_dataset_from_directory"]
__all__ += ["plot_history", "set_image_decode_memory_limit"]
__all__ += ["to_categorical", "plot_model", "model_to_dot"]


def set_random_seed(seed):
    """Seeds Python's ``random``, NumPy and forgeflow's core (weight initializers, dropout,
    shuffling), as ``keras.utils.set_random_seed`` does. Two CPU runs of the same script with
    the same seed produce bit-identical weights."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"Expected `seed` argument to be a non-negative integer. Received: seed={seed!r}")
    _random.seed(seed)
    _np.random.seed(seed % (2**32))
    _core.set_seed(seed)


def clear_session():
    """Resets layer/model name numbering (dense, dense_1, ...) as Keras's clear_session does."""
    _naming.reset()
