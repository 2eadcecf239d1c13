"""Optimizers, losses and metrics through the Python API: Keras defaults, learning_rate read/set
and really used (checked against hand-computed updates), losses on arrays equal to their NumPy
formulas, "accuracy" resolution, metric names in logs."""

import numpy as np
import pytest

import forgeflow as ff

L = ff.layers


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(31)
    yield


# ---------------------------------------------------------------- optimizers


@pytest.mark.parametrize("name, cls, lr", [
    ("adam", ff.optimizers.Adam, 0.001),
    ("sgd", ff.optimizers.SGD, 0.01),
    ("rmsprop", ff.optimizers.RMSprop, 0.001),
    ("adagrad", ff.optimizers.Adagrad, 0.001),
    ("adamw", ff.optimizers.AdamW, 0.001),
    ("Adam", ff.optimizers.Adam, 0.001),
])
def test_get_by_name_gives_keras_defaults(name, cls, lr):
    opt = ff.optimizers.get(name)
    assert type(opt) is cls
    assert opt.learning_rate == pytest.approx(lr, rel=1e-6)
    assert opt.iterations == 0


def test_specific_keras_defaults():
    assert ff.optimizers.AdamW().weight_decay == pytest.approx(0.004)
    assert ff.optimizers.get("adamw").weight_decay == pytest.approx(0.004)
    sgd = ff.optimizers.SGD().get_config()
    assert sgd["momentum"] == 0.0 and sgd["nesterov"] is False
    adam = ff.optimizers.Adam().get_config()
    assert (adam["beta_1"], adam["beta_2"], adam["epsilon"], adam["amsgrad"]) == (0.9, 0.999, 1e-7, False)
    rms = ff.optimizers.RMSprop().get_config()
    assert (rms["rho"], rms["momentum"], rms["centered"]) == (0.9, 0.0, False)
    assert ff.optimizers.Adagrad().get_config()["initial_accumulator_value"] == pytest.approx(0.1)


def test_get_passes_instances_through_and_rejects_others():
    opt = ff.optimizers.SGD(learning_rate=0.5)
    assert ff.optimizers.get(opt) is opt
    with pytest.raises(TypeError):
        ff.optimizers.get(3)
    with pytest.raises(TypeError, match="learning_rate"):
        ff.optimizers.SGD(learning_rate="fast")


def test_compile_default_optimizer_is_rmsprop():
    model = ff.Sequential([L.Dense(1, input_shape=(2,))])
    model.compile(loss="mse")
    assert type(model.optimizer) is ff.optimizers.RMSprop


def test_learning_rate_settable():
    opt = ff.optimizers.Adam()
    opt.learning_rate = 0.25
    assert opt.learning_rate == pytest.approx(0.25)
    opt.lr = 0.5  # Keras 2 alias
    assert opt.learning_rate == pytest.approx(0.5)
    opt2 = ff.optimizers.SGD(learning_rate=0.125)
    assert opt2.learning_rate == pytest.approx(0.125)


def _linear_problem(n=16, d=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5], np.float32)[:d] + 0.3).astype(np.float32)
    return x, y


def _mse_grads(w, b, x, y):
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    err = x64 @ w.astype(np.float64)[:, 0] + float(b[0]) - y64
    return (2.0 / len(x)) * (x64.T @ err)[:, None], np.array([2.0 / len(x) * err.sum()])


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_zero_learning_rate_leaves_weights_unchanged(name):
    x, y = _linear_problem(32)
    model = ff.Sequential([L.Dense(4, activation="relu", input_shape=(3,)), L.Dense(1)])
    opt = ff.optimizers.get(name)
    opt.learning_rate = 0.0
    model.compile(opt, "mse")
    before = model.get_weights()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert opt.iterations == 8
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    # and a positive rate moves them
    opt.learning_rate = 0.01
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert not np.array_equal(model.get_weights()[0], before[0])


@pytest.mark.parametrize("lr", [0.01, 0.1])
def test_sgd_step_matches_hand_computed_update(lr):
    x, y = _linear_problem(16)
    model = ff.Sequential([L.Dense(1, input_shape=(3,))])
    model.compile(ff.optimizers.SGD(learning_rate=lr), "mse")
    w, b = model.get_weights()
    gw, gb = _mse_grads(w, b, x, y)
    model.train_on_batch(x, y)
    w2, b2 = model.get_weights()
    np.testing.assert_allclose(w2, w - lr * gw, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b2, b - lr * gb, rtol=1e-5, atol=1e-6)


