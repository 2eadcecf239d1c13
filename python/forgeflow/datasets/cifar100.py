"""CIFAR-100 small images: ``load_data(label_mode)`` as ``keras.datasets.cifar100.load_data``,
reading ``cifar-100-python.tar.gz`` from the local cache (or Keras's cached copy or extraction)
or downloading it once (``_cache``)."""

from . import _cache, _cifar

__all__ = ["load_data"]

_FOLDER = "cifar-100-python"
# Keras 3's cache names ("<dirname>_archive", extracted into "cifar-100-python-target/") and
# tf.keras 2's ("cifar-100-python.tar.gz", extracted into "cifar-100-python/").
_NAMES = ["cifar-100-python.tar.gz", "cifar-100-python-target_archive"]
_DIRS = [("cifar-100-python-target/cifar-100-python", "dir"), (_FOLDER, "dir")]
_NUM_CLASSES = {"fine": 100, "coarse": 20}


def load_data(label_mode="fine"):
    """Loads the CIFAR-100 dataset: 50,000 32x32 colour training images and 10,000 test images,
    labelled over 100 fine classes grouped into 20 coarse superclasses.

    Args:
        label_mode: ``"fine"`` (the 100 classes) or ``"coarse"`` (the 20 superclasses).

    The archive is looked for in ``$FORGEFLOW_DATA_DIR``, ``~/.forgeflow/datasets`` and
    ``~/.keras/datasets`` (also as Keras caches or extracts it), else downloaded once from the
    origin Keras uses and checked against Keras's SHA-256.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes (50000, 32, 32, 3)
        (channels last), (50000, 1), (10000, 32, 32, 3), (10000, 1) (the labels are uint8, as
        Keras documents them).
    """
    if not isinstance(label_mode, str) or label_mode not in _NUM_CLASSES:
        raise ValueError('`label_mode` must be one of `"fine"`, `"coarse"`. '
                         f"Received: label_mode={label_mode!r}.")
    path, kind = _cache.get_file("cifar-100-python.tar.gz", names=_NAMES, extra=_DIRS)
    raw = _cifar.read_members(path, kind, _FOLDER, ["train", "test"])
    out = []
    for member in ("train", "test"):
        x, y = _cifar.load_batch(raw[member], _cifar.where(path, kind, _FOLDER, member),
                                 f"{label_mode}_labels", _NUM_CLASSES[label_mode])
        out.append((_cifar.to_nhwc(x), y.reshape(-1, 1)))
    return tuple(out)
