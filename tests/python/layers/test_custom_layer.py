"""Custom layers (issue 17 item 2; layers/_custom.py, layers/_tracing.py, _graph.py): subclasses
of ff.layers.Layer with build / add_weight / call / add_loss / get_config, traced into the C++
graph. Every numeric check is against a NumPy reference: the forward pass, and one SGD step
(new weights = old - lr * gradient, the gradient computed by hand), so the weights are trained
parameters of the graph (a weight read by several ops gets the sum of their gradients; a
non-trainable one never moves), add_loss terms are in the reported loss and its gradient, and a
call branching on its `training` argument runs each branch in its own passes."""
import numpy as np
import pytest

import forgeflow as ff
from forgeflow import ops

L = ff.layers


class Linear(L.Layer):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", name="b")

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _data(n=8, d=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, d)).astype(np.float32),
            rng.normal(size=(n, k)).astype(np.float32))


def _sgd_step(model, x, y, lr=0.1):
    model.compile(ff.optimizers.SGD(learning_rate=lr), "mse")
    return model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)


def test_eager_call_builds_and_computes_x_w_plus_b():
    layer = Linear(3)
    x, _ = _data()
    y = layer(x)
    assert layer.built and layer.weights == [layer.w, layer.b]  # the same Variable objects
    np.testing.assert_allclose(y, x @ layer.w.numpy() + layer.b.numpy(), rtol=1e-5, atol=1e-6)
    assert y.numpy().shape == (8, 3)
    assert [v.path for v in layer.weights] == [f"{layer.name}/w", f"{layer.name}/b"]
    assert layer.count_params() == 4 * 3 + 3


def test_weights_train_in_the_graph_one_sgd_step_against_numpy():
    x, y = _data()
    inputs = ff.Input(shape=(4,))
    layer = Linear(3)
    model = ff.Model(inputs, layer(inputs))
    w0, b0 = layer.w.numpy(), layer.b.numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), x @ w0 + b0, rtol=1e-5, atol=1e-6)
    history = _sgd_step(model, x, y, lr=0.1)
    err = x @ w0 + b0 - y
    np.testing.assert_allclose(history.history["loss"][0], np.mean(err ** 2), rtol=1e-5)
    g = 2 * err / err.size  # d mean((xw+b-y)^2) / d pred
    np.testing.assert_allclose(layer.w.numpy(), w0 - 0.1 * x.T @ g, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.b.numpy(), b0 - 0.1 * g.sum(0), rtol=1e-5, atol=1e-6)
    assert model.count_params() == 15 and len(model.trainable_weights) == 2


