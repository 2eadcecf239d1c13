"""Tests for the activation layers' Python API (forgeflow.layers.activations): Keras 3's names,
defaults, auto-names and configs, values against NumPy references of Keras's definitions,
Keras's errors (and the stricter ones), PReLU's alpha in Keras's shape learning by fit, Softmax's
float32 output under mixed precision, and the output-activation check seeing a Softmax layer.
The finite-difference gradient checks are the C++ tests (tests/cpp/layers/test_*.cpp)."""
import warnings

import numpy as np
import pytest

import forgeflow as ff

L = ff.layers


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(7)
    yield
    ff.mixed_precision.set_global_policy("float32")
    ff.utils.clear_session()


def _apply(layer, x):
    model = ff.Sequential([ff.Input(shape=x.shape[1:]), layer])
    return model.predict(x, verbose=0)


def _rand(shape, seed=0, scale=3.0):
    return np.random.default_rng(seed).uniform(-scale, scale, size=shape).astype(np.float32)


def test_names_defaults_and_configs_are_keras():
    layers = [L.Softmax(), L.ReLU(), L.LeakyReLU(), L.ELU(), L.PReLU()]
    assert [layer.name for layer in layers] == ["softmax", "re_lu", "leaky_re_lu", "elu",
                                                "p_re_lu"]
    assert L.Softmax().get_config()["axis"] == -1
    cfg = L.ReLU().get_config()
    assert (cfg["max_value"], cfg["negative_slope"], cfg["threshold"]) == (None, 0.0, 0.0)
    assert L.LeakyReLU().get_config()["negative_slope"] == 0.3
    assert L.ELU().get_config()["alpha"] == 1.0
    cfg = L.PReLU().get_config()
    assert (cfg["alpha_initializer"], cfg["shared_axes"]) == ("zeros", None)
    for layer in [L.Softmax(axis=-1), L.ReLU(6.0, 0.1, 0.5), L.LeakyReLU(0.2), L.ELU(0.5),
                  L.PReLU(alpha_initializer="ones", shared_axes=[1, 2])]:
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == {**layer.get_config(), "name": layer.name}


def test_values_match_keras_definitions():
    x = _rand((4, 3, 5))
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(_apply(L.Softmax(), x), e / e.sum(-1, keepdims=True), rtol=1e-5)
    np.testing.assert_array_equal(_apply(L.ReLU(), x), np.maximum(x, 0))
    # Keras's ReLU.static_call: relu (thresholded), clipped, minus slope * relu(threshold - x).
    mv, ns, th = 1.5, 0.2, 0.5
    want = np.where(x > th, x, 0.0)
    want = np.clip(want, 0.0, mv) - ns * np.maximum(th - x, 0.0)
    np.testing.assert_allclose(_apply(L.ReLU(mv, ns, th), x), want, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_apply(L.ReLU(max_value=6.0), x * 4), np.clip(x * 4, 0, 6))
    np.testing.assert_allclose(_apply(L.LeakyReLU(), x), np.where(x >= 0, x, 0.3 * x), rtol=1e-6)
    np.testing.assert_allclose(_apply(L.ELU(0.7), x), np.where(x > 0, x, 0.7 * np.expm1(x)),
                               rtol=1e-5, atol=1e-7)
    prelu = L.PReLU(shared_axes=[1])
    model = ff.Sequential([ff.Input(shape=(3, 5)), prelu])
    assert prelu.get_weights()[0].shape == (1, 5)  # Keras's shape: 1 along the shared axis
    alpha = np.linspace(-1, 1, 5, dtype=np.float32).reshape(1, 5)
    prelu.set_weights([alpha])
    np.testing.assert_allclose(model.predict(x, verbose=0), np.where(x < 0, alpha * x, x),
                               rtol=1e-6)


