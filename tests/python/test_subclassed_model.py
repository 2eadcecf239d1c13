"""Subclassed models (issue 17 item 3): ``class M(ff.Model)`` with layers made in __init__ and a
call(inputs, training=None), traced into the C++ graph on its first data, build() or a symbolic
call. Checked against NumPy (predict, one SGD step), a functional twin, the `training` argument
(Dropout and BatchNormalization per pass), summary before and after build, save/load with the
class given or registered, save_weights/load_weights, compile before build, and its use as a
layer of another model."""
import numpy as np
import pytest

import forgeflow as ff
from forgeflow import ops

L = ff.layers


class MLP(ff.Model):
    def __init__(self, hidden=8, out=2, **kwargs):
        super().__init__(**kwargs)
        self.hidden = L.Dense(hidden, activation="relu")
        self.drop = L.Dropout(0.5)
        self.out = L.Dense(out)

    def call(self, inputs, training=None):
        return self.out(self.drop(self.hidden(inputs), training=training))


def _data(n=16, d=4, k=2, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, d)).astype(np.float32),
            rng.normal(size=(n, k)).astype(np.float32))


def _forward(model, x):
    k1, b1 = model.hidden.get_weights()
    k2, b2 = model.out.get_weights()
    return np.maximum(x @ k1 + b1, 0) @ k2 + b2


def test_builds_on_first_data_and_predicts_as_numpy():
    x, _ = _data()
    model = MLP()
    assert not model.built and [l.name for l in model.layers] == [model.hidden.name,
                                                                   model.drop.name, model.out.name]
    np.testing.assert_allclose(model.predict(x, verbose=0), _forward(model, x), rtol=1e-5,
                               atol=1e-6)
    assert model.built and model.count_params() == 4 * 8 + 8 + 8 * 2 + 2
    # training=True: the Dropout drops (the inference pass does not)
    out = model(np.ones((64, 4), np.float32), training=True).numpy()
    ref = model.predict(np.ones((64, 4), np.float32), verbose=0)
    assert not np.allclose(out, ref)


def test_fit_is_one_sgd_step_of_the_traced_graph():
    class Linear2(ff.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(2)

        def call(self, x):
            return self.dense(x)

    x, y = _data()
    model = Linear2()
    model.compile(ff.optimizers.SGD(learning_rate=0.1), "mse")  # before build: completes later
    model.build((None, 4))
    k0, b0 = model.dense.get_weights()
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    g = 2 * (x @ k0 + b0 - y) / y.size
    np.testing.assert_allclose(model.dense.get_weights()[0], k0 - 0.1 * x.T @ g, rtol=1e-5,
                               atol=1e-6)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(
        np.mean((x @ model.dense.get_weights()[0] + model.dense.get_weights()[1] - y) ** 2),
        rel=1e-5)


def test_summary_needs_a_build_then_lists_the_layers(capsys):
    model = MLP()
    with pytest.raises(ValueError, match="This model has not yet been built"):
        model.summary()
    with pytest.raises(ValueError, match="not yet been built"):
        model.count_params()
    model.build((None, 4))
    model.summary()
    text = capsys.readouterr().out
    assert f'Model: "{model.name}"' in text
    for layer, shape, params in ((model.hidden, "(None, 8)", "40"), (model.out, "(None, 2)", "18")):
        assert f"{layer.name} (Dense)" in text and shape in text and params in text
    assert "Total params: 58" in text


def test_training_mode_batch_normalization_and_dropout():
    class BN(ff.Model):
        def __init__(self):
            super().__init__()
            self.bn = L.BatchNormalization(momentum=0.5)

        def call(self, x, training=None):
            return self.bn(x, training=training)

    x = np.random.default_rng(3).normal(loc=3.0, size=(32, 2)).astype(np.float32)
    model = BN()
    model.compile(ff.optimizers.SGD(0.0), "mse")
    model.build((None, 2))
    np.testing.assert_allclose(model.predict(x, verbose=0), x / np.sqrt(1 + 1e-3), rtol=1e-5)
    model.fit(x, x, batch_size=32, epochs=1, verbose=0)
    mean = model.bn.get_weights()[2]
    np.testing.assert_allclose(mean, 0.5 * x.mean(0), rtol=1e-4)  # moved in training only
    model.predict(x, verbose=0)
    np.testing.assert_array_equal(model.bn.get_weights()[2], mean)


def test_add_loss_in_a_subclassed_call():
    class Penalized(ff.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(2)

        def call(self, x):
            y = self.dense(x)
            self.add_loss(0.25 * ops.mean(ops.square(y)))
            return y

    x, y = _data()
    model = Penalized()
    model.compile("sgd", "mse")
    loss = model.evaluate(x, y, verbose=0)
    k, b = model.dense.get_weights()
    pred = x @ k + b
    np.testing.assert_allclose(loss, np.mean((pred - y) ** 2) + 0.25 * np.mean(pred ** 2),
                               rtol=1e-5)
    assert len(model.losses) == 1


def test_save_load_with_the_class_and_weights_only(tmp_path):
    x, y = _data()
    model = MLP(hidden=6)
    model.compile("adam", "mse")
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "mlp.ff"
    model.save(path)
    with pytest.raises(ff.saving.UnknownObjectError, match="custom_objects"):
        ff.models.load_model(path)
    loaded = ff.models.load_model(path, custom_objects={"MLP": MLP})
    assert isinstance(loaded, MLP) and loaded.hidden.units == 6
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    loaded.fit(x, y, epochs=1, verbose=0)  # optimizer state restored: it trains on
    model.save_weights(tmp_path / "mlp.weights.ff")
    fresh = MLP(hidden=6)
    fresh.build((None, 4))
    fresh.load_weights(tmp_path / "mlp.weights.ff")
    np.testing.assert_allclose(fresh.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)

    @ff.saving.register_keras_serializable(package="tests")
    class RegisteredMLP(MLP):
        pass

    reg = RegisteredMLP()
    reg.build((None, 4))
    reg.save(tmp_path / "reg.ff")
    np.testing.assert_allclose(ff.models.load_model(tmp_path / "reg.ff").predict(x, verbose=0),
                               reg.predict(x, verbose=0), rtol=1e-6)


def test_a_subclassed_model_as_a_layer_of_a_functional_model():
    x, _ = _data()
    inner = MLP()
    inputs = ff.Input(shape=(4,))
    outputs = L.Activation("sigmoid")(inner(inputs))
    outer = ff.Model(inputs, outputs)
    assert [l.name for l in outer.layers][1:] == [inner.name, outer.layers[-1].name]
    ref = 1 / (1 + np.exp(-_forward(inner, x)))
    np.testing.assert_allclose(outer.predict(x, verbose=0), ref, rtol=1e-5, atol=1e-6)


def test_multiple_inputs_and_outputs():
    class TwoHeads(ff.Model):
        def __init__(self):
            super().__init__()
            self.a = L.Dense(3)
            self.b = L.Dense(1)

        def call(self, inputs):
            left, right = inputs
            h = self.a(left) + right
            return h, self.b(h)

    rng = np.random.default_rng(5)
    left = rng.normal(size=(8, 2)).astype(np.float32)
    right = rng.normal(size=(8, 3)).astype(np.float32)
    model = TwoHeads()
    h, z = model.predict([left, right], verbose=0)
    k, b = model.a.get_weights()
    np.testing.assert_allclose(h, left @ k + b + right, rtol=1e-5, atol=1e-6)
    k2, b2 = model.b.get_weights()
    np.testing.assert_allclose(z, h @ k2 + b2, rtol=1e-5, atol=1e-6)
    assert model.output_names == ["output_0", "output_1"]
