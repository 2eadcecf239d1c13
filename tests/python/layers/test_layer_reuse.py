"""Layers keep their weights: a trained layer reused in a new model brings its weights along
(Keras's layers keep their variables), and layer.build(shape) creates weights on a layer alone,
so set_weights/get_weights work before any model exists and a model built from the layer starts
from them. (Two silent bugs of issue 17: reusing trained layers re-initialised them, evaluate
falling to chance while get_weights still showed the trained values; build created nothing.)"""
import numpy as np
import pytest

import forgeflow as ff

L = ff.layers


def _data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int64)


def test_trained_layers_reused_in_a_new_model_keep_their_weights():
    ff.utils.set_random_seed(1)
    x, y = _data()
    trained = ff.Sequential([ff.Input(shape=(6,)), L.Dense(16, activation="relu"), L.Dense(2)])
    trained.compile(ff.optimizers.Adam(0.01),
                    ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                    metrics=["accuracy"])
    trained.fit(x, y, epochs=15, batch_size=32, verbose=0)
    accuracy = trained.evaluate(x, y, verbose=0)[1]
    assert accuracy > 0.9
    weights = trained.get_weights()
    # The documented workaround for a softmax head: the trained layers in a new Sequential.
    probs = ff.Sequential([ff.Input(shape=(6,)), *trained.layers, L.Activation("softmax")])
    for a, b in zip(probs.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    probs.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    assert probs.evaluate(x, y, verbose=0)[1] == pytest.approx(accuracy, abs=1e-6)
    np.testing.assert_allclose(probs.predict(x, verbose=0).argmax(1),
                               trained.predict(x, verbose=0).argmax(1))


def test_build_creates_weights_on_a_standalone_layer():
    ff.utils.set_random_seed(2)
    layer = L.Dense(3)
    assert layer.get_weights() == []
    layer.build((None, 4))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (4, 3) and bias.shape == (3,)
    assert np.any(kernel != 0)  # glorot_uniform, as inside a model
    new = [np.arange(12, dtype=np.float32).reshape(4, 3), np.ones(3, np.float32)]
    layer.set_weights(new)
    np.testing.assert_array_equal(layer.get_weights()[0], new[0])
    # Copying weights from another layer now works ...
    source = L.Dense(3)
    source.build((None, 4))
    layer.set_weights(source.get_weights())
    np.testing.assert_array_equal(layer.get_weights()[1], source.get_weights()[1])
    # ... and a model made of the layer starts from its weights.
    model = ff.Sequential([ff.Input(shape=(4,)), layer])
    np.testing.assert_array_equal(model.get_weights()[0], source.get_weights()[0])
    x = np.ones((2, 4), np.float32)
    expected = x @ source.get_weights()[0] + source.get_weights()[1]
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6)


def test_build_with_a_shape_the_layer_cannot_take_raises_and_creates_nothing():
    layer = L.Dense(3)
    with pytest.raises(ValueError, match="min_ndim=2"):
        layer.build((None,))
    assert layer.get_weights() == []


def test_two_models_sharing_layers_share_their_weights_one_at_a_time():
    # As Keras's shared variables: what one model trained, the other computes with next.
    ff.utils.set_random_seed(3)
    x, y = _data(128)
    first = ff.Sequential([ff.Input(shape=(6,)), L.Dense(8, activation="relu"), L.Dense(2)])
    second = ff.Sequential([ff.Input(shape=(6,)), *first.layers])  # built last
    first.compile(ff.optimizers.SGD(0.1), ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = second.predict(x, verbose=0)
    first.fit(x, y, epochs=3, verbose=0)
    trained = first.get_weights()
    expected = np.maximum(x @ trained[0] + trained[1], 0) @ trained[2] + trained[3]
    np.testing.assert_allclose(first.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-5)
    # second takes the trained values before it runs or shows its weights
    assert not np.allclose(second.predict(x, verbose=0), before)
    np.testing.assert_allclose(second.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-5)
    for a, b in zip(second.get_weights(), trained):
        np.testing.assert_array_equal(a, b)
    # and a weight set through second reaches first
    second.set_weights([np.zeros_like(w) for w in trained])
    np.testing.assert_array_equal(first.predict(x, verbose=0), np.zeros((128, 2), np.float32))
