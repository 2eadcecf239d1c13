"""CIFAR-10 small images: ``load_data()`` as ``keras.datasets.cifar10.load_data``, reading
``cifar-10-python.tar.gz`` from the local cache (or Keras's cached copy or extraction) or
downloading it once (``_cache``)."""

import numpy as np

from . import _cache, _cifar

__all__ = ["load_data", "CLASS_NAMES"]

CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck"]

_FOLDER = "cifar-10-batches-py"
_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]
# Where Keras leaves it: Keras 3 stores the archive as "<dirname>_archive" and extracts it
# into "cifar-10-batches-py-target/"; tf.keras 2 used "cifar-10-batches-py.tar.gz" and
# "cifar-10-batches-py/".
_NAMES = ["cifar-10-python.tar.gz", "cifar-10-batches-py-target_archive",
          "cifar-10-batches-py.tar.gz"]
_DIRS = [("cifar-10-batches-py-target/cifar-10-batches-py", "dir"), (_FOLDER, "dir")]


def load_data():
    """Loads the CIFAR-10 dataset: 50,000 32x32 colour training images and 10,000 test images
    in 10 classes (:data:`CLASS_NAMES`).

    The archive is looked for in ``$FORGEFLOW_DATA_DIR``, ``~/.forgeflow/datasets`` and
    ``~/.keras/datasets`` (also as Keras caches or extracts it), else downloaded once from the
    origin Keras uses and checked against Keras's SHA-256.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes (50000, 32, 32, 3)
        (channels last), (50000, 1), (10000, 32, 32, 3), (10000, 1); labels 0-9.
    """
    path, kind = _cache.get_file("cifar-10-python.tar.gz", names=_NAMES, extra=_DIRS)
    raw = _cifar.read_members(path, kind, _FOLDER, _TRAIN + ["test_batch"])

    def batch(member):
        return _cifar.load_batch(raw[member], _cifar.where(path, kind, _FOLDER, member),
                                 "labels", len(CLASS_NAMES))

    train = [batch(m) for m in _TRAIN]
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train]).reshape(-1, 1)
    x_test, y_test = batch("test_batch")
    return ((_cifar.to_nhwc(x_train), y_train),
            (_cifar.to_nhwc(x_test), y_test.reshape(-1, 1)))
