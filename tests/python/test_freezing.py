"""Freezing layers (layer.trainable = False, model.trainable = False): fit leaves frozen weights
exactly as they were while the others train, summary() counts them as non-trainable, a frozen
BatchNormalization uses its moving statistics, and unfreezing trains them again."""
import numpy as np

import forgeflow as ff

L = ff.layers


def data(n=256):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 6)).astype("float32")
    return x, (x[:, :1] - 2 * x[:, 1:2]).astype("float32")


def test_frozen_layer_keeps_its_weights_while_the_rest_trains():
    ff.utils.set_random_seed(1)
    first = L.Dense(8, activation="relu", input_shape=(6,))
    last = L.Dense(1)
    model = ff.Sequential([first, last])
    model.compile(optimizer=ff.optimizers.Adam(0.01, clipnorm=1.0), loss="mse")
    first.trainable = False
    frozen_before = first.get_weights()
    last_before = last.get_weights()
    x, y = data()
    model.fit(x, y, epochs=3, verbose=0)
    for before, after in zip(frozen_before, first.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert not np.array_equal(last_before[0], last.get_weights()[0])
    first.trainable = True  # unfreezing takes effect at the next fit, no recompile
    model.fit(x, y, epochs=1, verbose=0)
    assert not np.array_equal(frozen_before[0], first.get_weights()[0])


def test_summary_counts_frozen_weights_as_non_trainable():
    model = ff.Sequential([L.Dense(4, input_shape=(3,)), L.Dense(2)])
    model.layers[0].trainable = False
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Trainable params: 10 (40.00 B)" in text
    assert "Non-trainable params: 16 (64.00 B)" in text


def test_frozen_model_changes_nothing_and_frozen_batchnorm_uses_moving_statistics():
    ff.utils.set_random_seed(2)
    x, y = data()
    model = ff.Sequential([L.Dense(4, input_shape=(6,)), L.BatchNormalization(), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.trainable = False
    before = model.get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # moving statistics included: inference mode
    # A frozen model's forward pass in training mode equals inference (BatchNorm uses moving
    # statistics when frozen).
    np.testing.assert_allclose(model(x[:16], training=True), model(x[:16]), rtol=1e-6)


def test_functional_model_freezes_shared_layers_once():
    ff.utils.set_random_seed(3)
    a, b = ff.Input(shape=(6,)), ff.Input(shape=(6,))
    shared = L.Dense(3, name="shared")
    out = L.Dense(1)(L.Concatenate()([shared(a), shared(b)]))
    model = ff.Model([a, b], out)
    model.compile(optimizer="adam", loss="mse")
    shared.trainable = False
    before = shared.get_weights()
    x, y = data()
    model.fit([x, x[::-1].copy()], y, epochs=2, verbose=0)
    np.testing.assert_array_equal(before[0], shared.get_weights()[0])