def test_keras_errors_and_stricter_ones():
    with pytest.raises(ValueError, match="max_value of a ReLU layer cannot be a negative value. "
                                         "Received: -1.0"):
        L.ReLU(max_value=-1.0)
    with pytest.raises(ValueError, match="negative_slope of a ReLU layer cannot be a negative"):
        L.ReLU(negative_slope=-0.5)
    with pytest.raises(ValueError, match="threshold of a ReLU layer cannot be a negative"):
        L.ReLU(threshold=None)
    with pytest.raises(ValueError, match="`max_value` must be a finite number"):
        L.ReLU(max_value=float("nan"))
    with pytest.raises(TypeError, match="`threshold` must be a number"):
        L.ReLU(threshold="0.5")
    with pytest.raises(ValueError, match="The negative_slope value of a Leaky ReLU layer cannot "
                                         "be None or negative value"):
        L.LeakyReLU(negative_slope=-1)
    with pytest.raises(ValueError, match="`alpha` must be a finite number"):
        L.ELU(alpha=float("inf"))
    with pytest.raises(ValueError, match="shared_axes must be input axes from 1"):
        L.PReLU(shared_axes=0)
    with pytest.raises(ValueError, match="alpha_regularizer is not supported"):
        L.PReLU(alpha_regularizer="l2")
    with pytest.raises(ValueError, match=r'Layer "p" \(PReLU\): shared_axes=3 names axis 3'):
        ff.Sequential([ff.Input(shape=(4, 5)), L.PReLU(shared_axes=3, name="p")])
    with pytest.raises(ValueError, match=r"only the last axis is supported.*received axis=1"):
        ff.Sequential([ff.Input(shape=(4, 5)), L.Softmax(axis=1)])
    with pytest.raises(ValueError, match="Softmax: axis must be an integer"):
        L.Softmax(axis="last")
    with pytest.raises(TypeError, match="unexpected keyword"):
        L.ELU(alhpa=2.0)


def test_leaky_relu_accepts_keras_deprecated_alpha():
    with pytest.warns(UserWarning, match="Argument `alpha` is deprecated"):
        layer = L.LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1


def test_prelu_learns_alpha_by_fit():
    # y = prelu(x) with alpha 0.5 per feature: a PReLU after a fixed identity learns it.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 3)).astype(np.float32)
    target_alpha = np.array([0.5, -0.25, 0.1], dtype=np.float32)
    y = np.where(x < 0, target_alpha * x, x)
    prelu = L.PReLU()
    model = ff.Sequential([ff.Input(shape=(3,)), prelu])
    model.compile(optimizer=ff.optimizers.Adam(0.05), loss="mse")
    model.fit(x, y, epochs=40, batch_size=64, verbose=0)
    np.testing.assert_allclose(prelu.get_weights()[0], target_alpha, atol=0.02)


def test_softmax_output_is_float32_under_mixed_precision():
    ff.mixed_precision.set_global_policy("mixed_bfloat16")
    model = ff.Sequential([ff.Input(shape=(6,)), L.Dense(5), L.Softmax()])
    assert model.layers[-1].compute_dtype == "bfloat16"
    probs = model.predict(_rand((8, 6)), verbose=0)
    assert probs.dtype == np.float32
    bits = probs.view(np.uint32) & 0xFFFF
    assert bits.any()  # not bfloat16 values: computed and kept in float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_softmax_layer_counts_as_the_output_activation():
    model = ff.Sequential([ff.Input(shape=(4,)), L.Dense(3), L.Softmax()])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ff.LikelyMistakeWarning)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.warns(ff.LikelyMistakeWarning, match="already applies softmax"):
        model.compile(optimizer="adam",
                      loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True))


@pytest.mark.parametrize("make", [L.Softmax, L.ReLU, lambda: L.ReLU(1.0, 0.1, 0.2), L.LeakyReLU,
                                  L.ELU, lambda: L.PReLU(alpha_initializer="ones")])
def test_eager_calls_match_predict(make):
    x = _rand((4, 3, 5))
    layer = make()
    eager = layer(x)
    np.testing.assert_allclose(eager, _apply(make(), x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(eager.numpy(), eager)
