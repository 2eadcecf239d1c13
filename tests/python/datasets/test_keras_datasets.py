"""ff.datasets.mnist / cifar10 / cifar100 / imdb / boston_housing: Keras's load_data()
signatures and results, the cache directories searched in order ($FORGEFLOW_DATA_DIR,
~/.forgeflow/datasets, Keras's ~/.keras/datasets), the one-time download verified against the
known hash and written atomically, and the errors without network or with a damaged file. Every
file is a small one in the real format, served by a local HTTP server: nothing here reaches the
internet."""
import os
import socket
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _dataset_files as files  # noqa: E402

import forgeflow as ff  # noqa: E402
from forgeflow.datasets import _cache  # noqa: E402


@pytest.fixture
def server():
    s = files.FileServer()
    yield s
    s.close()


@pytest.fixture
def env(monkeypatch, tmp_path, server):
    """An empty home, no $FORGEFLOW_DATA_DIR / $KERAS_HOME, no proxy, and the origins pointed at
    the local server."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in ("FORGEFLOW_DATA_DIR", "KERAS_HOME", "http_proxy", "HTTP_PROXY", "https_proxy",
                "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv(_cache.ENV_ORIGIN, server.url)

    class Env:
        home = tmp_path / "home"
        forgeflow_dir = tmp_path / "home" / ".forgeflow" / "datasets"
        keras_dir = tmp_path / "home" / ".keras" / "datasets"

        @staticmethod
        def publish(name, data, served=True):
            """Serve ``data`` as ``name`` and make it the file's known hash."""
            url, algorithm, _ = _cache.FILES[name]
            monkeypatch.setitem(_cache.FILES, name, (url, algorithm,
                                                     files.digest(data, algorithm)))
            if served:
                server.files[name] = data
    return Env


def _tree(root):
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*") if p.is_file())


# ------------------------------------------------------------------ download and cache
def test_download_once_into_the_first_cache_dir_then_read_from_it(env, server, capsys):
    data, arrays = files.mnist()
    env.publish("mnist.npz", data)
    (x_train, y_train), (x_test, y_test) = ff.datasets.mnist.load_data()
    assert server.requests == ["mnist.npz"]
    assert f"Downloading data from {server.url}/mnist.npz" in capsys.readouterr().out
    assert _tree(env.home) == [".forgeflow/datasets/mnist.npz"]  # and no temporary file
    assert (env.forgeflow_dir / "mnist.npz").read_bytes() == data
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    ff.datasets.mnist.load_data()  # from the cache now
    assert server.requests == ["mnist.npz"]
    assert capsys.readouterr().out == ""


def test_download_goes_to_forgeflow_data_dir_when_set(env, server, monkeypatch, tmp_path):
    data, _ = files.mnist()
    env.publish("mnist.npz", data)
    monkeypatch.setenv("FORGEFLOW_DATA_DIR", str(tmp_path / "data" / "new"))  # created
    ff.datasets.mnist.load_data()
    assert _tree(tmp_path / "data") == ["new/mnist.npz"]
    assert not env.forgeflow_dir.exists()


def test_connection_dropped_mid_file_leaves_nothing(env, server):
    data, _ = files.mnist()
    env.publish("mnist.npz", data)
    server.drop.add("mnist.npz")
    with pytest.raises(ff.datasets.DatasetDownloadError,
                       match=rf"Cannot download mnist\.npz from {server.url}/mnist\.npz: the "
                             rf"connection closed after {len(data) // 2} of {len(data)} bytes"):
        ff.datasets.mnist.load_data()
    assert _tree(env.home) == []


def test_hash_mismatch_names_both_hashes_and_leaves_nothing(env, server):
    data, _ = files.mnist()
    env.publish("mnist.npz", data)
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 0xFF  # one byte changed
    server.files["mnist.npz"] = bytes(damaged)
    actual = files.digest(server.files["mnist.npz"])
    with pytest.raises(ValueError, match=rf"Downloaded mnist\.npz from .*, but its sha256 is "
                                         rf"{actual}, expected {files.digest(data)}.*Nothing was "
                                         r"written"):
        ff.datasets.mnist.load_data()
    assert _tree(env.home) == []


def test_word_index_is_verified_with_the_md5_keras_lists(env, server):
    assert _cache.FILES["imdb_word_index.json"][1:] == ("md5", "bfafd718b763782e994055a2d397834f")
    data = files.word_index({"the": 1, "and": 2})
    env.publish("imdb_word_index.json", data)
    assert ff.datasets.imdb.get_word_index() == {"the": 1, "and": 2}
    server.files["imdb_word_index.json"] = files.word_index({"the": 2})
    (env.forgeflow_dir / "imdb_word_index.json").unlink()
    with pytest.raises(ValueError, match=r"its md5 is [0-9a-f]{32}, expected "):
        ff.datasets.imdb.get_word_index()