def test_sgd_momentum_two_steps():
    x, y = _linear_problem(16)
    model = ff.Sequential([L.Dense(1, input_shape=(3,))])
    lr, mom = 0.05, 0.9
    model.compile(ff.optimizers.SGD(learning_rate=lr, momentum=mom), "mse")
    w, b = [a.astype(np.float64) for a in model.get_weights()]
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    for _ in range(2):
        gw, gb = _mse_grads(w, b, x, y)
        vw, vb = mom * vw - lr * gw, mom * vb - lr * gb  # Keras: v = m*v - lr*g; w += v
        w, b = w + vw, b + vb
        model.train_on_batch(x, y)
    w2, b2 = model.get_weights()
    np.testing.assert_allclose(w2, w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b2, b, rtol=1e-5, atol=1e-6)


def test_adam_first_step_is_learning_rate_times_sign():
    x, y = _linear_problem(16)
    model = ff.Sequential([L.Dense(1, input_shape=(3,))])
    model.compile(ff.optimizers.Adam(learning_rate=0.01), "mse")
    w, b = model.get_weights()
    gw, gb = _mse_grads(w, b, x, y)
    model.train_on_batch(x, y)
    w2, b2 = model.get_weights()
    # first Adam step: m_hat = g, v_hat = g^2 -> lr * g / (|g| + eps)
    np.testing.assert_allclose(w2 - w, -0.01 * np.sign(gw), rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(b2 - b, -0.01 * np.sign(gb), rtol=1e-3, atol=1e-6)


def test_clipvalue_bounds_each_update():
    x, y = _linear_problem(16)
    y = y * 100  # big gradients
    model = ff.Sequential([L.Dense(1, input_shape=(3,))])
    model.compile(ff.optimizers.SGD(learning_rate=1.0, clipvalue=0.01), "mse")
    before = model.get_weights()
    model.train_on_batch(x, y)
    for a, b in zip(model.get_weights(), before):
        step = np.abs(a - b)
        assert step.max() <= 0.01 + 1e-6
        assert step.max() > 0.009  # the clipped gradients are at the bound


def test_clipnorm_bounds_update_norm():
    x, y = _linear_problem(16)
    y = y * 100
    model = ff.Sequential([L.Dense(1, input_shape=(3,))])
    model.compile(ff.optimizers.SGD(learning_rate=1.0, clipnorm=0.5), "mse")
    before = model.get_weights()
    model.train_on_batch(x, y)
    for a, b in zip(model.get_weights(), before):
        assert np.linalg.norm(a - b) == pytest.approx(0.5, rel=1e-4)


def test_changing_learning_rate_between_fits_is_used():
    x, y = _linear_problem(16)
    model = ff.Sequential([L.Dense(1, input_shape=(3,))])
    model.compile(ff.optimizers.SGD(learning_rate=0.1), "mse")
    model.optimizer.learning_rate = 0.02
    w, b = model.get_weights()
    gw, _ = _mse_grads(w, b, x, y)
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(model.get_weights()[0], w - 0.02 * gw, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- losses on arrays


def _log_softmax(z):
    z = z.astype(np.float64)
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_mean_squared_error_on_arrays():
    rng = np.random.default_rng(0)
    y_true = rng.normal(size=(8, 3)).astype(np.float32)
    y_pred = rng.normal(size=(8, 3)).astype(np.float32)
    expected = np.mean((y_true.astype(np.float64) - y_pred) ** 2)
    assert ff.losses.MeanSquaredError()(y_true, y_pred) == pytest.approx(expected, rel=1e-5)
    assert ff.losses.get("mse")(y_true, y_pred) == pytest.approx(expected, rel=1e-5)
    assert isinstance(ff.losses.MeanSquaredError()(y_true, y_pred), float)


def test_mean_absolute_error_on_arrays():
    rng = np.random.default_rng(1)
    y_true = rng.normal(size=(8, 2))
    y_pred = rng.normal(size=(8, 2))
    assert ff.losses.MeanAbsoluteError()(y_true, y_pred) == pytest.approx(
        np.mean(np.abs(y_true - y_pred)), rel=1e-5)


def test_huber_on_arrays():
    y_true = np.array([[0.0], [0.0], [0.0], [0.0]])
    y_pred = np.array([[0.5], [-0.2], [3.0], [-2.0]])
    err = np.abs(y_pred - y_true)
    expected = np.mean(np.where(err <= 1.0, 0.5 * err ** 2, err - 0.5))
    assert ff.losses.Huber()(y_true, y_pred) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("shape", [(10, 1), (10, 3)])
def test_binary_crossentropy_from_logits_on_arrays(shape):
    rng = np.random.default_rng(2)
    logits = rng.normal(scale=3.0, size=shape)
    z = rng.integers(0, 2, size=shape).astype(np.float64)
    expected = np.mean(np.maximum(logits, 0) - logits * z + np.log1p(np.exp(-np.abs(logits))))
    got = ff.losses.BinaryCrossentropy(from_logits=True)(z, logits)
    assert got == pytest.approx(expected, rel=1e-5)


def test_binary_crossentropy_on_probabilities():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, size=(12, 1))
    z = rng.integers(0, 2, size=(12, 1)).astype(np.float64)
    expected = -np.mean(z * np.log(p) + (1 - z) * np.log(1 - p))
    assert ff.losses.BinaryCrossentropy()(z, p) == pytest.approx(expected, rel=1e-5)


def test_categorical_crossentropy_on_arrays():
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(9, 5))
    labels = rng.integers(0, 5, 9)
    one_hot = np.eye(5)[labels]
    expected = -np.mean(_log_softmax(logits)[np.arange(9), labels])
    assert ff.losses.CategoricalCrossentropy(from_logits=True)(one_hot, logits) == pytest.approx(
        expected, rel=1e-5)
    probs = np.exp(_log_softmax(logits))
    assert ff.losses.CategoricalCrossentropy()(one_hot, probs) == pytest.approx(expected, rel=1e-4)


