"""MNIST handwritten digits: ``load_data()`` as ``keras.datasets.mnist.load_data``, reading
Keras's ``mnist.npz`` from the local cache or downloading it once (see ``_cache``)."""

import numpy as np

from . import _cache

__all__ = ["load_data"]


def _check_split(path, x, y, split):
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"{path}: expected x_{split} of shape (N, 28, 28) and y_{split} of shape "
                         f"(N,), found {x.shape} and {y.shape}")


def load_data(path="mnist.npz"):
    """Loads the MNIST dataset: 60,000 28x28 grayscale training images of the digits 0-9 and
    10,000 test images.

    Args:
        path: the file name in the cache directories (``$FORGEFLOW_DATA_DIR``,
            ``~/.forgeflow/datasets``, ``~/.keras/datasets``); downloaded once from Keras's
            origin when none holds it, and checked against Keras's SHA-256.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes (60000, 28, 28),
        (60000,), (10000, 28, 28), (10000,); pixel values 0-255, labels 0-9.
    """
    file, _ = _cache.get_file("mnist.npz", names=[path])
    arrays = _cache.load_npz(file, ["x_train", "y_train", "x_test", "y_test"])
    x_train, y_train = arrays["x_train"], arrays["y_train"]
    x_test, y_test = arrays["x_test"], arrays["y_test"]
    _check_split(file, x_train, y_train, "train")
    _check_split(file, x_test, y_test, "test")
    return (np.asarray(x_train), np.asarray(y_train)), (np.asarray(x_test), np.asarray(y_test))