def test_no_network_error_names_file_url_and_directories(env, monkeypatch):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(_cache.ENV_ORIGIN, f"http://127.0.0.1:{port}/mirror")
    with pytest.raises(ff.datasets.DatasetDownloadError) as e:
        ff.datasets.boston_housing.load_data()
    msg = str(e.value)
    assert f"Cannot download boston_housing.npz from http://127.0.0.1:{port}/mirror/" \
           "boston_housing.npz" in msg
    assert "forgeflow looked for boston_housing.npz in:\n  - $FORGEFLOW_DATA_DIR (not set)\n" \
           f"  - {env.forgeflow_dir}\n  - {env.keras_dir}\n" in msg
    assert "Without network, download it elsewhere from that URL and copy it into one of these " \
           "directories (or set $FORGEFLOW_DATA_DIR" in msg
    assert isinstance(e.value, OSError)
    assert _tree(env.home) == []


def test_http_error_is_named(env, server):
    env.publish("imdb.npz", b"", served=False)
    with pytest.raises(ff.datasets.DatasetDownloadError, match=r"imdb\.npz .*HTTP error 404"):
        ff.datasets.imdb.load_data()


def test_keras_origins_are_the_default_urls(monkeypatch):
    monkeypatch.delenv(_cache.ENV_ORIGIN, raising=False)
    assert _cache.url_of("mnist.npz") == \
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
    assert _cache.url_of("cifar-10-python.tar.gz") == \
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    monkeypatch.setenv(_cache.ENV_ORIGIN, "http://mirror.example/datasets/")
    assert _cache.url_of("imdb.npz") == "http://mirror.example/datasets/imdb.npz"


# ------------------------------------------------------------------ cache directories
def test_cache_dirs_are_searched_in_order(env, server, monkeypatch, tmp_path):
    data, _ = files.mnist()
    env.publish("mnist.npz", data, served=False)
    mine = tmp_path / "mine"
    for d in (mine, env.forgeflow_dir, env.keras_dir):
        d.mkdir(parents=True)
        (d / "mnist.npz").write_bytes(data)
    monkeypatch.setenv("FORGEFLOW_DATA_DIR", str(mine))
    assert _cache.get_file("mnist.npz") == (mine / "mnist.npz", "file")
    (mine / "mnist.npz").unlink()
    assert _cache.get_file("mnist.npz") == (env.forgeflow_dir / "mnist.npz", "file")
    (env.forgeflow_dir / "mnist.npz").unlink()
    assert _cache.get_file("mnist.npz") == (env.keras_dir / "mnist.npz", "file")
    (x, _), _ = ff.datasets.mnist.load_data()  # Keras's cached copy, used as it is
    assert x.shape == (5, 28, 28) and server.requests == []
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert _cache.cache_dirs()[-1] == tmp_path / "kh" / "datasets"


def test_a_damaged_cached_file_is_an_error_not_a_silent_redownload(env, server):
    data, _ = files.mnist()
    env.publish("mnist.npz", data)
    env.keras_dir.mkdir(parents=True)
    (env.keras_dir / "mnist.npz").write_bytes(data[:100])
    with pytest.raises(ValueError, match=rf"{env.keras_dir / 'mnist.npz'}: its sha256 is "
                                         rf"{files.digest(data[:100])}, expected "
                                         rf"{files.digest(data)} .*Delete it to download it "
                                         "again"):
        ff.datasets.mnist.load_data()
    assert server.requests == []


def test_path_argument_is_a_file_name_not_a_path(env):
    with pytest.raises(ValueError, match=r"path must be a file name in the cache directories, "
                                         r"not a path .*received path='/tmp/mnist\.npz'"):
        ff.datasets.mnist.load_data(path="/tmp/mnist.npz")


def test_custom_cache_name_downloads_from_the_keras_file_name(env, server):
    data, _ = files.mnist()
    env.publish("mnist.npz", data)
    ff.datasets.mnist.load_data(path="digits.npz")
    assert server.requests == ["mnist.npz"]
    assert _tree(env.forgeflow_dir) == ["digits.npz"]


# ------------------------------------------------------------------ loaders
def test_mnist_shapes_and_dtypes(env):
    data, arrays = files.mnist(n_train=7, n_test=4)
    env.publish("mnist.npz", data)
    (x_train, y_train), (x_test, y_test) = ff.datasets.mnist.load_data()
    assert (x_train.shape, y_train.shape, x_test.shape, y_test.shape) == \
        ((7, 28, 28), (7,), (4, 28, 28), (4,))
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}


