"""Fashion-MNIST loader: ``load_data()`` like ``keras.datasets.fashion_mnist``.

Nothing is downloaded. The four IDX files (gzipped or not) are read from the
first of these directories that holds all four:

1. ``$FORGEFLOW_DATA_DIR`` (the files directly in it, or in its
   ``fashion-mnist`` subfolder);
2. ``~/.forgeflow/datasets/fashion-mnist``;
3. ``/usr/share/datasets/fashion-mnist`` (Debian package ``dataset-fashion-mnist``).
"""

import os
from pathlib import Path

from ._idx import read_idx

__all__ = ["load_data", "CLASS_NAMES", "FILES", "candidate_dirs", "find_data_dir"]

CLASS_NAMES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

# Base names; each may be present with or without a ".gz" suffix.
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

ENV_VAR = "FORGEFLOW_DATA_DIR"
SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
SOURCE_URL = "https://github.com/zalandoresearch/fashion-mnist"


def _user_dir():
    return Path(os.path.expanduser("~")) / ".forgeflow" / "datasets" / "fashion-mnist"


def candidate_dirs():
    """The directories searched, in order."""
    dirs = []
    env = os.environ.get(ENV_VAR)
    if env:
        base = Path(os.path.expanduser(env))
        dirs += [base, base / "fashion-mnist"]
    dirs += [_user_dir(), SYSTEM_DIR]
    return dirs


def _locate(directory, base):
    for name in (base + ".gz", base):
        p = Path(directory) / name
        if p.is_file():
            return p
    return None


def find_data_dir():
    """Return ``(directory, {key: path})`` for the first complete directory, or
    raise FileNotFoundError explaining where we looked and how to get the files."""
    searched = candidate_dirs()
    for d in searched:
        paths = {k: _locate(d, base) for k, base in FILES.items()}
        if all(paths.values()):
            return d, paths
    names = ", ".join(f"{b}.gz" for b in FILES.values())
    looked = "\n".join(f"  - {d}" for d in searched)
    if not os.environ.get(ENV_VAR):
        looked = f"  - ${ENV_VAR} (not set)\n" + looked
    raise FileNotFoundError(
        "Fashion-MNIST files not found. forgeflow never downloads data; it looks for "
        f"the four files {names} (gzipped or not) in the first of these directories "
        f"that has all four:\n{looked}\n"
        "To get them, do one of:\n"
        "  * sudo apt-get install dataset-fashion-mnist   "
        f"(installs them in {SYSTEM_DIR})\n"
        f"  * download the four files from {SOURCE_URL} (directory data/fashion) "
        f"into {_user_dir()}\n"
        f"  * put them in a directory of your choice and set {ENV_VAR} to it "
        "(or to its parent, with the files in a 'fashion-mnist' subfolder)"
    )


def _load_split(images_path, labels_path):
    x = read_idx(images_path, expected_ndim=3, expected_shape=(None, 28, 28))
    y = read_idx(labels_path, expected_ndim=1)
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"{images_path} holds {x.shape[0]} images but {labels_path} holds "
            f"{y.shape[0]} labels; expected the same number (mismatched files?)."
        )
    if y.size and int(y.max()) >= len(CLASS_NAMES):
        raise ValueError(
            f"{labels_path}: expected labels in 0..{len(CLASS_NAMES) - 1}, found "
            f"{int(y.max())}; this is not a Fashion-MNIST label file."
        )
    return x, y


def load_data():
    """Load Fashion-MNIST.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``, uint8 arrays of shapes
        (60000, 28, 28), (60000,), (10000, 28, 28), (10000,) for the full set.
        Labels index :data:`CLASS_NAMES`.
    """
    _, p = find_data_dir()
    train = _load_split(p["train_images"], p["train_labels"])
    test = _load_split(p["test_images"], p["test_labels"])
    return train, test
