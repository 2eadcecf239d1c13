"""Mixed precision end to end: a bfloat16 CNN on Fashion-MNIST reaches float32's accuracy, the
model's activations are 16-bit values at layer boundaries (checked through a functional
sub-model), set_weights reaches 16-bit layers, and a float16 overflow is reported by
check-numerics naming the layer and its dtype."""
import numpy as np
import pytest

import forgeflow as ff


def _fashion_subset(n_train=6000, n_test=2000):
    try:
        (x, y), (xt, yt) = ff.datasets.fashion_mnist.load_data()
    except FileNotFoundError as e:
        pytest.skip(str(e).splitlines()[0])
    return ((x[:n_train, ..., None] / 255.0).astype(np.float32), y[:n_train],
            (xt[:n_test, ..., None] / 255.0).astype(np.float32), yt[:n_test])


def _cnn():
    return ff.Sequential([
        ff.Input((28, 28, 1)),
        ff.layers.Conv2D(16, 3, activation="relu"), ff.layers.MaxPooling2D(2),
        ff.layers.Conv2D(32, 3, activation="relu"), ff.layers.MaxPooling2D(2),
        ff.layers.Flatten(), ff.layers.Dense(64, activation="relu"),
        ff.layers.Dense(10, activation="softmax")])


def _is_bfloat16(a):
    return np.all((np.ascontiguousarray(a, dtype=np.float32).view(np.uint32) & 0xFFFF) == 0)


def test_bfloat16_cnn_matches_float32_accuracy_on_fashion_mnist():
    # Mean test accuracy over three seeds: one run's accuracy moves by about a point with the
    # seed or the order of the sums (on a CPU without AVX-512 BF16, float32 kernels replace the
    # bfloat16 ones on the same values), which a single-seed comparison mistook for a loss.
    x, y, xt, yt = _fashion_subset()
    accuracy = {}
    for policy in ["float32", "mixed_bfloat16"]:
        runs = []
        for seed in (3, 4, 5):
            ff.mixed_precision.set_global_policy(policy)
            ff.utils.set_random_seed(seed)
            model = _cnn()
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"])
            model.fit(x, y, batch_size=64, epochs=2, verbose=0)
            runs.append(model.evaluate(xt, yt, verbose=0)[1])
        accuracy[policy] = float(np.mean(runs))
        if policy == "mixed_bfloat16":
            assert all(layer.compute_dtype == "bfloat16" for layer in model.layers)
            probs = model.predict(xt[:64], verbose=0)
            assert probs.dtype == np.float32
            assert not _is_bfloat16(probs)  # the softmax output is float32
            np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert accuracy["float32"] > 0.75, accuracy
    assert accuracy["mixed_bfloat16"] > accuracy["float32"] - 0.02, accuracy


def test_activations_are_16_bit_at_layer_boundaries():
    ff.mixed_precision.set_global_policy("mixed_bfloat16")
    inputs = ff.Input((12,))
    hidden = ff.layers.Dense(8, activation="tanh")(inputs)
    probe = ff.Model(inputs, hidden)
    x = np.random.default_rng(0).normal(size=(16, 12)).astype(np.float32)
    h = probe.predict(x, verbose=0)
    assert _is_bfloat16(h)
    # The float32 computation on the same weights differs, by at most bfloat16's precision.
    w, b = probe.layers[-1].get_weights()
    exact = np.tanh(x @ w + b)
    assert not np.array_equal(h, exact)
    np.testing.assert_allclose(h, exact, atol=2e-2)


def test_set_weights_reaches_a_16_bit_layer():
    ff.mixed_precision.set_global_policy("mixed_float16")
    model = ff.Sequential([ff.Input((3,)), ff.layers.Dense(2)])
    x = np.ones((1, 3), np.float32)
    model.predict(x, verbose=0)  # the rounded copies exist now
    layer = model.layers[0]
    layer.set_weights([np.full((3, 2), 0.5, np.float32), np.zeros(2, np.float32)])
    np.testing.assert_array_equal(model.predict(x, verbose=0), [[1.5, 1.5]])
    model.set_weights([np.full((3, 2), 2.0, np.float32), np.ones(2, np.float32)])
    np.testing.assert_array_equal(model.predict(x, verbose=0), [[7.0, 7.0]])
    # The float32 weights are what get_weights returns, unrounded.
    w = np.full((3, 2), 0.1, np.float32)
    layer.set_weights([w, np.zeros(2, np.float32)])
    np.testing.assert_array_equal(layer.get_weights()[0], w)
    # ... while the layer computes with them rounded to float16 (numpy's float16 is the
    # reference rounding): 3 * fp16(0.1), accumulated in float32, then rounded to float16.
    expected = np.float16(np.float32(np.float16(0.1)) * np.float32(3))
    assert model.predict(x, verbose=0)[0, 0] == np.float32(expected)
    assert expected != np.float16(np.float32(0.1) * 3)  # the check can tell the two apart


def test_float16_overflow_is_named_by_check_numerics():
    ff.mixed_precision.set_global_policy("mixed_float16")
    model = ff.Sequential([ff.Input((4,)), ff.layers.Dense(3, name="too_big"),
                           ff.layers.Dense(1, dtype="float32")])
    model.compile(optimizer="sgd", loss="mse")
    x = np.full((8, 4), 1e4, np.float32)  # 4e4 * weights of ~1: beyond 65504 somewhere
    model.layers[0].set_weights([np.full((4, 3), 2.0, np.float32), np.zeros(3, np.float32)])
    ff.debugging.enable_check_numerics()
    try:
        with pytest.raises(FloatingPointError,
                           match=r'layer "too_big" \(Dense\), computing in float16 \(largest '
                                 r'finite value 65504\) produced Inf in its forward pass'):
            model.predict(x, verbose=0)
    finally:
        ff.debugging.disable_check_numerics()