def test_sparse_categorical_crossentropy_from_logits_on_arrays():
    rng = np.random.default_rng(5)
    logits = rng.normal(scale=4.0, size=(11, 7))
    labels = rng.integers(0, 7, 11)
    expected = -np.mean(_log_softmax(logits)[np.arange(11), labels])
    loss = ff.losses.SparseCategoricalCrossentropy(from_logits=True)
    assert loss(labels, logits) == pytest.approx(expected, rel=1e-5)
    assert loss(labels.reshape(-1, 1), logits) == pytest.approx(expected, rel=1e-5)
    probs = np.exp(_log_softmax(logits))
    assert ff.losses.SparseCategoricalCrossentropy()(labels, probs) == pytest.approx(expected, rel=1e-4)


def test_sparse_loss_on_arrays_rejects_bad_labels():
    logits = np.zeros((3, 4), np.float32)
    loss = ff.losses.SparseCategoricalCrossentropy(from_logits=True)
    with pytest.raises(TypeError):
        loss(np.array([0.0, 1.0, 2.0]), logits)
    with pytest.raises(ValueError, match="index 1"):
        loss(np.array([0, 4, 2]), logits)


def test_losses_on_arrays_do_not_broadcast():
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(4, 3\)"):
        ff.losses.MeanSquaredError()(np.zeros((4, 2)), np.zeros((4, 3)))
    # (N,) against (N, 1) is one column: loss over N values, not N*N
    y_true = np.array([1.0, 2.0, 3.0, 4.0])
    y_pred = np.array([[1.0], [1.0], [1.0], [1.0]])
    assert ff.losses.MeanSquaredError()(y_true, y_pred) == pytest.approx((0 + 1 + 4 + 9) / 4)


def test_loss_get():
    assert isinstance(ff.losses.get("mse"), ff.losses.MeanSquaredError)
    assert isinstance(ff.losses.get("mean_absolute_error"), ff.losses.MeanAbsoluteError)
    assert isinstance(ff.losses.get("sparse_categorical_crossentropy"), ff.losses.SparseCategoricalCrossentropy)
    assert isinstance(ff.losses.get(ff.losses.Huber), ff.losses.Huber)
    inst = ff.losses.BinaryCrossentropy(from_logits=True)
    assert ff.losses.get(inst) is inst
    assert ff.losses.get("categorical_crossentropy").from_logits is False
    with pytest.raises(TypeError):
        ff.losses.get(1.5)


# ---------------------------------------------------------------- metrics


