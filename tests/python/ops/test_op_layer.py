"""Op layers in models (python/forgeflow/ops/_op_layer.py): a functional model mixing layers and
ops trains with fit (a residual connection, a custom softmax head, constants), shows in
summary, and saves and loads (op nodes carry their config: op, arguments, scalar and constant
operands)."""
import numpy as np
import pytest

import forgeflow as ff
from forgeflow import ops


def _data(n=256, seed=0):
    r = np.random.default_rng(seed)
    x = r.normal(size=(n, 8)).astype(np.float32)
    labels = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1).astype(np.int64)
    return x, labels


def _residual_model():
    inputs = ff.Input(shape=(8,))
    h = ff.layers.Dense(8, name="hidden")(inputs)
    x = inputs + ops.relu(h)                                 # residual
    x = x * np.linspace(0.5, 1.5, 8).astype(np.float32)      # a constant
    logits = ff.layers.Dense(3, name="logits")(x)
    probs = ops.softmax(logits - ops.max(logits, axis=-1, keepdims=True), axis=-1)
    return ff.Model(inputs, probs)


def test_a_residual_model_with_a_softmax_head_trains_with_fit():
    x, labels = _data()
    model = _residual_model()
    model.compile(optimizer=ff.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, labels, epochs=20, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.6 * losses[0]
    assert history.history["accuracy"][-1] > 0.85
    probs = model.predict(x[:5], verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_op_nodes_show_in_the_summary(capsys):
    _residual_model().summary()
    out = capsys.readouterr().out
    assert out.count("(OpLayer)") == 6  # relu, add, multiply, max, subtract, softmax


def test_a_model_with_ops_saves_and_loads(tmp_path):
    x, labels = _data(64)
    model = _residual_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, labels, epochs=1, verbose=0)
    path = tmp_path / "ops.ff"
    model.save(path)
    loaded = ff.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    config = model.get_config()
    kinds = [layer["class_name"] for layer in config["layers"]]
    assert kinds.count("OpLayer") >= 5
    mul = next(l for l in config["layers"] if l["class_name"] == "OpLayer"
               and l["config"]["op"] == "multiply")
    assert mul["config"]["operands"][0] == "input"
    assert len(mul["config"]["operands"][1]["constant"]) == 8
    clone = ff.Model.from_config(config)  # fresh weights, the same graph
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_ops_on_a_model_input_that_broadcasts_both_ways_fail_at_definition():
    pred = ff.Input(shape=(1,), name="pred")
    target = ff.Input(shape=(), name="target")
    with pytest.raises(ValueError, match=r"x\[:, 0\].*y\[:, None\]"):
        ops.square(pred - target)


def test_ops_compute_in_float32_under_a_mixed_policy():
    ff.mixed_precision.set_global_policy("mixed_bfloat16")
    inputs = ff.Input(shape=(4,))
    h = ff.layers.Dense(4)(inputs)
    out = ops.exp(h) + 1.0
    assert out._history[0].compute_dtype == "float32"
    model = ff.Model(inputs, out)
    y = model.predict(np.ones((2, 4), np.float32), verbose=0)
    assert y.dtype == np.float32 and np.all(y > 1.0)


def test_the_compile_checks_see_an_ops_softmax_head(recwarn):
    inputs = ff.Input(shape=(4,))
    probs = ops.softmax(ff.layers.Dense(3)(inputs))
    ff.Model(inputs, probs).compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert not [w for w in recwarn if "expects probabilities" in str(w.message)]
    with pytest.warns(ff.LikelyMistakeWarning, match="already applies softmax"):
        ff.Model(inputs, probs).compile(
            optimizer="adam", loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    logp = ops.log_softmax(ff.layers.Dense(3)(inputs))
    with pytest.warns(ff.LikelyMistakeWarning, match="log_softmax"):
        ff.Model(inputs, logp).compile(optimizer="adam", loss="sparse_categorical_crossentropy")
