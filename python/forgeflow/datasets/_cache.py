"""The local cache and the one-time download shared by the Keras datasets (mnist, cifar10,
cifar100, imdb, boston_housing).

A dataset file is looked for, by Keras's file names, in these directories in order:

1. ``$FORGEFLOW_DATA_DIR`` (when set);
2. ``~/.forgeflow/datasets``;
3. Keras's cache, ``~/.keras/datasets`` (``$KERAS_HOME/datasets`` when ``KERAS_HOME`` is set),
   so files that Keras downloaded before are used as they are.

A file found there is checked against its known hash (a mismatch is an error naming both
hashes). A file found nowhere is downloaded once from the public origin Keras uses, its hash
checked while it streams, and written atomically (a temporary file in the same directory, renamed
when complete and verified) into the first of those directories that is writable; a failed or
interrupted download leaves nothing behind. Without network the error names the file, its URL
and the directories where a copy can be put by hand.

``FORGEFLOW_DATASETS_ORIGIN`` (environment variable) replaces the origins: a file is then fetched
from ``$FORGEFLOW_DATASETS_ORIGIN/<Keras file name>`` (a mirror, or a local server in tests);
its hash is checked all the same.

Standard library and NumPy only: the datasets package loads without the compiled extension.
"""

import hashlib
import http.client
import os
import pickle
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

__all__ = ["DatasetDownloadError", "FILES", "ENV_DATA_DIR", "ENV_ORIGIN", "cache_dirs",
           "locate", "get_file", "file_hash", "load_npz", "RestrictedUnpickler"]

ENV_DATA_DIR = "FORGEFLOW_DATA_DIR"
ENV_ORIGIN = "FORGEFLOW_DATASETS_ORIGIN"

_KERAS_DATASETS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_TORONTO = "https://www.cs.toronto.edu/~kriz/"

