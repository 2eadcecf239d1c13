"""Boston Housing price regression: ``load_data()`` as ``keras.datasets.boston_housing``,
reading Keras's ``boston_housing.npz`` from the local cache or downloading it once (``_cache``).

Keras's warning applies: the data set has an ethical problem (its variable "B"); use it only to
illustrate such issues."""

import numbers

import numpy as np

from . import _cache

__all__ = ["load_data"]


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """Loads the Boston Housing dataset: 506 samples of 13 attributes of houses around Boston
    in the late 1970s; targets are the median values in k$.

    Args:
        path: the file name in the cache directories (``$FORGEFLOW_DATA_DIR``,
            ``~/.forgeflow/datasets``, ``~/.keras/datasets``); downloaded once from Keras's
            origin when none holds it, and checked against Keras's SHA-256.
        test_split: fraction of the data reserved for the test set, in [0, 1).
        seed: seed of the shuffle done before the split (NumPy ``RandomState``, as Keras: the
            same seed gives Keras's split).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x of shape (num_samples, 13), y of shape
        (num_samples,); the training part is the first ``int(506 * (1 - test_split))``
        shuffled samples.
    """
    if (isinstance(test_split, bool) or not isinstance(test_split, numbers.Real)
            or not 0 <= test_split < 1):
        raise ValueError(f"Invalid `test_split` argument: {test_split!r}. It must be between 0 "
                         "and 1 (exclusive of 1).")
    file, _ = _cache.get_file("boston_housing.npz", names=[path])
    arrays = _cache.load_npz(file, ["x", "y"])
    x, y = arrays["x"], arrays["y"]
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"{file}: expected x of shape (N, 13) and y of shape (N,), found "
                         f"{x.shape} and {y.shape}")
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x))
    rng.shuffle(indices)
    x, y = x[indices], y[indices]
    n_train = int(len(x) * (1 - test_split))
    return (np.array(x[:n_train]), np.array(y[:n_train])), (np.array(x[n_train:]),
                                                           np.array(y[n_train:]))
