"""Tests for forgeflow.models.Sequential: construction, naming, layers, build, summary, weights,
the call/predict/train_on_batch/test_on_batch/evaluate/fit API and fit's data handling
(validation_split, validation_data, initial_epoch, shuffle, steps_per_epoch)."""

import numpy as np
import pytest

import forgeflow as ff

L = ff.layers


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(1234)
    yield
    ff.utils.clear_session()


def _regression_data(n=40, d=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    w = np.arange(1, d + 1, dtype=np.float32)
    y = (x @ w + 0.5).astype(np.float32)
    return x, y


def _classification_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return x, y


def _mlp(d=3, hidden=4, out=2, **kw):
    return ff.Sequential([L.Dense(hidden, activation="relu", input_shape=(d,)), L.Dense(out)], **kw)


def _linear(d=3, lr=0.01):
    model = ff.Sequential([L.Dense(1, input_shape=(d,))])
    model.compile(optimizer=ff.optimizers.SGD(learning_rate=lr), loss="mse")
    return model


def _numpy_forward(weights, x):
    w1, b1, w2, b2 = weights
    return np.maximum(x @ w1 + b1, 0.0) @ w2 + b2


# ---------------------------------------------------------------- construction


def test_construct_from_list_builds_with_input_shape_on_first_layer():
    d1, d2 = L.Dense(4, input_shape=(3,)), L.Dense(2)
    model = ff.Sequential([d1, d2])
    assert model.built
    assert model.input_shape == (None, 3)
    assert model.output_shape == (None, 2)
    assert model.layers == [d1, d2]
    assert d1.output_shape == (None, 4) and d2.input_shape == (None, 4)
    # .layers is a copy: mutating it does not change the model
    model.layers.append(L.Dense(1))
    assert len(model.layers) == 2


def test_add_after_input():
    model = ff.Sequential()
    model.add(ff.Input(shape=(5,)))
    assert model.layers == []
    model.add(L.Dense(3))
    assert model.built and model.input_shape == (None, 5) and model.output_shape == (None, 3)
    model.add(L.Dense(2, activation="softmax"))
    assert model.output_shape == (None, 2)
    assert model.count_params() == 5 * 3 + 3 + 3 * 2 + 2


def test_input_layer_first():
    model = ff.Sequential([ff.InputLayer(shape=(28, 28)), L.Flatten(), L.Dense(10)])
    assert model.input_shape == (None, 28, 28)
    assert model.layers[0].output_shape == (None, 784)
    assert model.output_shape == (None, 10)
    assert model.count_params() == 784 * 10 + 10


def test_input_only_first():
    model = ff.Sequential([L.Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match="first"):
        model.add(ff.Input(shape=(3,)))
    with pytest.raises(ValueError, match="first"):
        ff.Sequential([ff.Input(shape=(3,)), ff.Input(shape=(3,))])


def test_add_rejects_non_layers():
    with pytest.raises(TypeError, match="Layer"):
        ff.Sequential([lambda x: x])


def test_unbuilt_model_then_build():
    model = ff.Sequential([L.Dense(4), L.Dense(2)])
    assert not model.built
    with pytest.raises(ValueError, match="isn't built"):
        model.count_params()
    with pytest.raises(ValueError, match="not built"):
        model.get_weights()
    model.build((None, 3))
    assert model.built
    assert model.input_shape == (None, 3) and model.output_shape == (None, 2)
    assert model.count_params() == 3 * 4 + 4 + 4 * 2 + 2
    assert [w.shape for w in model.get_weights()] == [(3, 4), (4,), (4, 2), (2,)]


def test_model_builds_on_first_call():
    model = ff.Sequential([L.Dense(4), L.Dense(2)])
    out = model(np.zeros((5, 6), np.float32))
    assert model.built and model.input_shape == (None, 6)
    assert out.shape == (5, 2)


# ---------------------------------------------------------------- names and get_layer


def test_auto_names_are_numbered_per_type():
    m1 = ff.Sequential([L.Dense(4, input_shape=(3,)), L.Dense(2)])
    m2 = ff.Sequential([L.Flatten(input_shape=(2, 2)), L.Dense(1), L.Dropout(0.1), L.Dense(1, name="out")])
    assert m1.name == "sequential" and m2.name == "sequential_1"
    assert [l.name for l in m1.layers] == ["dense", "dense_1"]
    assert [l.name for l in m2.layers] == ["flatten", "dense_2", "dropout", "out"]
    ff.utils.clear_session()
    assert L.Dense(1).name == "dense"
    assert ff.Sequential().name == "sequential"


def test_duplicate_layer_names_rejected():
    model = ff.Sequential([L.Dense(2, input_shape=(3,), name="a")])
    with pytest.raises(ValueError, match="unique"):
        model.add(L.Dense(2, name="a"))
    assert len(model.layers) == 1


def test_get_layer_by_name_and_index():
    model = _mlp()
    first, second = model.layers
    assert model.get_layer("dense") is first
    assert model.get_layer("dense_1") is second
    assert model.get_layer(index=0) is first
    assert model.get_layer(index=1) is second
    assert model.get_layer(index=-1) is second
    assert model.get_layer(name="dense_1") is second


def test_get_layer_errors():
    model = _mlp()
    with pytest.raises(ValueError, match=r"No such layer: nope.*dense.*dense_1"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="index 2"):
        model.get_layer(index=2)
    with pytest.raises(ValueError, match="index -3"):
        model.get_layer(index=-3)
    with pytest.raises(ValueError, match="not both"):
        model.get_layer(name="dense", index=0)
    with pytest.raises(ValueError, match="either"):
        model.get_layer()


# ---------------------------------------------------------------- summary


def _summary_text(model, **kw):
    lines = []
    model.summary(print_fn=lines.append, **kw)
    return "\n".join(lines)


def test_summary_single_dense():
    model = ff.Sequential([L.Dense(1, input_shape=(1,))])
    text = _summary_text(model)
    assert 'Model: "sequential"' in text
    rows = [l for l in text.splitlines() if "dense (Dense)" in l]
    assert len(rows) == 1
    assert "(None, 1)" in rows[0] and rows[0].rstrip("│ ").endswith("2")
    assert "Total params: 2 (8.00 B)" in text
    assert "Trainable params: 2 (8.00 B)" in text
    assert "Non-trainable params: 0 (0.00 B)" in text


def test_summary_rows_and_totals():
    model = ff.Sequential([L.Flatten(input_shape=(28, 28)), L.Dense(128, activation="relu"),
                           L.Dropout(0.2), L.Dense(10)])
    text = _summary_text(model)
    total = 784 * 128 + 128 + 128 * 10 + 10
    assert model.count_params() == total == 101770
    for name, shape, params in [("flatten (Flatten)", "(None, 784)", "0"),
                                ("dense (Dense)", "(None, 128)", "100,480"),
                                ("dropout (Dropout)", "(None, 128)", "0"),
                                ("dense_1 (Dense)", "(None, 10)", "1,290")]:
        rows = [l for l in text.splitlines() if name in l]
        assert len(rows) == 1, (name, text)
        assert shape in rows[0]
        assert rows[0].replace("│", " ").split()[-1] == params
    # rows appear in layer order
    assert text.index("flatten (Flatten)") < text.index("dense (Dense)") < text.index("dropout (") \
        < text.index("dense_1 (Dense)")
    assert "Total params: 101,770 (397.54 KB)" in text


def test_summary_unbuilt_model():
    model = ff.Sequential([L.Dense(3)])
    text = _summary_text(model)
    assert "dense (Dense)" in text
    assert "Total params: 0" in text


# ---------------------------------------------------------------- weights


def test_get_set_weights_round_trip_and_used_by_forward():
    model = _mlp()
    rng = np.random.default_rng(3)
    new = [rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()]
    model.set_weights(new)
    got = model.get_weights()
    assert len(got) == 4
    for a, b in zip(got, new):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)
    x = rng.normal(size=(7, 3)).astype(np.float32)
    np.testing.assert_allclose(model(x), _numpy_forward(new, x), rtol=1e-5, atol=1e-5)
    # layer-level weights are views of the same values
    np.testing.assert_array_equal(model.layers[1].get_weights()[0], new[2])


def test_get_weights_returns_copies():
    model = _mlp()
    w = model.get_weights()
    before = [a.copy() for a in w]
    w[0][...] = 123.0
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_set_weights_wrong_shape_changes_nothing():
    model = _mlp()
    before = model.get_weights()
    bad = [np.ones_like(w) for w in before]
    bad[-1] = np.ones((3,), np.float32)  # bias of dense_1 should be (2,)
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        model.set_weights(bad)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="4 arrays"):
        model.set_weights(before[:3])
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_layer_set_weights_wrong_shape_changes_nothing():
    model = _mlp()
    layer = model.layers[0]
    before = layer.get_weights()
    with pytest.raises(ValueError):
        layer.set_weights([np.ones((3, 4), np.float32), np.ones((5,), np.float32)])
    for a, b in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- call / predict


