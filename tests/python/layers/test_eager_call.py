"""layer(x) and model(x) on arrays (issue 17 item 5): a layer called on NumPy data builds itself
for the data's shape, creates its weights and computes eagerly; a layer of a model uses the
model's weights; results are arrays with TensorFlow's .numpy(); non-numeric data raises."""
import numpy as np
import pytest

import forgeflow as ff

L = ff.layers


def test_a_dense_layer_called_on_an_array_builds_and_computes():
    ff.utils.set_random_seed(3)
    layer = L.Dense(3, activation="relu")
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    y = layer(x)
    assert isinstance(y, np.ndarray) and y.shape == (5, 3)
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(y, np.maximum(x @ kernel + bias, 0), rtol=1e-5, atol=1e-6)
    plain = y.numpy()
    assert type(plain) is np.ndarray
    np.testing.assert_array_equal(plain, y)
    # Integer data converts, as in Keras; the layer keeps its build.
    np.testing.assert_allclose(layer(np.ones((2, 4), np.int64)),
                               np.maximum(np.ones((2, 4)) @ kernel + bias, 0), rtol=1e-5)
    with pytest.raises(ValueError, match="incompatible"):
        layer(np.ones((2, 5), np.float32))


def test_a_layer_of_a_trained_model_computes_with_the_models_weights():
    ff.utils.set_random_seed(4)
    model = ff.Sequential([ff.Input(shape=(4,)), L.Dense(6, activation="tanh"), L.Dense(2)])
    model.compile("sgd", "mse")
    x = np.random.default_rng(1).normal(size=(32, 4)).astype(np.float32)
    model.fit(x, x[:, :2], epochs=2, verbose=0)
    hidden = model.layers[0](x)
    np.testing.assert_allclose(model.layers[1](hidden), model.predict(x, verbose=0), rtol=1e-5,
                               atol=1e-6)
    # The eager call did not take the layer away from its model.
    before = model.get_weights()
    model.fit(x, x[:, :2], epochs=1, verbose=0)
    assert not np.array_equal(model.get_weights()[0], before[0])
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], model.get_weights()[0])


def test_model_call_results_have_numpy():
    model = ff.Sequential([ff.Input(shape=(3,)), L.Dense(2)])
    out = model(np.ones((4, 3), np.float32))
    assert out.numpy().shape == (4, 2) and type(out.numpy()) is np.ndarray


def test_dropout_eagerly_is_identity_at_inference_and_masks_in_training():
    layer = L.Dropout(0.5)
    x = np.ones((8, 100), np.float32)
    np.testing.assert_array_equal(layer(x), x)
    y = layer(x, training=True)
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.3 < (y == 0).mean() < 0.7
    assert not np.array_equal(layer(x, training=True), y)  # a new mask per call


def test_merge_and_view_layers_eagerly():
    a, b = np.ones((2, 3), np.float32), np.full((2, 3), 2.0, np.float32)
    np.testing.assert_array_equal(L.Add()([a, b]), a + b)
    np.testing.assert_array_equal(L.Flatten()(np.arange(12, dtype=np.float32).reshape(2, 3, 2)),
                                  np.arange(12, dtype=np.float32).reshape(2, 6))
    with pytest.raises(TypeError, match="several inputs"):
        L.Add()(a)


def test_non_numeric_data_raises_naming_the_layer():
    with pytest.raises(TypeError, match=r'Layer "strict" \(Dense\).*dtype <U1'):
        L.Dense(2, name="strict")(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="scalar"):
        L.Dense(2)(3.0)