def _check_cifar10(result, batches):
    (x_train, y_train), (x_test, y_test) = result
    assert x_train.shape == (10, 32, 32, 3) and y_train.shape == (10, 1)
    assert x_test.shape == (3, 32, 32, 3) and y_test.shape == (3, 1)
    assert x_train.dtype == y_train.dtype == x_test.dtype == y_test.dtype == np.uint8
    assert x_train.flags.c_contiguous
    data = np.concatenate([batches[f"data_batch_{i}"][0] for i in range(1, 6)])
    labels = np.concatenate([batches[f"data_batch_{i}"][1] for i in range(1, 6)])
    # each row holds the red plane, then green, then blue, each 32x32 row-major; channels last
    n, i, j = 7, 5, 30
    for c in range(3):
        assert x_train[n, i, j, c] == data[n, c * 1024 + i * 32 + j]
    np.testing.assert_array_equal(x_train, data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(y_train[:, 0], labels)
    np.testing.assert_array_equal(y_test[:, 0], batches["test_batch"][1])


def test_cifar10_from_the_downloaded_archive(env, server):
    archive, _, batches = files.cifar10()
    env.publish("cifar-10-python.tar.gz", archive)
    _check_cifar10(ff.datasets.cifar10.load_data(), batches)
    assert _tree(env.forgeflow_dir) == ["cifar-10-python.tar.gz"]  # read in place, not extracted
    assert ff.datasets.cifar10.CLASS_NAMES[0] == "airplane"


def test_cifar10_from_keras_3s_cache_archive_and_extraction(env, server, tmp_path):
    archive, members, batches = files.cifar10()
    env.publish("cifar-10-python.tar.gz", archive, served=False)
    env.keras_dir.mkdir(parents=True)
    (env.keras_dir / "cifar-10-batches-py-target_archive").write_bytes(archive)
    _check_cifar10(ff.datasets.cifar10.load_data(), batches)
    (env.keras_dir / "cifar-10-batches-py-target_archive").unlink()
    target = env.keras_dir / "cifar-10-batches-py-target"
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    _check_cifar10(ff.datasets.cifar10.load_data(), batches)
    assert server.requests == []
    (target / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(ValueError, match=r"missing \['data_batch_3'\]"):
        ff.datasets.cifar10.load_data()


def test_cifar_refuses_a_pickle_that_would_run_code(env):
    archive, members, _ = files.cifar10()

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    members["cifar-10-batches-py/data_batch_2"] = files.py2_pickle({b"data": Evil()})
    archive = files.tar_gz(members)
    env.publish("cifar-10-python.tar.gz", archive)
    with pytest.raises(ValueError, match=r"data_batch_2: not a CIFAR batch pickle \(refusing to "
                                         r"load posix\.system"):
        ff.datasets.cifar10.load_data()


def test_cifar100_label_modes(env):
    archive, splits = files.cifar100()
    env.publish("cifar-100-python.tar.gz", archive)
    (x_train, y_train), (x_test, y_test) = ff.datasets.cifar100.load_data()
    assert x_train.shape == (4, 32, 32, 3) and x_test.shape == (2, 32, 32, 3)
    assert y_train.shape == (4, 1) and y_train.dtype == np.uint8
    np.testing.assert_array_equal(y_train[:, 0], splits["train"][1])
    np.testing.assert_array_equal(y_test[:, 0], splits["test"][1])
    (_, y_coarse), (_, y_coarse_test) = ff.datasets.cifar100.load_data(label_mode="coarse")
    np.testing.assert_array_equal(y_coarse[:, 0], splits["train"][2])
    np.testing.assert_array_equal(y_coarse_test[:, 0], splits["test"][2])
    np.testing.assert_array_equal(
        x_train, splits["train"][0].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    with pytest.raises(ValueError, match=r'`label_mode` must be one of `"fine"`, `"coarse"`. '
                                         r"Received: label_mode='medium'"):
        ff.datasets.cifar100.load_data(label_mode="medium")


IMDB_TRAIN = [[1, 2, 3], [4, 5], [6, 1, 1, 7], [2]]
IMDB_TEST = [[2, 2], [7, 1, 1, 1, 3]]


def _imdb_order(seed, n_train, n_test):
    # Keras shuffles each split with one RandomState(seed): train first, then test.
    rng = np.random.RandomState(seed)
    train, test = np.arange(n_train), np.arange(n_test)
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


@pytest.fixture
def imdb_env(env):
    env.publish("imdb.npz", files.imdb(IMDB_TRAIN, [1, 0, 1, 0], IMDB_TEST, [0, 1]))
    return env


def test_imdb_defaults_start_char_and_index_from(imdb_env):
    (x_train, y_train), (x_test, y_test) = ff.datasets.imdb.load_data()
    order, order_test = _imdb_order(113, 4, 2)
    assert x_train.dtype == object and x_train.shape == (4,)
    assert [list(s) for s in x_train] == [[1] + [w + 3 for w in IMDB_TRAIN[i]] for i in order]
    assert [list(s) for s in x_test] == [[1] + [w + 3 for w in IMDB_TEST[i]] for i in order_test]
    np.testing.assert_array_equal(y_train, np.array([1, 0, 1, 0])[order])
    np.testing.assert_array_equal(y_test, np.array([0, 1])[order_test])
    assert y_train.dtype == np.int64


def test_imdb_num_words_skip_top_and_oov(imdb_env):
    (x_train, _), _ = ff.datasets.imdb.load_data(num_words=7, skip_top=2, seed=0)
    order, _ = _imdb_order(0, 4, 2)

    def expect(review):
        return [w if 2 <= w < 7 else 2 for w in [1] + [v + 3 for v in review]]
    assert [list(s) for s in x_train] == [expect(IMDB_TRAIN[i]) for i in order]
    (x_train, _), _ = ff.datasets.imdb.load_data(num_words=7, oov_char=None, seed=0,
                                                 start_char=None, index_from=0)
    assert [list(s) for s in x_train] == [[w for w in IMDB_TRAIN[i] if w < 7] for i in order]


def test_imdb_none_num_words_keeps_the_highest_index(imdb_env):
    # Keras turns the single highest index into oov_char when num_words is None; not here.
    (x_train, _), (x_test, _) = ff.datasets.imdb.load_data(start_char=None, index_from=0)
    assert max(max(s) for s in list(x_train) + list(x_test)) == 7


def test_imdb_maxlen_drops_reviews_of_maxlen_or_more(imdb_env):
    (x_train, y_train), (x_test, y_test) = ff.datasets.imdb.load_data(maxlen=4)
    # with the start character the lengths are 4, 3, 5, 2 (train) and 3, 6 (test)
    assert sorted(len(s) for s in x_train) == [2, 3] and len(y_train) == 2
    assert [len(s) for s in x_test] == [3] and len(y_test) == 1
    with pytest.raises(ValueError, match=r"maxlen=2, no sequence was kept\. Increase maxlen"):
        ff.datasets.imdb.load_data(maxlen=2)
    with pytest.raises(ValueError, match=r"`num_words` must be None or an integer >= 1\. "
                                         r"Received: num_words=0"):
        ff.datasets.imdb.load_data(num_words=0)


def test_imdb_equal_length_reviews_stay_lists(env):
    env.publish("imdb.npz", files.imdb([[1, 2], [3, 4]], [0, 1], [[5, 6]], [1]))
    (x_train, _), (x_test, _) = ff.datasets.imdb.load_data()
    assert x_train.shape == (2,) and x_test.shape == (1,) and isinstance(x_train[0], list)


def test_boston_housing_split_and_seed(env):
    data, x, y = files.boston(n=10)
    env.publish("boston_housing.npz", data)
    (x_train, y_train), (x_test, y_test) = ff.datasets.boston_housing.load_data()
    order = np.arange(10)
    np.random.RandomState(113).shuffle(order)
    assert x_train.shape == (8, 13) and x_test.shape == (2, 13)
    np.testing.assert_array_equal(x_train, x[order[:8]])
    np.testing.assert_array_equal(y_test, y[order[8:]])
    (x_train, _), (x_test, _) = ff.datasets.boston_housing.load_data(test_split=0.35, seed=1)
    assert len(x_train) == int(10 * 0.65) and len(x_test) == 10 - int(10 * 0.65)
    (x_train, _), (x_test, _) = ff.datasets.boston_housing.load_data(test_split=0)
    assert len(x_train) == 10 and len(x_test) == 0
    for bad in (1, 1.5, -0.1, "0.2"):
        with pytest.raises(ValueError, match=r"Invalid `test_split` argument"):
            ff.datasets.boston_housing.load_data(test_split=bad)


def test_a_file_of_the_wrong_content_is_named(env):
    env.publish("boston_housing.npz", files.npz_bytes(features=np.zeros((3, 13))))
    with pytest.raises(ValueError, match=r"boston_housing\.npz: expected the arrays \['x', 'y'\], "
                                         r"missing \['x', 'y'\] \(found \['features'\]\)"):
        ff.datasets.boston_housing.load_data()


def test_the_names_resolve():
    for name in ("mnist", "cifar10", "cifar100", "imdb", "boston_housing", "fashion_mnist"):
        assert callable(getattr(ff.datasets, name).load_data), name
    assert callable(ff.datasets.imdb.get_word_index)
    assert callable(ff.utils.to_categorical) and callable(ff.utils.plot_model)
    assert callable(ff.utils.model_to_dot) and callable(ff.version)