def test_call_equals_predict_and_predict_on_batch():
    model = _mlp()
    x = np.random.default_rng(0).normal(size=(100, 3)).astype(np.float32)
    out_call = model(x)
    out_pred = model.predict(x, verbose=0)  # 4 batches of 32
    out_pob = model.predict_on_batch(x)
    assert isinstance(out_call, np.ndarray) and out_call.shape == (100, 2)
    assert out_pred.shape == (100, 2) and out_pob.shape == (100, 2)
    np.testing.assert_allclose(out_pred, out_call, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out_pob, out_call, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out_call, _numpy_forward(model.get_weights(), x), rtol=1e-5, atol=1e-5)
    # predict with a batch size that does not divide the data
    np.testing.assert_allclose(model.predict(x, batch_size=7, verbose=0), out_call, rtol=1e-6, atol=1e-6)


def test_predict_accepts_lists_and_float64():
    model = _mlp()
    x = [[0.1, 0.2, 0.3], [1.0, -1.0, 2.0]]
    np.testing.assert_allclose(model.predict(x, verbose=0), model(np.array(x, np.float32)), rtol=1e-6)


def test_rank1_input_is_a_column_for_a_one_feature_model():
    model = ff.Sequential([L.Dense(2, input_shape=(1,))])
    a = model.predict([1.0, 2.0, 3.0], verbose=0)
    b = model(np.array([[1.0], [2.0], [3.0]], np.float32))
    assert a.shape == (3, 2)
    np.testing.assert_allclose(a, b, rtol=1e-6)


