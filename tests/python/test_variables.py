"""Weights as Keras variables (ff.variables): layer.weights / trainable_weights /
non_trainable_weights and the model's are Variables naming a layer's weight, reading the current
values (.numpy(), np.asarray) and writing them (.assign, shape-checked)."""
import numpy as np
import pytest

import forgeflow as ff

L = ff.layers


def _model():
    ff.utils.set_random_seed(5)
    return ff.Sequential([ff.Input(shape=(4,)), L.Dense(3, name="d"),
                          L.BatchNormalization(name="bn"), L.Dense(2, name="out")])


def test_model_weights_are_named_variables_split_by_trainability():
    model = _model()
    assert [v.path for v in model.weights] == [
        "d/kernel", "d/bias", "bn/gamma", "bn/beta", "bn/moving_mean", "bn/moving_variance",
        "out/kernel", "out/bias"]
    assert [v.path for v in model.trainable_weights] == [
        "d/kernel", "d/bias", "bn/gamma", "bn/beta", "out/kernel", "out/bias"]
    assert [v.path for v in model.non_trainable_weights] == ["bn/moving_mean",
                                                             "bn/moving_variance"]
    for v, w in zip(model.weights, model.get_weights()):
        assert isinstance(v, ff.Variable) and v.shape == w.shape and v.dtype == "float32"
        np.testing.assert_array_equal(v.numpy(), w)
        np.testing.assert_array_equal(np.asarray(v), w)
    model.layers[0].trainable = False  # a frozen layer's weights are all non-trainable
    assert [v.path for v in model.layers[0].trainable_weights] == []
    assert len(model.trainable_weights) == 4


def test_assign_writes_the_model_weight_and_checks_the_shape():
    model = _model()
    kernel = model.layers[0].weights[0]
    kernel.assign(np.ones((4, 3)))
    np.testing.assert_array_equal(model.get_weights()[0], np.ones((4, 3), np.float32))
    kernel.assign_add(np.full((4, 3), 0.5))
    np.testing.assert_array_equal(kernel.numpy(), np.full((4, 3), 1.5, np.float32))
    model.layers[0].weights[1].assign(0.0)  # a number fills the variable
    x = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(model.layers[0](x), np.full((2, 3), 6.0), rtol=1e-6)
    with pytest.raises(ValueError, match=r'"d/kernel" has shape \(4, 3\).*\(3, 4\)'):
        kernel.assign(np.ones((3, 4)))
    np.testing.assert_array_equal(kernel.numpy(), np.full((4, 3), 1.5, np.float32))


def test_variables_follow_training_and_do_arithmetic_as_arrays():
    model = _model()
    model.compile("sgd", "mse")
    before = model.trainable_weights[0].numpy()
    x = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    model.fit(x, x[:, :2], epochs=1, verbose=0)
    v = model.trainable_weights[0]
    assert not np.array_equal(v.numpy(), before)  # reads the current values
    np.testing.assert_allclose(v * 2, v.numpy() * 2)
    np.testing.assert_allclose(x @ v, x @ v.numpy(), rtol=1e-6)
    assert "d/kernel" in repr(v)
