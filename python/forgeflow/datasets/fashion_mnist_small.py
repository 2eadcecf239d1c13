"""Small Fashion-MNIST subset shipped inside the package (for the README demo).

The first 6000 training and first 1000 test images of the real Fashion-MNIST,
stored as gzipped IDX files in ``forgeflow/datasets/data/`` (made by
``make_small_fashion_mnist.py``). Works offline with no system dataset.
"""

from pathlib import Path

from ._idx import read_idx
from .fashion_mnist import CLASS_NAMES

__all__ = ["load_data", "CLASS_NAMES", "DATA_DIR", "FILES"]

DATA_DIR = Path(__file__).resolve().parent / "data"
PREFIX = "fashion-mnist-small-"
FILES = {
    "train_images": PREFIX + "train-images-idx3-ubyte.gz",
    "train_labels": PREFIX + "train-labels-idx1-ubyte.gz",
    "test_images": PREFIX + "t10k-images-idx3-ubyte.gz",
    "test_labels": PREFIX + "t10k-labels-idx1-ubyte.gz",
}
N_TRAIN = 6000
N_TEST = 1000


def load_data():
    """Return ``((x_train, y_train), (x_test, y_test))`` uint8 arrays of shapes
    (6000, 28, 28), (6000,), (1000, 28, 28), (1000,)."""
    missing = [n for n in FILES.values() if not (DATA_DIR / n).is_file()]
    if missing:
        raise FileNotFoundError(
            f"The packaged small Fashion-MNIST files are missing from {DATA_DIR}: "
            f"{', '.join(missing)}. The installation is incomplete (package data not "
            "installed); regenerate them with "
            "`python3 python/forgeflow/datasets/make_small_fashion_mnist.py` from a "
            "source checkout, or use forgeflow.datasets.fashion_mnist.load_data()."
        )
    out = []
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        x = read_idx(DATA_DIR / FILES[f"{split}_images"], expected_shape=(n, 28, 28))
        y = read_idx(DATA_DIR / FILES[f"{split}_labels"], expected_shape=(n,))
        out.append((x, y))
    return tuple(out)