# Keras file name -> (origin URL, hash algorithm, expected hex digest). The URLs and hashes are
# the ones keras-team/keras lists in keras/src/datasets/<name>.py (Keras 3). Keras gives SHA-256
# for every file but imdb_word_index.json, for which it lists only an MD5
# (keras/src/datasets/imdb.py, get_word_index): that file is verified with that MD5, as Keras
# verifies it.
FILES = {
    "mnist.npz": (
        _KERAS_DATASETS + "mnist.npz", "sha256",
        "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),
    "cifar-10-python.tar.gz": (
        _TORONTO + "cifar-10-python.tar.gz", "sha256",
        "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"),
    "cifar-100-python.tar.gz": (
        _TORONTO + "cifar-100-python.tar.gz", "sha256",
        "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"),
    "imdb.npz": (
        _KERAS_DATASETS + "imdb.npz", "sha256",
        "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"),
    "imdb_word_index.json": (
        _KERAS_DATASETS + "imdb_word_index.json", "md5", "bfafd718b763782e994055a2d397834f"),
    "boston_housing.npz": (
        _KERAS_DATASETS + "boston_housing.npz", "sha256",
        "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"),
}

_CHUNK = 1 << 20
_TIMEOUT_S = 60


class DatasetDownloadError(OSError):
    """A dataset file is in none of the cache directories and could not be downloaded (no
    network, an HTTP error, or a connection that closed before the end of the file). The message
    names the file, the URL and the directories where a copy can be put by hand."""


def cache_dirs():
    """The directories searched for dataset files, in order (see the module docstring)."""
    dirs = []
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        dirs.append(Path(os.path.expanduser(env)))
    dirs.append(Path(os.path.expanduser("~")) / ".forgeflow" / "datasets")
    keras_home = os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")
    dirs.append(Path(os.path.expanduser(keras_home)) / "datasets")
    return dirs


def _spec(key):
    try:
        return FILES[key]
    except KeyError:
        raise KeyError(f"no dataset file named {key!r}; known: {sorted(FILES)}") from None


def url_of(key):
    """Where ``key`` (a Keras file name) is downloaded from: its Keras origin, or
    ``$FORGEFLOW_DATASETS_ORIGIN/<key>`` when that variable is set."""
    base = os.environ.get(ENV_ORIGIN)
    if base:
        return base.rstrip("/") + "/" + key
    return _spec(key)[0]


def file_hash(path, algorithm="sha256"):
    """The hex digest of the file at ``path``."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_name(name, what):
    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(f"{what} must be a file name (str), received {type(name).__name__}")
    name = os.fspath(name)
    if not name or name in (os.curdir, os.pardir):
        raise ValueError(f"{what} must be a file name, received {name!r}")
    if os.sep in name or (os.altsep and os.altsep in name):
        raise ValueError(
            f"{what} must be a file name in the cache directories, not a path (as in Keras 3); "
            f"received {what}={name!r}. Put the file in a directory and set ${ENV_DATA_DIR} to "
            "that directory instead.")
    return name


def locate(candidates):
    """The first existing ``(path, kind)`` among ``candidates`` (``(relative path, kind)`` pairs,
    kind ``"file"`` or ``"dir"``), trying every candidate in each cache directory before the
    next directory; None when there is none."""
    for directory in cache_dirs():
        for rel, kind in candidates:
            p = directory / rel
            if (kind == "file" and p.is_file()) or (kind == "dir" and p.is_dir()):
                return p, kind
    return None


def _verify(path, key):
    _, algorithm, expected = _spec(key)
    actual = file_hash(path, algorithm)
    if actual != expected:
        raise ValueError(
            f"{path}: its {algorithm} is {actual}, expected {expected} (the {key} that Keras "
            "publishes): the file is incomplete, damaged or a different file. Delete it to "
            "download it again, or replace it with the right file.")
    return path


def _search_text(names):
    looked = "\n".join(f"  - {d}" for d in cache_dirs())
    if not os.environ.get(ENV_DATA_DIR):
        looked = f"  - ${ENV_DATA_DIR} (not set)\n" + looked
    return f"forgeflow looked for {' or '.join(names)} in:\n{looked}"


def get_file(key, names=None, extra=()):
    """The local path of the dataset file ``key`` (a key of ``FILES``), downloading it first
    when no cache directory holds it.

    ``names``: the local file names to look for (default: ``[key]``); the first is the name a
    download is written under. ``extra``: more ``(relative path, kind)`` candidates (an
    extracted directory, Keras's other cache names); a directory found this way is returned as
    is, unverified. Files found are verified against ``FILES[key]``'s hash.

    Returns ``(path, kind)`` with kind ``"file"`` or ``"dir"``."""
    names = [_check_name(n, "path") for n in (names or [key])]
    found = locate([(n, "file") for n in names] + list(extra))
    if found is not None:
        path, kind = found
        return (_verify(path, key) if kind == "file" else path), kind
    return _download(key, names[0], names), "file"


def _writable_dir():
    """The first cache directory that exists or can be created and is writable, or None."""
    for d in cache_dirs():
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(d, os.W_OK | os.X_OK):
            return d
    return None


def _download(key, name, names):
    url = url_of(key)
    _, algorithm, expected = _spec(key)
    directory = _writable_dir()
    manual = ("Without network, download it elsewhere from that URL and copy it into one of "
              f"these directories (or set ${ENV_DATA_DIR} to a directory that holds it).")
    if directory is None:
        raise DatasetDownloadError(
            f"Cannot download {key} from {url}: none of the cache directories can be created "
            f"or written. {_search_text(names)}\n{manual}")
    target = directory / name
    print(f"Downloading data from {url}")
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            actual = _fetch(url, out, algorithm, key, names, manual)
            if actual != expected:
                raise ValueError(
                    f"Downloaded {key} from {url}, but its {algorithm} is {actual}, expected "
                    f"{expected}: the download is damaged or not the expected file. Nothing was "
                    f"written to {directory}.")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
        tmp = None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
    return target


def _fetch(url, out, algorithm, key, names, manual):
    """Streams ``url`` into ``out``; returns the hex digest. A network error, an HTTP error or a
    body shorter than its Content-Length raises DatasetDownloadError."""
    h = hashlib.new(algorithm)
    received, total = 0, None

    def fail(reason):
        return DatasetDownloadError(
            f"Cannot download {key} from {url}: {reason}. {_search_text(names)}\n{manual}")

    try:
        response = urllib.request.urlopen(url, timeout=_TIMEOUT_S)
    except urllib.error.HTTPError as e:
        raise fail(f"HTTP error {e.code} {e.reason}") from None
    except urllib.error.URLError as e:
        raise fail(f"{e.reason}") from None
    except (http.client.HTTPException, OSError) as e:
        raise fail(f"{type(e).__name__}: {e}") from None
    except ValueError as e:  # not a URL urllib can open (a bad $FORGEFLOW_DATASETS_ORIGIN)
        raise fail(f"invalid URL ({e})") from None
    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        while True:
            try:
                chunk = response.read(_CHUNK)
            except (http.client.HTTPException, OSError) as e:
                raise fail(f"the connection failed after {received} bytes "
                           f"({type(e).__name__}: {e})") from None
            if not chunk:
                break
            h.update(chunk)
            out.write(chunk)  # a write error (disk full) propagates as it is
            received += len(chunk)
    if total is not None and received != total:
        raise fail(f"the connection closed after {received} of {total} bytes")
    return h.hexdigest()


# ------------------------------------------------------------------ safe unpickling
def _numpy_globals():
    """The only globals a dataset pickle may name: what rebuilds a NumPy array (the names of
    NumPy 1 and NumPy 2, each mapped to the object this NumPy has, without importing the
    deprecated ``numpy.core`` alias)."""
    try:
        from numpy._core import multiarray
    except ImportError:  # NumPy 1
        from numpy.core import multiarray
    return {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
            ("numpy.core.multiarray", "_reconstruct"): multiarray._reconstruct,
            ("numpy._core.multiarray", "_reconstruct"): multiarray._reconstruct}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles data (dicts, lists, numbers, bytes) and NumPy arrays only: any other global a
    pickle names is refused, so a tampered dataset file cannot run code (as Keras's
    ``npz_utils.RestrictedUnpickler``)."""

    _ALLOWED = _numpy_globals()

    def find_class(self, module, name):
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name} from a dataset file: only NumPy arrays and "
                "plain data are allowed (the file is damaged or not what it claims)") from None


