"""Tests for forgeflow.datasets (IDX reader, Fashion-MNIST loaders)."""

import gzip
import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import load_module  # noqa: E402

datasets = load_module("datasets/__init__.py")
fm = datasets.fashion_mnist
small = datasets.fashion_mnist_small
idx = sys.modules["forgeflow.datasets._idx"]

SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")


def idx_bytes(arr, code=0x08):
    arr = np.asarray(arr, dtype=np.uint8)
    return bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, ">u4").tobytes() + arr.tobytes()


def write_tiny_set(d, gz=True, n_train=3, n_test=2):
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.arange(n_train, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test, dtype=np.uint8) + 5) % 10,
    }
    for name, arr in arrays.items():
        data = idx_bytes(arr)
        if gz:
            (d / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (d / name).write_bytes(data)
    return arrays


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No env var, an empty home, and no system directory."""
    monkeypatch.delenv("FORGEFLOW_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(fm, "SYSTEM_DIR", tmp_path / "no-system-dir")
    return tmp_path


# ------------------------------------------------------------------ IDX reader
def test_read_idx_plain_and_gzip(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(idx_bytes(arr))
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(arr)))
    for p in ("a", "a.gz"):
        out = idx.read_idx(tmp_path / p)
        assert out.dtype == np.uint8 and out.shape == (2, 3, 4)
        np.testing.assert_array_equal(out, arr)
        assert out.flags.writeable


def test_write_idx_roundtrip(tmp_path):
    arr = np.arange(10, dtype=np.uint8)
    idx.write_idx(tmp_path / "l.gz", arr)
    assert (tmp_path / "l.gz").read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(idx.read_idx(tmp_path / "l.gz"), arr)
    with pytest.raises(ValueError, match="uint8"):
        idx.write_idx(tmp_path / "f", np.zeros(3, np.float32))


def test_read_idx_truncated_data(tmp_path):
    arr = np.zeros((2, 28, 28), np.uint8)
    p = tmp_path / "imgs"
    p.write_bytes(idx_bytes(arr)[:-10])
    with pytest.raises(ValueError) as e:
        idx.read_idx(p)
    msg = str(e.value)
    assert str(p) in msg and "expected 1568 data bytes" in msg and "found 1558" in msg
    assert "truncated" in msg


def test_read_idx_trailing_bytes(tmp_path):
    p = tmp_path / "l"
    p.write_bytes(idx_bytes(np.zeros(4)) + b"\x00")
    with pytest.raises(ValueError, match=r"expected 4 data bytes .* found 5.*trailing"):
        idx.read_idx(p)


def test_read_idx_dims_whose_product_passes_2_64(tmp_path):
    # 2^16 x 2^16 x 2^16 x 2^16 = 2^64 wrapped to 0 in int64, so an empty body "matched" and the
    # error came from NumPy's reshape instead of the size check.
    p = tmp_path / "huge"
    p.write_bytes(bytes([0, 0, 0x08, 4]) + np.full(4, 65536, ">u4").tobytes())
    with pytest.raises(ValueError, match=r"expected 18446744073709551616 data bytes .* found 0; "
                                         r"the file is truncated"):
        idx.read_idx(p)


def test_read_idx_truncated_gzip(tmp_path):
    p = tmp_path / "imgs.gz"
    p.write_bytes(gzip.compress(idx_bytes(np.zeros((5, 28, 28))))[:-20])
    with pytest.raises(ValueError, match="truncated or corrupt") as e:
        idx.read_idx(p)
    assert str(p) in str(e.value)


def test_read_idx_bad_magic_dtype_header(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(b"GIF89a" + b"\x00" * 20)
    with pytest.raises(ValueError, match="not an IDX file") as e:
        idx.read_idx(p)
    assert str(p) in str(e.value)
    p.write_bytes(idx_bytes(np.zeros(3), code=0x0D))
    with pytest.raises(ValueError, match=r"expected IDX dtype code 0x08 \(unsigned byte\), found 0x0d \(float32\)"):
        idx.read_idx(p)
    p.write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match="found only 2 byte"):
        idx.read_idx(p)
    p.write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 1]))
    with pytest.raises(ValueError, match="expected a 16-byte header for 3 dimension"):
        idx.read_idx(p)


def test_read_idx_expected_rank_and_shape(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(idx_bytes(np.zeros((2, 27, 28))))
    with pytest.raises(ValueError, match="expected an IDX file with 1 dimension"):
        idx.read_idx(p, expected_ndim=1)
    with pytest.raises(ValueError, match=r"expected dimensions \(N, 28, 28\), found \(2, 27, 28\)"):
        idx.read_idx(p, expected_shape=(None, 28, 28))


# ------------------------------------------------------------- Fashion-MNIST
def test_class_names():
    assert fm.CLASS_NAMES == [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]
    assert small.CLASS_NAMES is fm.CLASS_NAMES


@pytest.fixture(scope="module")
def full():
    if not SYSTEM_DIR.is_dir():
        pytest.skip(f"{SYSTEM_DIR} absent (apt-get install dataset-fashion-mnist)")
    old = os.environ.pop("FORGEFLOW_DATA_DIR", None)
    try:
        return fm.load_data()
    finally:
        if old is not None:
            os.environ["FORGEFLOW_DATA_DIR"] = old


def test_load_full_dataset_from_debian_package(full):
    (x_train, y_train), (x_test, y_test) = full
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
    assert list(y_train[:3]) == [9, 0, 0] and list(y_test[:3]) == [9, 2, 1]
    assert np.array_equal(np.bincount(y_train), [6000] * 10)
    assert np.array_equal(np.bincount(y_test), [1000] * 10)
    assert x_train.max() == 255 and x_train.min() == 0


def test_env_dir_direct_and_subfolder(isolated, monkeypatch):
    d = isolated / "data"
    arrays = write_tiny_set(d, gz=True)
    monkeypatch.setenv("FORGEFLOW_DATA_DIR", str(d))
    (x_train, y_train), (x_test, y_test) = fm.load_data()
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])
    assert x_train.shape == (3, 28, 28) and x_test.shape == (2, 28, 28)

    root = isolated / "root"
    arrays = write_tiny_set(root / "fashion-mnist", gz=False, n_train=4)
    monkeypatch.setenv("FORGEFLOW_DATA_DIR", str(root))
    (x_train, y_train), _ = fm.load_data()
    assert x_train.shape == (4, 28, 28)
    np.testing.assert_array_equal(y_train, arrays["train-labels-idx1-ubyte"])


def test_incomplete_dir_is_skipped_for_next(isolated, monkeypatch):
    d = isolated / "partial"
    write_tiny_set(d)
    (d / "t10k-labels-idx1-ubyte.gz").unlink()
    monkeypatch.setenv("FORGEFLOW_DATA_DIR", str(d))
    home_set = isolated / "home" / ".forgeflow" / "datasets" / "fashion-mnist"
    write_tiny_set(home_set, n_train=5)
    (x_train, _), _ = fm.load_data()
    assert x_train.shape == (5, 28, 28)
    assert fm.find_data_dir()[0] == home_set


def test_not_found_message(isolated, monkeypatch):
    monkeypatch.setenv("FORGEFLOW_DATA_DIR", str(isolated / "mine"))
    with pytest.raises(FileNotFoundError) as e:
        fm.load_data()
    msg = str(e.value)
    for place in (
        isolated / "mine",
        isolated / "mine" / "fashion-mnist",
        isolated / "home" / ".forgeflow" / "datasets" / "fashion-mnist",
        isolated / "no-system-dir",
    ):
        assert str(place) in msg
    assert "apt-get install dataset-fashion-mnist" in msg
    assert "https://github.com/zalandoresearch/fashion-mnist" in msg
    assert "FORGEFLOW_DATA_DIR" in msg
    for name in fm.FILES.values():
        assert name in msg

    monkeypatch.delenv("FORGEFLOW_DATA_DIR")
    with pytest.raises(FileNotFoundError, match=r"\$FORGEFLOW_DATA_DIR \(not set\)"):
        fm.load_data()


def test_truncated_file_in_set_names_file(isolated, monkeypatch):
    d = isolated / "data"
    write_tiny_set(d, gz=False)
    p = d / "train-images-idx3-ubyte"
    p.write_bytes(p.read_bytes()[:-100])
    monkeypatch.setenv("FORGEFLOW_DATA_DIR", str(d))
    with pytest.raises(ValueError, match="truncated") as e:
        fm.load_data()
    assert str(p) in str(e.value)


def test_mismatched_counts_and_bad_labels(isolated, monkeypatch):
    d = isolated / "data"
    write_tiny_set(d, gz=False)
    (d / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(7)))
    monkeypatch.setenv("FORGEFLOW_DATA_DIR", str(d))
    with pytest.raises(ValueError, match="holds 3 images but .* holds 7 labels"):
        fm.load_data()
    (d / "train-labels-idx1-ubyte").write_bytes(idx_bytes([1, 2, 200]))
    with pytest.raises(ValueError, match="expected labels in 0..9, found 200"):
        fm.load_data()
    (d / "train-labels-idx1-ubyte").write_bytes(idx_bytes([1, 2, 3]))
    (d / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((3, 32, 32))))
    with pytest.raises(ValueError, match=r"expected dimensions \(N, 28, 28\), found \(3, 32, 32\)"):
        fm.load_data()


# ------------------------------------------------------- packaged small set
def test_small_packaged_dataset(isolated):
    # works with no system / env data at all
    (x_train, y_train), (x_test, y_test) = small.load_data()
    assert x_train.shape == (6000, 28, 28) and y_train.shape == (6000,)
    assert x_test.shape == (1000, 28, 28) and y_test.shape == (1000,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
    assert set(np.unique(y_train)) == set(range(10))
    assert np.bincount(y_train).min() >= 500 and np.bincount(y_test).min() >= 80
    assert y_test[0] == 9 and list(y_train[:3]) == [9, 0, 0]
    assert all(p.name.startswith("fashion-mnist-small-") for p in small.DATA_DIR.iterdir())


def test_small_matches_full(full):
    (x_train, y_train), (x_test, y_test) = small.load_data()
    (fx_train, fy_train), (fx_test, fy_test) = full
    assert y_test[0] == fy_test[0]
    np.testing.assert_array_equal(x_train, fx_train[:6000])
    np.testing.assert_array_equal(y_train, fy_train[:6000])
    np.testing.assert_array_equal(x_test, fx_test[:1000])
    np.testing.assert_array_equal(y_test, fy_test[:1000])


def test_small_missing_files_message(monkeypatch, tmp_path):
    monkeypatch.setattr(small, "DATA_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="make_small_fashion_mnist.py"):
        small.load_data()
