"""Crafted model files whose config integers are each in range (within +-(2^31 - 1)) but whose
shape arithmetic overflows or passes the core's limits (2^31 - 1 elements per sample and per
weight). They used to load and then crash in predict (a ZeroPadding2D output wrapping to a tiny
buffer, a Reshape product wrapping to the input's size, a pool of 2^31 x 2^31 positions) or crash
the loader itself (a Reshape with a -1 dividing by a product wrapped to 0). Each must now be a
ConfigError naming the layer and the limit, or, for a valid config, load and run correctly; valid
but huge models fail with a clear error before allocating, never a MemoryError."""
import json

import numpy as np
import pytest

import forgeflow as ff
from _saving_helpers import replace_section, section

L = ff.layers
S = ff.saving
LIMIT = 2**31 - 1


def _saved(model, tmp_path, name="base.ff"):
    path = tmp_path / name
    model.save(path)
    return path.read_bytes()


def _edit_arch(data, edit):
    arch = json.loads(section(data, b"ARCH"))
    edit(arch)
    return replace_section(data, b"ARCH", json.dumps(arch).encode())


def _layer(arch, class_name):
    return next(e for e in arch["config"]["layers"] if e["class_name"] == class_name)["config"]


def _load(tmp_path, data):
    path = tmp_path / "crafted.ff"
    path.write_bytes(data)
    return ff.models.load_model(path)


def test_zero_padding_whose_output_wraps(tmp_path):
    base = _saved(ff.Sequential([ff.Input(shape=(1, 1, 1)), L.ZeroPadding2D(1, name="zp"),
                                 L.Flatten()]), tmp_path)
    data = _edit_arch(base, lambda a: _layer(a, "ZeroPadding2D").update(
        padding=[[LIMIT, LIMIT], [LIMIT, LIMIT]]))
    with pytest.raises(S.ConfigError, match=r'crafted\.ff.*layer "zp" cannot be built.*'
                                            r"output shape=\(None, 4294967295, 4294967295, 1\).*"
                                            r"the limit is 2147483647 \(2\^31 - 1\)"):
        _load(tmp_path, data)


def test_reshape_whose_product_wraps_to_the_input_size(tmp_path):
    base = _saved(ff.Sequential([ff.Input(shape=(16,)), L.Reshape((4, 4, 1), name="r"),
                                 L.MaxPooling2D(2), L.Flatten()]), tmp_path)
    # 989540 * 1539092 * 48448661 = 4 * 2^64 + 16.
    data = _edit_arch(base, lambda a: _layer(a, "Reshape").update(
        target_shape=[989540, 1539092, 48448661]))
    with pytest.raises(S.ConfigError, match=r'layer "r".*target_shape=\(989540, 1539092, '
                                            r"48448661\).*2147483647"):
        _load(tmp_path, data)


def test_reshape_whose_product_wraps_to_zero(tmp_path):
    base = _saved(ff.Sequential([ff.Input(shape=(16,)), L.Reshape((4, -1))]), tmp_path)
    data = _edit_arch(base, lambda a: _layer(a, "Reshape").update(
        target_shape=[2**30, 2**30, 16, -1]))
    with pytest.raises(S.ConfigError, match="2147483647"):  # was SIGFPE in the loader
        _load(tmp_path, data)


def test_input_past_the_per_sample_limit(tmp_path):
    base = _saved(ff.Sequential([ff.Input(shape=(2, 2)), L.Flatten()]), tmp_path)
    data = _edit_arch(base, lambda a: a["config"]["layers"][0]["config"].update(
        batch_shape=[None, 65536, 65536]))
    with pytest.raises(S.ConfigError, match=r"4294967296 values per sample; the limit is "
                                            r"2147483647"):
        _load(tmp_path, data)


def test_merge_whose_output_passes_the_limit(tmp_path):
    a, b = ff.Input(shape=(2,), name="a"), ff.Input(shape=(2,), name="b")
    base = _saved(ff.Model([a, b], L.Concatenate(name="cat")([a, b])), tmp_path)

    def widen(arch):
        for entry in arch["config"]["layers"]:
            if entry["class_name"] == "InputLayer":
                entry["config"]["batch_shape"] = [None, 2**30]
    with pytest.raises(S.ConfigError, match=r'"cat".*shape=\(None, 2147483648\).*2147483647'):
        _load(tmp_path, _edit_arch(base, widen))


def test_category_encoding_whose_output_passes_the_limit(tmp_path):
    codes = ff.Input(shape=(2,), dtype="int64")
    base = _saved(ff.Model(codes, L.CategoryEncoding(3, output_mode="one_hot", name="enc")(codes)),
                  tmp_path)
    data = _edit_arch(base, lambda a: _layer(a, "CategoryEncoding").update(num_tokens=LIMIT))
    with pytest.raises(S.ConfigError, match=r'"enc".*\(None, 2, 2147483647\)'):
        _load(tmp_path, data)


def test_a_pool_far_larger_than_its_input_loads_and_predicts(tmp_path):
    """pool_size (2^31 - 1, 2^31 - 1) with "same" padding is a valid config (every window
    covers the whole 3 x 3 input); the kernel sized a buffer of 2^62 positions and aborted."""
    base = _saved(ff.Sequential([ff.Input(shape=(3, 3, 1)),
                                 L.MaxPooling2D(2, strides=1, padding="same"), L.Flatten()]),
                  tmp_path)
    data = _edit_arch(base, lambda a: _layer(a, "MaxPooling2D").update(pool_size=[LIMIT, LIMIT]))
    model = _load(tmp_path, data)
    x = np.arange(18, dtype=np.float32).reshape(2, 3, 3, 1)
    np.testing.assert_array_equal(model.predict(x, verbose=0),
                                  np.repeat(x.reshape(2, 9).max(axis=1, keepdims=True), 9, axis=1))


def test_a_valid_but_huge_model_fails_clearly_before_allocating(tmp_path):
    """CategoryEncoding(num_tokens=2^31 - 1) on one value per sample is within the limits (8 GiB
    per sample); predicting 4096 samples needs 32 TiB. It was a MemoryError from NumPy."""
    codes = ff.Input(shape=(1,), dtype="int64")
    base = _saved(ff.Model(codes, L.CategoryEncoding(3, name="enc")(codes)), tmp_path)
    model = _load(tmp_path, _edit_arch(
        base, lambda a: _layer(a, "CategoryEncoding").update(num_tokens=LIMIT)))
    assert model.output_shape == (None, LIMIT)
    with pytest.raises(ValueError, match=r"The outputs for 4096 samples need 32\.0 TiB.*more than "
                                         r"the .* of memory of the cpu backend"):
        model.predict(np.zeros((4096, 1), np.int64), batch_size=4096, verbose=0)