def test_dropout_active_only_in_training_call():
    model = ff.Sequential([L.Dense(16, input_shape=(4,)), L.Dropout(0.5)])
    x = np.ones((8, 4), np.float32)
    inference = model(x)
    np.testing.assert_array_equal(model(x, training=False), inference)
    trained = model(x, training=True)
    assert not np.allclose(trained, inference)
    # dropped units are zero, kept ones are scaled by 1/(1-rate)
    kept = trained != 0
    assert 0 < kept.sum() < kept.size
    np.testing.assert_allclose(trained[kept], 2.0 * inference[kept], rtol=1e-5)


# ---------------------------------------------------------------- train_on_batch / test_on_batch


def test_train_on_batch_returns_loss_and_updates():
    x, y = _regression_data(16)
    model = _linear()
    before = model.get_weights()
    expected = model.test_on_batch(x, y)
    loss = model.train_on_batch(x, y)
    assert isinstance(loss, float)
    # the loss of the batch is computed with the weights before the update
    assert loss == pytest.approx(expected, rel=1e-6)
    assert not np.array_equal(model.get_weights()[0], before[0])
    assert model.test_on_batch(x, y) < expected  # one SGD step on MSE descends
    assert model.optimizer.iterations == 1


def test_train_on_batch_with_metrics():
    x, y = _classification_data(32)
    model = _mlp(d=4)
    model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    out = model.train_on_batch(x, y)
    assert isinstance(out, list) and len(out) == 2
    loss, acc = out
    assert loss > 0 and 0.0 <= acc <= 1.0
    logs = model.train_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    assert model.metrics_names == ["loss", "accuracy"]