def _separable(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype(np.float32)
    x[:, 0] += np.where(np.arange(n) % 2 == 0, 3.0, -3.0)  # two well separated blobs
    y = (np.arange(n) % 2 == 0).astype(np.int64)
    return x, y


@pytest.mark.parametrize("kind", ["binary", "binary_logits", "categorical", "sparse"])
def test_accuracy_resolves_and_reaches_one(kind):
    x, y = _separable()
    if kind == "binary":
        model = ff.Sequential([L.Dense(1, activation="sigmoid", input_shape=(2,))])
        model.compile(ff.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
        target = y.astype(np.float32)
    elif kind == "binary_logits":
        model = ff.Sequential([L.Dense(1, input_shape=(2,))])
        model.compile(ff.optimizers.Adam(0.05), ff.losses.BinaryCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        target = y.astype(np.float32)
    elif kind == "categorical":
        model = ff.Sequential([L.Dense(2, activation="softmax", input_shape=(2,))])
        model.compile(ff.optimizers.Adam(0.05), "categorical_crossentropy", metrics=["accuracy"])
        target = np.eye(2, dtype=np.float32)[y]
    else:
        model = ff.Sequential([L.Dense(2, input_shape=(2,))])
        model.compile(ff.optimizers.Adam(0.05), ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        target = y

    # before training, "accuracy" equals the right NumPy formula for this kind
    out = model(x)
    if kind == "binary":
        expected = np.mean((out[:, 0] > 0.5) == y)
    elif kind == "binary_logits":
        expected = np.mean((out[:, 0] > 0.0) == y)
    else:
        expected = np.mean(out.argmax(1) == y)
    assert model.evaluate(x, target, verbose=0, return_dict=True)["accuracy"] == pytest.approx(expected)

    history = model.fit(x, target, epochs=30, batch_size=16, verbose=0)
    acc = history.history["accuracy"]
    assert set(history.history) == {"loss", "accuracy"}
    assert all(0.0 <= a <= 1.0 for a in acc)
    assert acc[-1] == 1.0
    assert model.evaluate(x, target, verbose=0)[1] == 1.0


def test_accuracy_in_logs_equals_numpy_after_training():
    x, y = _separable()
    y = y.copy()
    y[:6] = 1 - y[:6]  # some label noise: accuracy < 1
    model = ff.Sequential([L.Dense(3, input_shape=(2,))])
    model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["acc"])
    model.fit(x, y, epochs=2, verbose=0)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "acc"]
    assert logs["acc"] == pytest.approx(np.mean(model(x).argmax(1) == y))


def test_mse_mae_metric_names_and_values():
    x, y = _linear_problem(24)
    model = ff.Sequential([L.Dense(1, input_shape=(3,))])
    model.compile(ff.optimizers.SGD(0.01), "mse", metrics=["mse", "mae"])
    history = model.fit(x, y, epochs=2, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "mse", "mae", "val_loss", "val_mse", "val_mae"}
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "mse", "mae"]
    err = model(x)[:, 0].astype(np.float64) - y
    assert logs["mse"] == pytest.approx(np.mean(err ** 2), rel=1e-5)
    assert logs["loss"] == pytest.approx(logs["mse"], rel=1e-6)
    assert logs["mae"] == pytest.approx(np.mean(np.abs(err)), rel=1e-5)
    assert model.metrics_names == ["loss", "mse", "mae"]


def test_metric_objects_and_duplicate_names():
    x, y = _linear_problem(8)
    model = ff.Sequential([L.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse", metrics=[ff.metrics.MeanAbsoluteError(name="my_mae")])
    assert list(model.evaluate(x, y, verbose=0, return_dict=True)) == ["loss", "my_mae"]
    with pytest.raises(ValueError, match="unique"):
        model.compile("sgd", "mse", metrics=["mae", "mae"])


def test_standalone_loss_averages_over_every_position_of_rank3_outputs():
    rng = np.random.default_rng(0)
    y_true = rng.normal(size=(4, 3, 5)).astype(np.float32)
    y_pred = rng.normal(size=(4, 3, 5)).astype(np.float32)
    want = np.mean((y_true - y_pred) ** 2)  # Keras: mean over the last axis, then over N*T
    assert ff.losses.MeanSquaredError()(y_true, y_pred) == pytest.approx(want, rel=1e-5)