class SharedWeight(L.Layer):
    """Reads one weight three times: y = x @ w + x @ (w * w)."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], input_shape[-1]), name="w")

    def call(self, x):
        return ops.matmul(x, self.w) + x @ (self.w * self.w)


def test_a_weight_read_by_several_ops_sums_their_gradients():
    x, y = _data(k=4)
    inputs = ff.Input(shape=(4,))
    layer = SharedWeight()
    model = ff.Model(inputs, layer(inputs))
    w0 = layer.w.numpy()
    assert model.count_params() == 16  # one parameter slot per element, read three times
    _sgd_step(model, x, y, lr=0.05)
    g = 2 * (x @ w0 + x @ (w0 * w0) - y) / y.size
    grad = x.T @ g + 2 * w0 * (x.T @ g)
    np.testing.assert_allclose(layer.w.numpy(), w0 - 0.05 * grad, rtol=1e-4, atol=1e-6)


class Scaled(L.Layer):
    """A trainable kernel and a non-trainable scale (state, never updated by the optimizer)."""

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], 2), name="kernel")
        self.scale = self.add_weight(shape=(2,), initializer="ones", trainable=False,
                                     name="scale")

    def call(self, x):
        return ops.matmul(x, self.kernel) * self.scale


def test_non_trainable_weights_are_state_and_a_frozen_layer_does_not_train(tmp_path):
    x, _ = _data()
    y = np.ones((8, 2), np.float32)
    inputs = ff.Input(shape=(4,))
    layer = Scaled()
    model = ff.Model(inputs, layer(inputs))
    assert [v.name for v in layer.trainable_weights] == ["kernel"]
    assert [v.name for v in layer.non_trainable_weights] == ["scale"]
    layer.scale.assign([2.0, 3.0])
    k0 = layer.kernel.numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), (x @ k0) * [2.0, 3.0], rtol=1e-5)
    _sgd_step(model, x, y)
    np.testing.assert_array_equal(layer.scale.numpy(), [2.0, 3.0])
    assert not np.array_equal(layer.kernel.numpy(), k0)
    layer.trainable = False
    assert layer.trainable_weights == [] and len(model.trainable_weights) == 0
    k1 = layer.kernel.numpy()
    model.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(layer.kernel.numpy(), k1)
    model.save_weights(tmp_path / "w.weights.ff")
    layer.scale.assign([0.0, 0.0])
    model.load_weights(tmp_path / "w.weights.ff")
    np.testing.assert_array_equal(layer.scale.numpy(), [2.0, 3.0])


class ActivityRegularization(L.Layer):
    def __init__(self, rate=1e-2, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.mean(inputs))
        return inputs


def test_add_loss_is_in_the_reported_loss_and_its_gradient():
    x, y = _data(k=3)
    inputs = ff.Input(shape=(4,))
    dense = L.Dense(3)
    outputs = ActivityRegularization(0.5)(dense(inputs))
    model = ff.Model(inputs, outputs)
    assert len(model.losses) == 1  # the symbolic loss tensor the call added
    k0, b0 = dense.get_weights()
    pred = x @ k0 + b0
    loss = model.compile(ff.optimizers.SGD(0.1), "mse") or model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(loss, np.mean((pred - y) ** 2) + 0.5 * np.mean(pred), rtol=1e-5)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    g = 2 * (pred - y) / y.size + 0.5 / pred.size
    np.testing.assert_allclose(dense.get_weights()[0], k0 - 0.1 * x.T @ g, rtol=1e-5, atol=1e-6)


class PerSampleLoss(L.Layer):
    def call(self, inputs):
        self.add_loss(ops.sum(ops.square(inputs), axis=-1))  # one value per sample: summed
        return inputs


def test_per_sample_add_loss_values_are_summed_and_trained_on_without_a_compiled_loss():
    x, _ = _data()
    inputs = ff.Input(shape=(4,))
    dense = L.Dense(2)
    model = ff.Model(inputs, PerSampleLoss()(dense(inputs)))
    model.compile(ff.optimizers.SGD(0.01))  # no loss: the model's own is the objective
    k0, b0 = dense.get_weights()
    pred = x @ k0 + b0
    # Keras 3 sums an added loss's elements; each batch's value weighted by its size.
    np.testing.assert_allclose(model.evaluate(x, None, batch_size=8, verbose=0),
                               np.sum(pred ** 2), rtol=1e-5)
    model.fit(x, np.zeros((8, 2)), batch_size=8, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(dense.get_weights()[0], k0 - 0.01 * x.T @ (2 * pred), rtol=1e-5,
                               atol=1e-6)


def test_eager_losses_reset_at_each_call_and_include_regularization():
    class Outer(L.Layer):
        def __init__(self):
            super().__init__()
            self.reg = ActivityRegularization(1e-2)
            self.dense = L.Dense(2, kernel_regularizer=ff.regularizers.L2(1e-3))

        def call(self, inputs):
            return self.dense(self.reg(inputs))

    layer = Outer()
    assert layer.losses == []
    x = np.full((2, 3), 2.0, np.float32)
    layer(x)
    kernel = layer.dense.get_weights()[0]
    assert len(layer.losses) == 2
    np.testing.assert_allclose(layer.losses[0], 1e-2 * 2.0, rtol=1e-6)
    np.testing.assert_allclose(layer.losses[1], 1e-3 * np.sum(kernel ** 2), rtol=1e-5)
    layer(x)
    assert len(layer.losses) == 2  # the last call's, not accumulated
    assert len(layer.weights) == 2 and len(layer.trainable_weights) == 2


class CustomDropout(L.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs, training=None):
        if training:  # a Python branch: traced once per mode
            return ff.random.dropout(inputs, rate=self.rate, seed=3)
        return inputs


def test_a_call_branching_on_training_runs_each_branch_in_its_passes():
    inputs = ff.Input(shape=(1000,))
    out = CustomDropout(0.5)(inputs)
    assert out._call.paired  # two traces
    model = ff.Model(inputs, out)
    x = np.ones((4, 1000), np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)  # inference: identity
    dropped = model(x, training=True).numpy()
    assert set(np.unique(dropped)) <= {0.0, 2.0}
    assert 0.4 < np.mean(dropped == 0) < 0.6


class PassesTraining(L.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.drop = L.Dropout(0.5)

    def call(self, inputs, training=None):
        return self.drop(inputs, training=training)


def test_training_only_passed_on_gives_one_trace_and_layers_follow_the_pass():
    inputs = ff.Input(shape=(1000,))
    layer = PassesTraining()
    out = layer(inputs)
    assert not out._call.paired  # both traces build one graph: one is kept
    assert len(layer.drop.__dict__["_inbound"]) == 1  # the discarded trace's call is undone
    model = ff.Model(inputs, out)
    x = np.ones((2, 1000), np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    assert 0.4 < np.mean(model(x, training=True).numpy() == 0) < 0.6


class Branchy(L.Layer):
    def call(self, inputs):
        if ops.sum(inputs) > 0:
            return inputs
        return -inputs


@pytest.mark.parametrize("bad, what", [
    (lambda t: bool(ops.sum(t) > 0), "Python bool"),
    (lambda t: float(ops.sum(t)), "Python number"),
    (lambda t: [v for v in t], "iterable"),
    (lambda t: np.asarray(t), "NumPy array"),
])
def test_a_call_deciding_on_tensor_values_gets_a_clear_error(bad, what):
    class Bad(L.Layer):
        def call(self, inputs):
            bad(inputs)
            return inputs

    with pytest.raises(TypeError, match=f"(?s){what}.*runs once, on symbolic tensors.*C\\+\\+"):
        Bad()(ff.Input(shape=(3,)))
    with pytest.raises(TypeError, match="ff.ops.where"):
        Branchy()(ff.Input(shape=(3,)))
    np.testing.assert_array_equal(Branchy()(np.array([[1.0, -2.0, 3.0]])), [[1.0, -2.0, 3.0]])


def test_weights_read_as_arrays_or_updated_inside_a_traced_call_are_refused():
    class Baked(L.Layer):
        def build(self, shape):
            self.w = self.add_weight(shape=(shape[-1],))

        def call(self, x):
            return x * np.asarray(self.w)  # would freeze the weight as a constant

    with pytest.raises(TypeError, match="baked in as a constant"):
        Baked()(ff.Input(shape=(3,)))

    class Updates(L.Layer):
        def build(self, shape):
            self.total = self.add_weight(shape=(shape[-1],), initializer="zeros",
                                         trainable=False)

        def call(self, x):
            self.total.assign_add(ops.sum(x, axis=0))
            return x

    with pytest.raises(TypeError, match="assign_add.*runs in C\\+\\+"):
        Updates()(ff.Input(shape=(3,)))
    layer = Updates()
    layer(np.ones((2, 3), np.float32))  # eagerly it works, as in Keras
    layer(np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(layer.total.numpy(), [4.0, 4.0, 4.0])


def test_nested_custom_layers_track_sublayer_weights_by_attribute():
    class MLPBlock(L.Layer):
        def __init__(self):
            super().__init__()
            self.linear_1 = Linear(8)
            self.blocks = [Linear(8), Linear(1)]

        def call(self, x):
            x = ff.activations.relu(self.linear_1(x))
            x = ff.activations.relu(self.blocks[0](x))
            return self.blocks[1](x)

    mlp = MLPBlock()
    x, _ = _data()
    y = mlp(x)
    assert len(mlp.weights) == 6 and len(mlp.trainable_weights) == 6
    assert mlp._param_names() == ["linear_1/w", "linear_1/b", "blocks/0/w", "blocks/0/b",
                                  "blocks/1/w", "blocks/1/b"]
    w = [v.numpy() for v in mlp.weights]
    h = np.maximum(x @ w[0] + w[1], 0)
    h = np.maximum(h @ w[2] + w[3], 0)
    np.testing.assert_allclose(y, h @ w[4] + w[5], rtol=1e-5, atol=1e-6)
    inputs = ff.Input(shape=(4,))
    model = ff.Model(inputs, mlp(inputs))
    np.testing.assert_allclose(model.predict(x, verbose=0), y, rtol=1e-5, atol=1e-6)
    assert model.count_params() == mlp.count_params() == 4 * 8 + 8 + 8 * 8 + 8 + 8 + 1


def test_a_custom_layer_called_twice_shares_its_weights():
    x, y = _data(k=4)
    inputs = ff.Input(shape=(4,))
    layer = Linear(4)
    model = ff.Model(inputs, layer(layer(inputs)))
    w0, b0 = layer.w.numpy(), layer.b.numpy()
    h = x @ w0 + b0
    pred = h @ w0 + b0
    np.testing.assert_allclose(model.predict(x, verbose=0), pred, rtol=1e-5, atol=1e-6)
    assert model.count_params() == 20
    _sgd_step(model, x, y, lr=0.1)
    g = 2 * (pred - y) / y.size
    grad_w = h.T @ g + x.T @ (g @ w0.T)
    np.testing.assert_allclose(layer.w.numpy(), w0 - 0.1 * grad_w, rtol=1e-4, atol=1e-6)


def test_save_and_load_with_custom_objects_or_a_registered_class(tmp_path):
    x, y = _data()
    inputs = ff.Input(shape=(4,))
    model = ff.Model(inputs, L.Dense(2)(Linear(5, name="lin")(inputs)))
    model.compile("adam", "mse")
    model.fit(x, y[:, :2], epochs=1, verbose=0)
    path = tmp_path / "custom.ff"
    model.save(path)
    with pytest.raises(ff.saving.UnknownObjectError, match='"Linear".*custom_objects'):
        ff.models.load_model(path)
    loaded = ff.models.load_model(path, custom_objects={"Linear": Linear})
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    assert loaded.get_layer("lin").units == 5
    loaded.fit(x, y[:, :2], epochs=1, verbose=0)  # and it trains on

    @ff.saving.register_keras_serializable(package="tests")
    class Registered(Linear):
        pass

    m2 = ff.Sequential([ff.Input(shape=(4,)), Registered(3)])
    m2.save(tmp_path / "registered.ff")
    np.testing.assert_allclose(ff.models.load_model(tmp_path / "registered.ff").predict(x, verbose=0),
                               m2.predict(x, verbose=0), rtol=1e-6)


def test_auto_config_and_its_limits():
    class Auto(L.Layer):
        def __init__(self, units=2, scale=1.5, **kwargs):
            super().__init__(**kwargs)
            self.units, self.scale = units, scale

        def call(self, x):
            return x * self.scale

    config = Auto(units=4, name="auto").get_config()  # the arguments given (as Keras 3)
    assert config["units"] == 4 and config["name"] == "auto" and "scale" not in config
    again = Auto.from_config(config)
    assert again.units == 4 and again.scale == 1.5 and again.name == "auto"

    class Opaque(L.Layer):
        def __init__(self, fn):
            super().__init__()
            self.fn = fn

        def call(self, x):
            return x

    with pytest.raises(NotImplementedError, match="override get_config"):
        Opaque(print).get_config()


def test_compute_output_shape_is_checked_against_the_traced_call():
    class Declares(Linear):
        def compute_output_shape(self, input_shape):
            return (input_shape[0], self.units + 1)

    with pytest.raises(ValueError, match=r"compute_output_shape returns \(None, 4\).*\(None, 3\)"):
        Declares(3)(ff.Input(shape=(2,)))
    assert Linear(3).compute_output_shape((None, 7)) == (None, 3)


def test_add_weight_arguments_follow_keras_3_and_refuse_what_does_not_run():
    class Args(L.Layer):
        def call(self, x):
            return x

    layer = Args()
    v = layer.add_weight()  # Keras 3's defaults: shape (), glorot_uniform
    assert v.shape == () and v.name == "variable" and v.trainable
    assert layer.add_weight(shape=(2,)).name == "variable_1"
    with pytest.raises(ValueError, match="float32"):
        layer.add_weight(shape=(2,), dtype="int32")
    with pytest.raises(ValueError, match="constraint is not supported"):
        layer.add_weight(shape=(2,), constraint=lambda w: w)
    with pytest.raises(ValueError, match='already has a weight named "variable"'):
        layer.add_weight(shape=(2,), name="variable")
    with pytest.raises(ValueError, match="Unknown initializer"):
        layer.add_weight(shape=(2,), initializer="nope")
    with pytest.raises(TypeError, match="forgeflow applies regularizers inside its C"):
        layer.add_weight(shape=(2,), regularizer=lambda w: 0.0)

    class NoSuper(L.Layer):
        def __init__(self):
            self.w = self.add_weight(shape=(1,))

    with pytest.raises(RuntimeError, match="super\\(\\).__init__\\(\\)"):
        NoSuper()


def test_a_weight_regularizer_from_add_weight_is_trained_on():
    class Reg(L.Layer):
        def build(self, shape):
            self.w = self.add_weight(shape=(shape[-1], 1), regularizer=ff.regularizers.L2(0.5))

        def call(self, x):
            return ops.matmul(x, self.w)

    x, y = _data(k=1)
    inputs = ff.Input(shape=(4,))
    layer = Reg()
    model = ff.Model(inputs, layer(inputs))
    w0 = layer.w.numpy()
    model.compile(ff.optimizers.SGD(0.1), "mse")
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0),
                               np.mean((x @ w0 - y) ** 2) + 0.5 * np.sum(w0 ** 2), rtol=1e-5)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    grad = x.T @ (2 * (x @ w0 - y) / y.size) + 2 * 0.5 * w0
    np.testing.assert_allclose(layer.w.numpy(), w0 - 0.1 * grad, rtol=1e-5, atol=1e-6)


def test_custom_layers_in_a_sequential_model_and_its_summary(capsys):
    x, y = _data()
    model = ff.Sequential([ff.Input(shape=(4,)), Linear(6, name="lin6"),
                           L.Dense(3, name="head")])
    model.summary()
    text = capsys.readouterr().out
    assert "lin6 (Linear)" in text and "(None, 6)" in text and "30" in text
    model.compile("adam", "mse")
    history = model.fit(x, y, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    lin = model.layers[0]
    k, b = model.layers[1].get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               (x @ lin.w.numpy() + lin.b.numpy()) @ k + b, rtol=1e-5, atol=1e-6)
