"""Tests for LayerNormalization's Python API (forgeflow.layers.normalization): Keras 3's
defaults, weights (gamma, beta in the normalised axes' shape), config round trip with an int or
a list axis, values against NumPy over one and several trailing axes, Keras's and the stricter
errors, and a model that trains with it, its weights float32 under mixed precision. The
finite-difference gradient checks are the C++ tests
(tests/cpp/layers/test_layer_normalization.cpp)."""
import numpy as np
import pytest

import forgeflow as ff

L = ff.layers


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(5)
    yield
    ff.utils.clear_session()


def _ref(x, axes, gamma=None, beta=None, epsilon=1e-3):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + epsilon)
    return y * (1 if gamma is None else gamma) + (0 if beta is None else beta)


def test_defaults_weights_and_config():
    layer = L.LayerNormalization()
    assert layer.name == "layer_normalization"
    cfg = layer.get_config()
    assert (cfg["axis"], cfg["epsilon"], cfg["center"], cfg["scale"], cfg["rms_scaling"]) == (
        -1, 1e-3, True, True, False)
    ff.Sequential([ff.Input(shape=(3, 4)), layer])
    gamma, beta = layer.get_weights()
    np.testing.assert_array_equal(gamma, np.ones(4, np.float32))
    np.testing.assert_array_equal(beta, np.zeros(4, np.float32))
    image = L.LayerNormalization(axis=[1, 2, 3], center=False)
    ff.Sequential([ff.Input(shape=(2, 3, 4)), image])
    assert [w.shape for w in image.get_weights()] == [(2, 3, 4)]
    for layer in (L.LayerNormalization(axis=(-2, -1), epsilon=1e-5), L.LayerNormalization(2)):
        clone = L.LayerNormalization.from_config(layer.get_config())
        assert clone.get_config() == {**layer.get_config(), "name": layer.name}


@pytest.mark.parametrize("axis,np_axes", [(-1, (2,)), ([1, 2], (1, 2)), ((-2, -1), (1, 2))])
def test_values_match_numpy(axis, np_axes):
    x = np.random.default_rng(0).normal(2.0, 3.0, size=(5, 4, 6)).astype(np.float32)
    layer = L.LayerNormalization(axis=axis)
    model = ff.Sequential([ff.Input(shape=(4, 6)), layer])
    shape = tuple(x.shape[a] for a in np_axes)
    rng = np.random.default_rng(1)
    gamma = rng.uniform(0.5, 1.5, size=shape).astype(np.float32)
    beta = rng.normal(size=shape).astype(np.float32)
    layer.set_weights([gamma, beta])
    bshape = [1, 1, 1]
    for a, n in zip(np_axes, shape):
        bshape[a] = n
    want = _ref(x.astype(np.float64), np_axes, gamma.reshape(bshape), beta.reshape(bshape))
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-5)


def test_errors():
    with pytest.raises(ValueError, match="only the trailing axes can be normalised"):
        ff.Sequential([ff.Input(shape=(3, 4)), L.LayerNormalization(axis=1)])
    with pytest.raises(ValueError, match="rms_scaling=True is not supported"):
        L.LayerNormalization(rms_scaling=True)
    with pytest.raises(ValueError, match="gamma_regularizer is not supported"):
        L.LayerNormalization(gamma_regularizer="l2")
    with pytest.raises(ValueError, match="`epsilon` must be positive"):
        L.LayerNormalization(epsilon=0)
    with pytest.raises(TypeError, match="Expected an int or a list/tuple of ints for the "
                                        "argument 'axis'"):
        L.LayerNormalization(axis="last")
    with pytest.raises(TypeError, match="`center` must be True or False"):
        L.LayerNormalization(center=1)


def test_trains_and_keeps_float32_weights_under_mixed_precision():
    rng = np.random.default_rng(3)
    x = (rng.normal(size=(512, 8)) * rng.uniform(0.1, 20, size=(512, 1))).astype(np.float32)
    y = (x[:, :4].sum(axis=1) > x[:, 4:].sum(axis=1)).astype(np.float32)
    for policy in ("float32", "mixed_bfloat16"):
        ff.mixed_precision.set_global_policy(policy)
        try:
            ff.utils.set_random_seed(2)
            norm = L.LayerNormalization()
            model = ff.Sequential([ff.Input(shape=(8,)), norm, L.Dense(16, activation="relu"),
                                   L.Dense(1, activation="sigmoid")])
            model.compile(optimizer=ff.optimizers.Adam(0.01), loss="binary_crossentropy",
                          metrics=["accuracy"])
            model.fit(x, y, epochs=20, batch_size=32, verbose=0)
            assert model.evaluate(x, y, verbose=0)[1] > 0.9, policy
            gamma = norm.get_weights()[0]
            assert gamma.dtype == np.float32
            if policy == "mixed_bfloat16":  # trained in float32: not bfloat16 values
                assert (gamma.view(np.uint32) & 0xFFFF).any()
        finally:
            ff.mixed_precision.set_global_policy("float32")


def test_eager_call_creates_the_weights_and_normalises():
    x = np.random.default_rng(4).normal(3.0, 2.0, size=(3, 4, 5)).astype(np.float32)
    layer = L.LayerNormalization(axis=[1, 2])
    np.testing.assert_allclose(layer(x), _ref(x.astype(np.float64), (1, 2)), rtol=1e-4,
                               atol=1e-5)
    assert [w.shape for w in layer.get_weights()] == [(4, 5), (4, 5)]