def test_test_on_batch_does_not_update():
    x, y = _regression_data(16)
    model = _linear()
    before = model.get_weights()
    loss = model.test_on_batch(x, y)
    pred = model(x)[:, 0]
    assert loss == pytest.approx(float(np.mean((pred - y) ** 2)), rel=1e-5)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert model.test_on_batch(x, y, return_dict=True) == {"loss": pytest.approx(loss, rel=1e-12)}


# ---------------------------------------------------------------- evaluate


def test_evaluate_return_forms():
    x, y = _classification_data(50)
    model = _mlp(d=4)
    model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    scalar = model.evaluate(x, y, verbose=0)
    assert isinstance(scalar, float)

    model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    values = model.evaluate(x, y, verbose=0)
    assert isinstance(values, list) and len(values) == 2
    assert values[0] == pytest.approx(scalar, rel=1e-9)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert isinstance(logs, dict) and list(logs) == ["loss", "accuracy"]
    assert logs["loss"] == pytest.approx(values[0]) and logs["accuracy"] == pytest.approx(values[1])

    # values match NumPy
    logits = model(x).astype(np.float64)
    logp = logits - logits.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    assert logs["loss"] == pytest.approx(-logp[np.arange(len(y)), y].mean(), rel=1e-5)
    assert logs["accuracy"] == pytest.approx(np.mean(logits.argmax(1) == y))


def test_evaluate_batch_size_does_not_change_result():
    x, y = _regression_data(45)
    model = _linear()
    a = model.evaluate(x, y, batch_size=45, verbose=0)
    b = model.evaluate(x, y, batch_size=4, verbose=0)
    assert a == pytest.approx(b, rel=1e-5)
    assert a == pytest.approx(float(np.mean((model(x)[:, 0] - y) ** 2)), rel=1e-5)


# ---------------------------------------------------------------- fit


def test_fit_returns_history_with_per_epoch_lists():
    x, y = _classification_data(64)
    model = _mlp(d=4)
    model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, verbose=0)
    assert isinstance(history, ff.callbacks.History)
    assert history is model.history
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for values in history.history.values():
        assert len(values) == 3
        assert all(isinstance(v, float) and np.isfinite(v) for v in values)
    assert history.epoch == [0, 1, 2]
    assert all(0.0 <= a <= 1.0 for a in history.history["accuracy"] + history.history["val_accuracy"])
    # the last epoch's val metrics are those of the final weights on the last 25%
    logs = model.evaluate(x[48:], y[48:], verbose=0, return_dict=True)
    assert history.history["val_loss"][-1] == pytest.approx(logs["loss"], rel=1e-6, abs=1e-7)
    assert history.history["val_accuracy"][-1] == pytest.approx(logs["accuracy"])


def test_fit_training_reduces_loss():
    x, y = _regression_data(64)
    model = _linear(lr=0.05)
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    loss = history.history["loss"]
    assert loss[-1] < 0.1 * loss[0]


def test_validation_split_takes_last_fraction_before_shuffling():
    # The last quarter has a distinct constant target: val loss can only match it.
    rng = np.random.default_rng(7)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = np.zeros(40, np.float32)
    y[30:] = 5.0
    model = _linear(lr=0.01)
    history = model.fit(x, y, epochs=1, batch_size=8, validation_split=0.25, shuffle=True, verbose=0)
    val_loss = history.history["val_loss"][0]
    assert val_loss == pytest.approx(model.evaluate(x[30:], y[30:], verbose=0), rel=1e-6, abs=1e-7)
    assert val_loss > 10.0  # targets of 5 vs a near-zero model
    assert val_loss != pytest.approx(model.evaluate(x[:10], y[:10], verbose=0), rel=1e-3)