def _read_npy(raw, path, member):
    import io
    fp = io.BytesIO(raw)
    try:
        return np.lib.format.read_array(fp, allow_pickle=False)
    except ValueError:
        pass  # an object array: its body is a pickle
    fp.seek(0)
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            np.lib.format.read_array_header_1_0(fp)
        else:
            np.lib.format.read_array_header_2_0(fp)
        return RestrictedUnpickler(fp).load()
    except (ValueError, EOFError, pickle.UnpicklingError) as e:
        raise ValueError(f"{path}: member {member} is not a readable NumPy array: {e}") from None


def load_npz(path, required):
    """The arrays of the ``.npz`` file at ``path`` as a dict; object arrays (IMDB's ragged
    sequences) are read with :class:`RestrictedUnpickler`. ``required``: the keys the file must
    hold (an error names the file, the missing keys and those found)."""
    import zipfile
    try:
        with zipfile.ZipFile(path) as archive:
            arrays = {}
            for member in archive.namelist():
                if member.endswith(".npy"):
                    arrays[member[:-4]] = _read_npy(archive.read(member), path, member)
    except zipfile.BadZipFile as e:
        raise ValueError(f"{path}: not a NumPy .npz archive ({e})") from None
    missing = [k for k in required if k not in arrays]
    if missing:
        raise ValueError(f"{path}: expected the arrays {list(required)}, missing {missing} "
                         f"(found {sorted(arrays)})")
    return arrays
