"""Tests for the 1-D pooling layers' Python API (forgeflow.layers.pooling1d): Keras 3's names,
defaults, argument forms and messages, output lengths against Keras's formula, values against
NumPy, keepdims, and a Conv1D + pooling sequence classifier that trains. The finite-difference
gradient checks are the C++ tests (tests/cpp/layers/test_*pooling1d.cpp)."""
import numpy as np
import pytest

import forgeflow as ff

L = ff.layers


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(11)
    yield
    ff.utils.clear_session()


def _apply(layer, x):
    return ff.Sequential([ff.Input(shape=x.shape[1:]), layer]).predict(x, verbose=0)


def test_names_defaults_and_configs():
    layers = [L.MaxPooling1D(), L.AveragePooling1D(), L.GlobalAveragePooling1D(),
              L.GlobalMaxPooling1D()]
    assert [layer.name for layer in layers] == ["max_pooling1d", "average_pooling1d",
                                                "global_average_pooling1d",
                                                "global_max_pooling1d"]
    cfg = layers[0].get_config()
    assert (cfg["pool_size"], cfg["strides"], cfg["padding"]) == ((2,), (2,), "valid")
    assert layers[2].get_config()["keepdims"] is False
    for layer in [L.MaxPooling1D(3, 1, "same"), L.AveragePooling1D(pool_size=(2,), strides=3),
                  L.GlobalMaxPooling1D(keepdims=True)]:
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == {**layer.get_config(), "name": layer.name}


@pytest.mark.parametrize("pool,strides,padding", [(2, None, "valid"), (3, 2, "same"),
                                                  (3, 1, "valid"), (4, None, "same")])
def test_values_and_lengths(pool, strides, padding):
    x = np.random.default_rng(0).normal(size=(2, 9, 3)).astype(np.float32)
    s = strides or pool
    n = (9 - pool) // s + 1 if padding == "valid" else (9 - 1) // s + 1
    pad = max((n - 1) * s + pool - 9, 0) // 2 if padding == "same" else 0
    windows = [x[:, max(i * s - pad, 0):min(i * s - pad + pool, 9)] for i in range(n)]
    got_max = _apply(L.MaxPooling1D(pool, strides, padding), x)
    got_avg = _apply(L.AveragePooling1D(pool, strides, padding), x)
    assert got_max.shape == (2, n, 3)
    np.testing.assert_array_equal(got_max, np.stack([w.max(axis=1) for w in windows], axis=1))
    np.testing.assert_allclose(got_avg, np.stack([w.mean(axis=1) for w in windows], axis=1),
                               rtol=1e-6)


def test_global_pooling_values_and_keepdims():
    x = np.random.default_rng(1).normal(size=(4, 7, 5)).astype(np.float32)
    np.testing.assert_allclose(_apply(L.GlobalAveragePooling1D(), x), x.mean(axis=1), rtol=1e-6)
    np.testing.assert_array_equal(_apply(L.GlobalMaxPooling1D(), x), x.max(axis=1))
    assert _apply(L.GlobalMaxPooling1D(keepdims=True), x).shape == (4, 1, 5)


def test_errors():
    with pytest.raises(ValueError, match="The `pool_size` argument must be a tuple of 1 integers"):
        L.MaxPooling1D(pool_size=(2, 2))
    with pytest.raises(ValueError, match="The `padding` argument must be one of"):
        L.AveragePooling1D(padding="causal")
    with pytest.raises(ValueError, match="only data_format='channels_last'"):
        L.GlobalAveragePooling1D(data_format="channels_first")
    with pytest.raises(TypeError, match="keepdims must be True or False"):
        L.GlobalMaxPooling1D(keepdims=1)
    with pytest.raises(ValueError, match=r"expected ndim=3"):
        ff.Sequential([ff.Input(shape=(4, 4, 1)), L.MaxPooling1D()])
    with pytest.raises(ValueError, match="the pool is longer than the unpadded input"):
        ff.Sequential([ff.Input(shape=(3, 1)), L.MaxPooling1D(4)])


def test_sequence_classifier_trains():
    # Class = whether a bump appears in the sequence: Conv1D + pooling finds it anywhere.
    rng = np.random.default_rng(2)
    x = rng.normal(scale=0.3, size=(400, 24, 1)).astype(np.float32)
    y = rng.integers(0, 2, size=400)
    where = rng.integers(0, 20, size=400)
    for i in np.nonzero(y)[0]:
        x[i, where[i]:where[i] + 3, 0] += 2.0
    model = ff.Sequential([ff.Input(shape=(24, 1)), L.Conv1D(8, 3, activation="relu"),
                           L.MaxPooling1D(2), L.AveragePooling1D(2, padding="same"),
                           L.GlobalMaxPooling1D(), L.Dense(1, activation="sigmoid")])
    model.compile(optimizer=ff.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.95


def test_eager_calls_match_predict():
    x = np.random.default_rng(3).normal(size=(2, 9, 3)).astype(np.float32)
    for make in (lambda: L.MaxPooling1D(3, 2, "same"), L.AveragePooling1D,
                 L.GlobalAveragePooling1D, lambda: L.GlobalMaxPooling1D(keepdims=True)):
        np.testing.assert_allclose(make()(x), _apply(make(), x), rtol=1e-6)
