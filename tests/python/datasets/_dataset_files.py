"""Test helper: small files in the real formats of Keras's dataset files (mnist.npz, the CIFAR
python-version tar.gz archives of Python-2 pickles, imdb.npz with ragged object arrays,
imdb_word_index.json, boston_housing.npz), and a local HTTP server that serves them (nothing
reaches the internet)."""
import hashlib
import http.server
import io
import json
import pickle
import struct
import tarfile
import threading

import numpy as np

try:
    from numpy._core import multiarray as _multiarray
except ImportError:  # NumPy 1
    from numpy.core import multiarray as _multiarray


class Py2Pickler(pickle._Pickler):
    """Writes what Python 2's cPickle wrote for the CIFAR batches (protocol 2): byte strings as
    BINSTRING opcodes (Python 2 ``str``) and NumPy arrays through
    ``numpy.core.multiarray._reconstruct``."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str

    def save_global(self, obj, name=None):
        if obj is _multiarray._reconstruct:
            self.write(pickle.GLOBAL + b"numpy.core.multiarray\n_reconstruct\n")
            self.memoize(obj)
            return
        super().save_global(obj, name)


def py2_pickle(obj):
    out = io.BytesIO()
    Py2Pickler(out, protocol=2).dump(obj)
    return out.getvalue()


def npz_bytes(**arrays):
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def tar_gz(members):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def mnist(n_train=5, n_test=3, seed=0):
    rng = np.random.default_rng(seed)
    arrays = dict(x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
                  y_train=rng.integers(0, 10, n_train).astype(np.uint8),
                  x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
                  y_test=rng.integers(0, 10, n_test).astype(np.uint8))
    return npz_bytes(**arrays), arrays


def cifar_batch(data, **labels):
    d = {b"batch_label": b"training batch", b"data": data,
         b"filenames": [b"img_%d.png" % i for i in range(len(data))]}
    d.update({k.encode(): list(map(int, v)) for k, v in labels.items()})
    return py2_pickle(d)


def cifar10(per_batch=2, n_test=3, seed=0):
    """(archive bytes, {member: (data (N, 3072) uint8, labels)})."""
    rng = np.random.default_rng(seed)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        n = n_test if name == "test_batch" else per_batch
        batches[name] = (rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                         rng.integers(0, 10, n))
    members = {f"cifar-10-batches-py/{k}": cifar_batch(d, labels=y) for k, (d, y) in
               batches.items()}
    members["cifar-10-batches-py/batches.meta"] = py2_pickle({b"label_names": [b"airplane"]})
    members["cifar-10-batches-py/readme.html"] = b"<html></html>"
    return tar_gz(members), members, batches


def cifar100(n_train=4, n_test=2, seed=0):
    rng = np.random.default_rng(seed)
    splits = {}
    for name, n in (("train", n_train), ("test", n_test)):
        splits[name] = (rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                        rng.integers(0, 100, n), rng.integers(0, 20, n))
    members = {f"cifar-100-python/{k}": cifar_batch(d, fine_labels=f, coarse_labels=c)
               for k, (d, f, c) in splits.items()}
    members["cifar-100-python/meta"] = py2_pickle({b"fine_label_names": [b"apple"]})
    return tar_gz(members), splits


def ragged(rows):
    arr = np.empty(len(rows), dtype=object)
    for i, r in enumerate(rows):
        arr[i] = list(r)
    return arr


def imdb(x_train, y_train, x_test, y_test):
    return npz_bytes(x_train=ragged(x_train), y_train=np.asarray(y_train, dtype=np.int64),
                     x_test=ragged(x_test), y_test=np.asarray(y_test, dtype=np.int64))


def word_index(words):
    return json.dumps(words).encode()


def boston(n=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 13))
    y = rng.uniform(10, 50, size=n)
    return npz_bytes(x=x, y=y), x, y


def digest(data, algorithm="sha256"):
    return hashlib.new(algorithm, data).hexdigest()


class FileServer:
    """An HTTP server on 127.0.0.1 serving ``files`` (name -> bytes) at ``/<name>``; names in
    ``drop`` get their full Content-Length but only half of the body before the connection
    closes. ``requests`` lists the names asked for."""

    def __init__(self):
        self.files, self.drop, self.requests = {}, set(), []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.lstrip("/")
                owner.requests.append(name)
                data = owner.files.get(name)
                if data is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:len(data) // 2] if name in owner.drop else data)
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()
