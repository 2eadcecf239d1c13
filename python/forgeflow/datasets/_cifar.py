"""Reading the CIFAR-10 / CIFAR-100 "python version" archives (shared by cifar10 and cifar100):
a tar.gz of pickled batches, each a dict with ``data`` (N, 3072) uint8, channels-first rows of
32x32 pixels, and its labels. Members are read straight from the archive (nothing is extracted
to disk), or from a directory where Keras (or a user) extracted it, and unpickled with
``_cache.RestrictedUnpickler`` (arrays and plain data only)."""

import io
import os
import pickle
import tarfile
import zlib

import numpy as np

from . import _cache

__all__ = ["read_members", "load_batch", "to_nhwc", "where"]


def read_members(path, kind, folder, members):
    """The bytes of ``folder/<member>`` for each member, from the tar.gz at ``path`` (kind
    "file") or the extracted directory ``path/folder`` or ``path`` itself (kind "dir")."""
    if kind == "dir":
        base = path / folder if (path / folder).is_dir() else path
        missing = [m for m in members if not (base / m).is_file()]
        if missing:
            raise ValueError(f"{base}: expected the CIFAR batch files {members}, missing "
                             f"{missing} (an incomplete extraction? Delete the directory to use "
                             "the archive instead)")
        return {m: (base / m).read_bytes() for m in members}
    wanted = {f"{folder}/{m}": m for m in members}
    found = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for info in tar:
                name = wanted.get(info.name)
                if name is not None and info.isfile():
                    found[name] = tar.extractfile(info).read()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise ValueError(f"{path}: not a readable tar.gz archive ({e})") from None
    missing = [f"{folder}/{m}" for m in members if m not in found]
    if missing:
        raise ValueError(f"{path}: the archive lacks {missing}; it is not the CIFAR python "
                         "version archive")
    return found


def load_batch(raw, where, label_key, num_classes):
    """``(data (N, 3, 32, 32) uint8, labels (N,) uint8)`` from one pickled batch."""
    try:
        d = _cache.RestrictedUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as e:
        raise ValueError(f"{where}: not a CIFAR batch pickle ({e})") from None
    if not isinstance(d, dict):
        raise ValueError(f"{where}: expected a pickled dict, found {type(d).__name__}")
    d = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in d.items()}
    if "data" not in d or label_key not in d:
        raise ValueError(f"{where}: expected the keys 'data' and {label_key!r}, found "
                         f"{sorted(map(str, d))}")
    data, labels = d["data"], np.asarray(d[label_key])
    if (not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2
            or data.shape[1] != 3 * 32 * 32):
        raise ValueError(f"{where}: expected 'data' as a uint8 array of shape (N, 3072), found "
                         f"{getattr(data, 'dtype', type(data).__name__)} {np.shape(data)}")
    if labels.shape != (data.shape[0],) or (labels.size and labels.dtype.kind not in "iu"):
        raise ValueError(f"{where}: expected {data.shape[0]} integer labels in {label_key!r}, "
                         f"found {labels.dtype} {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{where}: {label_key!r} must lie in 0..{num_classes - 1}, found "
                         f"{int(labels.min())}..{int(labels.max())}")
    return data.reshape(data.shape[0], 3, 32, 32), labels.astype(np.uint8)


def to_nhwc(x):
    """(N, 3, 32, 32) -> (N, 32, 32, 3), channels last as Keras returns them (a copy, so the
    result is C-contiguous)."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def where(path, kind, folder, member):
    """How a batch is named in errors: archive:member, or the file path."""
    return f"{path}:{folder}/{member}" if kind == "file" else os.path.join(str(path), member)
