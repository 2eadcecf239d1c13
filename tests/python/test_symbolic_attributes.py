"""Model.inputs / outputs and Layer.input / output (issue 17 item 5): the symbolic tensors a
functional model was built from, and for a built Sequential a functional view made on demand,
so Keras's feature-extraction idiom ff.Model(model.inputs, model.layers[-2].output) works."""
import numpy as np
import pytest

import forgeflow as ff

L = ff.layers


def test_feature_extraction_from_a_trained_sequential_model():
    ff.utils.set_random_seed(7)
    model = ff.Sequential([ff.Input(shape=(5,)), L.Dense(4, activation="relu", name="hidden"),
                           L.Dense(2, name="head")])
    model.compile("adam", "mse")
    x = np.random.default_rng(0).normal(size=(64, 5)).astype(np.float32)
    model.fit(x, x[:, :2], epochs=2, verbose=0)
    assert len(model.inputs) == 1 and model.inputs[0].shape == (None, 5)
    assert model.outputs[0].shape == (None, 2)
    assert model.layers[0].output.shape == (None, 4)
    assert model.layers[1].input is model.layers[0].output
    features = ff.Model(inputs=model.inputs, outputs=model.layers[0].output)
    kernel, bias = model.layers[0].get_weights()
    np.testing.assert_allclose(features.predict(x, verbose=0), np.maximum(x @ kernel + bias, 0),
                               rtol=1e-5, atol=1e-6)


def test_functional_layers_know_their_input_and_output():
    inputs = ff.Input(shape=(3,), name="x")
    hidden = L.Dense(4, name="h")
    out = L.Dense(1, name="o")(hidden(inputs))
    model = ff.Model(inputs, out)
    assert model.inputs == [inputs] and model.outputs == [out]
    assert hidden.input is inputs and hidden.output.shape == (None, 4)
    add = L.Add()
    merged = add([hidden.output, hidden.output])
    assert add.input == [hidden.output, hidden.output] and add.output is merged


def test_input_of_a_layer_never_or_twice_called_raises_as_keras():
    layer = L.Dense(2, name="lonely")
    with pytest.raises(AttributeError, match='"lonely" has never been called'):
        layer.input
    shared = L.Dense(2, name="shared")
    shared(ff.Input(shape=(3,)))
    shared(ff.Input(shape=(3,)))
    with pytest.raises(AttributeError, match="multiple inbound nodes"):
        shared.output
    with pytest.raises(AttributeError, match="has no inputs yet"):
        ff.Sequential([L.Dense(2)]).inputs