def test_validation_split_trains_on_first_part_only():
    # With learning_rate=0 the weights do not move, so the epoch's training loss is exactly the
    # loss over the training part: the first 75% of the samples.
    rng = np.random.default_rng(8)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = np.zeros(40, np.float32)
    y[30:] = 100.0
    model = _linear(lr=0.0)
    history = model.fit(x, y, epochs=1, batch_size=7, validation_split=0.25, shuffle=True, verbose=0)
    assert history.history["loss"][0] == pytest.approx(model.evaluate(x[:30], y[:30], verbose=0), rel=1e-5)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[30:], y[30:], verbose=0), rel=1e-6)


def test_validation_data():
    x, y = _regression_data(40)
    xv, yv = _regression_data(12, seed=5)
    model = _linear()
    history = model.fit(x, y, epochs=2, validation_data=(xv, yv), verbose=0)
    assert set(history.history) == {"loss", "val_loss"}
    assert history.history["val_loss"][-1] == pytest.approx(model.evaluate(xv, yv, verbose=0), rel=1e-6)
    with pytest.raises(ValueError, match="not both"):
        model.fit(x, y, validation_data=(xv, yv), validation_split=0.2, verbose=0)


def test_initial_epoch():
    x, y = _regression_data(16)
    model = _linear()
    history = model.fit(x, y, epochs=4, initial_epoch=2, batch_size=16, verbose=0)
    assert history.epoch == [2, 3]
    assert len(history.history["loss"]) == 2
    assert model.optimizer.iterations == 2
    with pytest.raises(ValueError, match="initial_epoch"):
        model.fit(x, y, epochs=2, initial_epoch=3, verbose=0)


def test_shuffle_false_follows_data_order():
    x, y = _regression_data(20)
    a, b = _linear(), _linear()
    b.set_weights(a.get_weights())
    a.fit(x, y, epochs=1, batch_size=6, shuffle=False, verbose=0)
    for start in range(0, 20, 6):
        b.train_on_batch(x[start:start + 6], y[start:start + 6])
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-7)


def test_shuffle_false_is_deterministic_and_shuffle_true_differs():
    x, y = _regression_data(32)
    base = _linear(lr=0.05)
    init = base.get_weights()

    def run(shuffle):
        m = _linear(lr=0.05)
        m.set_weights(init)
        m.fit(x, y, epochs=2, batch_size=4, shuffle=shuffle, verbose=0)
        return m.get_weights()

    w1, w2 = run(False), run(False)
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    w3 = run(True)
    assert not all(np.array_equal(a, b) for a, b in zip(w1, w3))


def test_steps_per_epoch_limits_batches():
    x, y = _regression_data(40)
    model = _linear()
    ref = _linear()
    ref.set_weights(model.get_weights())
    history = model.fit(x, y, epochs=3, batch_size=4, steps_per_epoch=2, shuffle=False, verbose=0)
    assert model.optimizer.iterations == 6
    assert len(history.history["loss"]) == 3
    for _ in range(3):
        ref.train_on_batch(x[0:4], y[0:4])
        ref.train_on_batch(x[4:8], y[4:8])
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_partial_last_batch_is_a_step():
    x, y = _regression_data(10)
    model = _linear()
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert model.optimizer.iterations == 6


def test_fit_on_float64_and_list_data():
    model = _linear(d=1)
    xs = [-1.0, 0.0, 1.0, 2.0]
    ys = [-3.0, -1.0, 1.0, 3.0]
    history = model.fit(xs, ys, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_training_call_draws_a_new_dropout_mask_each_time():
    ff.utils.set_random_seed(3)
    model = ff.Sequential([ff.layers.Dropout(0.5, input_shape=(1000,))])
    x = np.ones((1, 1000), dtype=np.float32)
    a, b = model(x, training=True), model(x, training=True)
    assert not np.array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, 2.0} and 350 < np.count_nonzero(a) < 650
    np.testing.assert_array_equal(model(x, training=False), x)  # inference: identity
