"""layers/merging.py's Multiply broadcasting one input to the other's shape (the squeeze-and-
excitation gate): values and gradients equal to the same model with the gate repeated by
UpSampling2D into a same-shape Multiply; the both-grow trap and mismatched sizes refused, naming
the layers; eager calls; save and load."""
import numpy as np
import pytest

import forgeflow as ff

L = ff.layers


def _gated(broadcast):
    """x (None, 4, 3, 2) times a gate computed from it, (None, 1, 1, 2): broadcast by Multiply,
    or repeated to x's shape first."""
    inputs = ff.Input(shape=(4, 3, 2))
    gate = L.GlobalAveragePooling2D()(inputs)
    gate = L.Reshape((1, 1, 2))(gate)
    gate = L.Conv2D(2, 1, activation="sigmoid", name="gate_conv")(gate)
    if not broadcast:
        gate = L.UpSampling2D(size=(4, 3))(gate)
    x = L.Multiply(name="excite")([inputs, gate])
    outputs = L.Dense(1, name="head")(L.Flatten()(x))
    return ff.Model(inputs, outputs)


def test_broadcast_multiply_matches_the_repeated_gate_in_values_and_training():
    ff.utils.set_random_seed(0)
    broadcast, repeated = _gated(True), _gated(False)
    assert broadcast.get_layer("excite").output_shape == (None, 4, 3, 2)
    repeated.set_weights(broadcast.get_weights())
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4, 3, 2)).astype(np.float32)
    y = rng.normal(size=(6, 1)).astype(np.float32)
    np.testing.assert_allclose(broadcast.predict(x, verbose=0), repeated.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    for model in (broadcast, repeated):
        model.compile(ff.optimizers.SGD(0.1), "mse")
        model.fit(x, y, batch_size=6, epochs=2, shuffle=False, verbose=0)
    # The gate's convolution learns the same through the broadcast as through the repeat.
    for a, b in zip(broadcast.get_layer("gate_conv").get_weights(),
                    repeated.get_layer("gate_conv").get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert not np.allclose(broadcast.get_layer("gate_conv").get_weights()[0],
                           _gated(True).get_layer("gate_conv").get_weights()[0])


def test_both_growing_or_mismatched_inputs_are_refused_naming_the_layers():
    column = L.Dense(1, name="column")(ff.Input(shape=(3,)))          # (None, 1)
    row = L.Reshape((4, 1), name="row")(ff.Input(shape=(4,)))          # (None, 4, 1)
    with pytest.raises(ValueError) as e:
        L.Multiply()([column, row])
    assert '"column" gives (None, 1)' in str(e.value) and '"row" gives (None, 4, 1)' in str(e.value)
    assert "not both into a larger shape" in str(e.value)
    wide = L.Dense(5, name="wide")(ff.Input(shape=(3,)))
    narrow = L.Dense(3, name="narrow")(ff.Input(shape=(3,)))
    with pytest.raises(ValueError, match='"wide" gives \\(None, 5\\)'):
        L.multiply([wide, narrow])
    # Add and Average still take inputs of one shape only.
    x = ff.Input(shape=(2, 2, 3))
    gate = L.Reshape((1, 1, 3))(L.GlobalAveragePooling2D()(x))
    with pytest.raises(ValueError, match="do not broadcast"):
        L.Add()([x, gate])


def test_eager_multiply_broadcasts_one_input():
    a = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    b = np.array([[[2.0, 3.0]], [[4.0, 5.0]]], dtype=np.float32)  # (2, 1, 2)
    np.testing.assert_array_equal(L.Multiply()([a, b]).numpy(), a * b)
    with pytest.raises(ValueError, match="input 0 has shape \\(2, 1\\)"):
        L.Multiply()([np.ones((2, 1)), np.ones((2,))])


def test_a_model_with_a_broadcast_multiply_saves_and_loads(tmp_path):
    ff.utils.set_random_seed(1)
    model = _gated(True)
    x = np.random.default_rng(1).normal(size=(3, 4, 3, 2)).astype(np.float32)
    path = tmp_path / "gated.ff"
    model.save(path)
    loaded = ff.models.load_model(path)
    assert type(loaded.get_layer("excite")).__name__ == "Multiply"
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
