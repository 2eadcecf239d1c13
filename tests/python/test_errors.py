"""Every error forgeflow promises: wrong input shapes (naming the layer and both shapes), target
shapes (never broadcast), sparse/categorical label mix-ups, out-of-range labels (with the index
in the user's array), dtypes, sample counts, unknown names, invalid arguments. After each error
the model is unchanged and still trains."""

import numpy as np
import pytest

import forgeflow as ff
from forgeflow import _core

L = ff.layers


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(99)
    yield


def _image_model():
    model = ff.Sequential([ff.Input(shape=(28, 28, 1)), L.Flatten(), L.Dense(10)])
    model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def _classifier(classes=10, d=4, activation=None, loss=None, metrics=None):
    model = ff.Sequential([L.Dense(8, activation="relu", input_shape=(d,)),
                           L.Dense(classes, activation=activation)])
    model.compile("adam", loss or ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=metrics)
    return model


def _data(n=64, d=4, classes=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(np.float32), rng.integers(0, classes, size=n).astype(np.int64)


def _snapshot(model):
    return [w.copy() for w in model.get_weights()]


def _assert_unchanged_and_usable(model, before, x, y):
    """The failed call changed no weight, and a correct fit afterwards trains."""
    after = model.get_weights()
    assert len(after) == len(before)
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert not all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))


# ---------------------------------------------------------------- input shapes


def test_missing_channel_axis_names_layer_shapes_and_hint():
    model = _image_model()
    before = _snapshot(model)
    x = np.zeros((32, 28, 28), np.float32)
    y = np.zeros(32, np.int64)
    with pytest.raises(ValueError) as info:
        model.fit(x, y, verbose=0)
    msg = str(info.value)
    assert 'layer "flatten"' in msg
    assert "(None, 28, 28, 1)" in msg
    assert "(32, 28, 28)" in msg
    assert "trailing axis" in msg and "x[..., None]" in msg
    _assert_unchanged_and_usable(model, before, x[..., None], y)


@pytest.mark.parametrize("call", ["predict", "evaluate", "call", "train_on_batch", "predict_on_batch"])
def test_input_shape_errors_in_every_entry_point(call):
    model = _image_model()
    before = _snapshot(model)
    x = np.zeros((5, 28, 28), np.float32)
    y = np.zeros(5, np.int64)
    fn = {
        "predict": lambda: model.predict(x, verbose=0),
        "evaluate": lambda: model.evaluate(x, y, verbose=0),
        "call": lambda: model(x),
        "train_on_batch": lambda: model.train_on_batch(x, y),
        "predict_on_batch": lambda: model.predict_on_batch(x),
    }[call]
    with pytest.raises(ValueError, match=r"flatten.*\(None, 28, 28, 1\).*\(5, 28, 28\)"):
        fn()
    _assert_unchanged_and_usable(model, before, x[..., None], y)


def test_extra_trailing_axis_hint():
    model = ff.Sequential([L.Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match=r"\(None, 3\).*\(4, 3, 1\).*np\.squeeze"):
        model.predict(np.zeros((4, 3, 1), np.float32), verbose=0)


def test_wrong_feature_count():
    model = ff.Sequential([L.Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match=r'"dense".*\(None, 3\).*\(4, 5\)'):
        model(np.zeros((4, 5), np.float32))


def test_error_inside_the_stack_names_that_layer():
    # 6 values cannot be reshaped to (4, 2): the error names the reshape layer and the shapes.
    with pytest.raises(ValueError, match=r"reshape.*\(4, 2\)"):
        ff.Sequential([L.Dense(6, input_shape=(3,)), L.Reshape((4, 2))])


# ---------------------------------------------------------------- targets


def test_rank1_targets_for_one_column_outputs_are_a_column_not_broadcast():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20, 3)).astype(np.float32)
    y = rng.normal(size=20).astype(np.float32) * 3
    model = ff.Sequential([L.Dense(1, input_shape=(3,))])
    model.compile(ff.optimizers.SGD(0.01), "mse")
    pred = model(x).astype(np.float64)
    assert pred.shape == (20, 1)
    column = float(np.mean((pred[:, 0] - y) ** 2))
    broadcast = float(np.mean((pred - y[None, :].astype(np.float64)) ** 2))  # (20, 20)
    assert abs(column - broadcast) > 1e-2
    loss = model.evaluate(x, y, batch_size=32, verbose=0)
    assert loss == pytest.approx(column, rel=1e-5)
    assert model.evaluate(x, y.reshape(-1, 1), verbose=0) == pytest.approx(column, rel=1e-5)
    assert model.test_on_batch(x, y) == pytest.approx(column, rel=1e-5)
    assert model.train_on_batch(x, y) == pytest.approx(column, rel=1e-5)
    # the stand-alone loss applies the same rule
    assert ff.losses.MeanSquaredError()(y, pred) == pytest.approx(column, rel=1e-5)
    # and fit with it trains on the column: one full batch, loss measured before the update
    model.set_weights([np.zeros((3, 1), np.float32), np.zeros((1,), np.float32)])
    history = model.fit(x, y, epochs=1, batch_size=20, verbose=0)
    assert history.history["loss"][0] == pytest.approx(float(np.mean(y.astype(np.float64) ** 2)), rel=1e-5)


@pytest.mark.parametrize("y_shape", [(16, 2), (16, 1, 1), (16, 3)])
def test_other_target_mismatches_raise_with_both_shapes(y_shape):
    x = np.ones((16, 3), np.float32)
    model = ff.Sequential([L.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    before = _snapshot(model)
    y = np.zeros(y_shape, np.float32)
    with pytest.raises(ValueError) as info:
        model.fit(x, y, verbose=0)
    msg = str(info.value)
    assert str(y_shape) in msg and "(16, 1)" in msg
    assert "broadcast" in msg
    _assert_unchanged_and_usable(model, before, x, np.ones(16, np.float32))


def test_rank1_targets_for_multi_column_outputs_raise():
    x = np.zeros((16, 3), np.float32)
    model = ff.Sequential([L.Dense(4, input_shape=(3,))])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"\(16,\).*\(16, 4\)"):
        model.fit(x, np.zeros(16, np.float32), verbose=0)


def test_integer_labels_with_categorical_crossentropy_suggest_sparse():
    x, y = _data(32)
    model = _classifier(activation="softmax", loss="categorical_crossentropy")
    before = _snapshot(model)
    with pytest.raises(ValueError) as info:
        model.fit(x, y, verbose=0)
    msg = str(info.value)
    assert "sparse_categorical_crossentropy" in msg
    assert "(32,)" in msg and "(32, 10)" in msg
    _assert_unchanged_and_usable(model, before, x, np.eye(10, dtype=np.float32)[y])


@pytest.mark.parametrize("dtype", [np.int64, np.float32])
def test_one_hot_labels_with_sparse_loss_suggest_categorical(dtype):
    x, y = _data(32)
    model = _classifier()
    before = _snapshot(model)
    one_hot = np.eye(10, dtype=dtype)[y]
    with pytest.raises(ValueError) as info:
        model.fit(x, one_hot, verbose=0)
    msg = str(info.value)
    assert "categorical_crossentropy" in msg
    assert "one-hot" in msg
    assert "(32, 10)" in msg
    assert "astype('int64')" not in msg
    _assert_unchanged_and_usable(model, before, x, y)


@pytest.mark.parametrize("bad", [10, -1, 1000])
def test_sparse_label_out_of_range_in_first_batch(bad):
    x, y = _data(64)
    y[3] = bad
    model = _classifier()
    before = _snapshot(model)
    with pytest.raises(ValueError) as info:
        model.fit(x, y, batch_size=16, shuffle=False, verbose=0)
    msg = str(info.value)
    assert f"label value of {bad}" in msg
    assert "sample index 3" in msg
    assert "[0, 10)" in msg
    y[3] = 0
    _assert_unchanged_and_usable(model, before, x, y)


def test_sparse_label_out_of_range_reports_index_in_users_array_when_shuffled():
    x, y = _data(200)
    y[137] = 10
    model = _classifier()
    before = _snapshot(model)
    with pytest.raises(ValueError, match=r"label value of 10 at sample index 137 of y\b"):
        model.fit(x, y, batch_size=8, shuffle=True, epochs=2, verbose=0)
    assert model.optimizer.iterations == 0  # raised before any step
    # evaluate and train_on_batch report the index too
    with pytest.raises(ValueError, match=r"label value of 10 at sample index 137 of y\b"):
        model.evaluate(x, y, batch_size=16, verbose=0)
    with pytest.raises(ValueError, match=r"sample index 137"):
        model.train_on_batch(x, y)
    # (N, 1) labels: same index
    with pytest.raises(ValueError, match=r"sample index 137"):
        model.fit(x, y.reshape(-1, 1), verbose=0)
    y[137] = 1
    _assert_unchanged_and_usable(model, before, x, y)


def test_sparse_label_out_of_range_in_validation_data():
    x, y = _data(100)
    yv = y[:20].copy()
    yv[7] = 12
    model = _classifier()
    before = _snapshot(model)
    with pytest.raises(ValueError, match=r"label value of 12 at sample index 7 of validation y"):
        model.fit(x, y, validation_data=(x[:20], yv), verbose=0)
    _assert_unchanged_and_usable(model, before, x, y)


def test_sparse_label_out_of_range_in_validation_split_part():
    # The index is in the user's y, not in the validation slice.
    x, y = _data(100)
    y[95] = -1
    model = _classifier()
    before = _snapshot(model)
    with pytest.raises(ValueError, match=r"label value of -1 at sample index 95 of y\b"):
        model.fit(x, y, validation_split=0.2, verbose=0)
    y[95] = 0
    _assert_unchanged_and_usable(model, before, x, y)


def test_float_labels_with_sparse_loss_raise_type_error_with_cast_hint():
    x, y = _data(32)
    model = _classifier()
    before = _snapshot(model)
    with pytest.raises(TypeError) as info:
        model.fit(x, y.astype(np.float32), verbose=0)
    msg = str(info.value)
    assert "float32" in msg and "astype('int64')" in msg
    # non-integral floats: no cast hint, still TypeError
    with pytest.raises(TypeError, match="integer class indices"):
        model.fit(x, y.astype(np.float32) + 0.5, verbose=0)
    _assert_unchanged_and_usable(model, before, x, y)


def test_string_x_raises_type_error():
    model = _classifier()
    before = _snapshot(model)
    x = np.array([["1", "2", "3", "4"]] * 8)
    y = np.zeros(8, np.int64)
    with pytest.raises(TypeError, match="numeric"):
        model.fit(x, y, verbose=0)
    with pytest.raises(TypeError, match="numeric"):
        model.predict(x, verbose=0)
    _assert_unchanged_and_usable(model, before, *_data(32))


def test_string_targets_raise_type_error():
    model = ff.Sequential([L.Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    with pytest.raises(TypeError):
        model.fit(np.zeros((3, 2), np.float32), np.array(["a", "b", "c"]), verbose=0)


def test_sample_count_mismatch():
    x, y = _data(64)
    model = _classifier()
    before = _snapshot(model)
    with pytest.raises(ValueError, match=r"64.*63"):
        model.fit(x, y[:63], verbose=0)
    with pytest.raises(ValueError, match=r"64.*65"):
        model.evaluate(x, np.concatenate([y, y[:1]]), verbose=0)
    with pytest.raises(ValueError, match=r"10.*9"):
        model.fit(x, y, validation_data=(x[:10], y[:9]), verbose=0)
    _assert_unchanged_and_usable(model, before, x, y)


# ---------------------------------------------------------------- names


def test_unknown_loss():
    model = ff.Sequential([L.Dense(1, input_shape=(2,))])
    with pytest.raises(ValueError, match=r"Unknown loss: 'mean_sqared_error'.*mean_squared_error"):
        model.compile("sgd", "mean_sqared_error")
    assert not model.compiled


def test_unknown_optimizer():
    model = ff.Sequential([L.Dense(1, input_shape=(2,))])
    with pytest.raises(ValueError, match=r"Unknown optimizer: 'adamm'.*adam.*sgd"):
        model.compile("adamm", "mse")


def test_unknown_metric():
    model = ff.Sequential([L.Dense(1, input_shape=(2,))])
    with pytest.raises(ValueError, match=r"Unknown metric: 'acuracy'.*accuracy"):
        model.compile("sgd", "mse", metrics=["acuracy"])


def test_unknown_activation():
    with pytest.raises(ValueError, match=r"relu.*sigmoid.*softmax"):
        L.Dense(3, activation="rellu")
    with pytest.raises(ValueError, match=r"rellu"):
        L.Activation("rellu")


def test_unknown_initializer():
    with pytest.raises(ValueError, match=r"glorot_uniform.*he_normal"):
        L.Dense(3, kernel_initializer="glorot")
    with pytest.raises(ValueError, match=r"zeros"):
        L.Dense(3, bias_initializer="zero")


# ---------------------------------------------------------------- compile and arguments


def test_compile_required():
    model = ff.Sequential([L.Dense(1, input_shape=(2,))])
    x, y = np.zeros((4, 2), np.float32), np.zeros(4, np.float32)
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(x, y, verbose=0)
    with pytest.raises(RuntimeError, match="compile"):
        model.evaluate(x, y, verbose=0)
    with pytest.raises(RuntimeError, match="compile"):
        model.train_on_batch(x, y)
    # predict needs no compile
    assert model.predict(x, verbose=0).shape == (4, 1)
    model.compile("sgd", "mse")
    assert len(model.fit(x, y, verbose=0).history["loss"]) == 1


def test_a_model_without_any_loss_cannot_train():
    # compile() without a loss is allowed (Keras 3: the loss may come from add_loss alone), but a
    # model with no loss at all is refused before any step, with Keras's message.
    model = ff.Sequential([L.Dense(1, input_shape=(2,))])
    model.compile("sgd")
    before = model.get_weights()
    x = np.ones((4, 2), np.float32)
    with pytest.raises(ValueError, match="No loss to compute"):
        model.fit(x, np.ones((4, 1), np.float32), verbose=0)
    with pytest.raises(ValueError, match="No loss to compute"):
        model.evaluate(x, np.ones((4, 1), np.float32), verbose=0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("batch_size", [0, -4, 2.5, True, "32"])
def test_invalid_batch_size(batch_size):
    x, y = _data(32)
    model = _classifier()
    before = _snapshot(model)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(x, y, batch_size=batch_size, verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        model.evaluate(x, y, batch_size=batch_size, verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        model.predict(x, batch_size=batch_size, verbose=0)
    _assert_unchanged_and_usable(model, before, x, y)


@pytest.mark.parametrize("split", [1.0, -0.1, 1.5, "0.2"])
def test_invalid_validation_split(split):
    x, y = _data(32)
    model = _classifier()
    before = _snapshot(model)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, validation_split=split, verbose=0)
    _assert_unchanged_and_usable(model, before, x, y)


def test_validation_split_leaving_no_training_samples():
    x, y = _data(3)
    model = _classifier()
    with pytest.raises(ValueError, match=r"validation_split=0.9 leaves no training.*3"):
        model.fit(x, y, validation_split=0.9, verbose=0)


@pytest.mark.parametrize("units", [0, -3, 2.5, True, None])
def test_invalid_dense_units(units):
    with pytest.raises(ValueError, match="units"):
        L.Dense(units)


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, True, "0.5"])
def test_invalid_dropout_rate(rate):
    with pytest.raises(ValueError, match="rate"):
        L.Dropout(rate)


@pytest.mark.parametrize("kwargs", [
    {"clipnorm": 1.0, "clipvalue": 0.5},
    {"clipnorm": 1.0, "global_clipnorm": 1.0},
    {"clipvalue": 0.5, "global_clipnorm": 1.0},
])
@pytest.mark.parametrize("cls", [ff.optimizers.SGD, ff.optimizers.Adam, ff.optimizers.RMSprop])
def test_optimizer_two_clipping_options(cls, kwargs):
    with pytest.raises(ValueError, match="Only one of"):
        cls(**kwargs)


def test_one_clipping_option_is_fine():
    for kw in ({"clipnorm": 1.0}, {"clipvalue": 0.5}, {"global_clipnorm": 1.0}):
        opt = ff.optimizers.SGD(**kw)
        model = ff.Sequential([L.Dense(1, input_shape=(2,))])
        model.compile(opt, "mse")
        model.fit(np.ones((4, 2), np.float32), np.ones(4, np.float32), verbose=0)


def test_invalid_verbose_and_unknown_kwargs():
    x, y = _data(8)
    model = _classifier()
    with pytest.raises(ValueError, match="verbose"):
        model.fit(x, y, verbose=3)
    with pytest.raises(TypeError, match="unexpected keyword"):
        L.Dense(3, unitz=4)


def test_metric_that_does_not_fit_the_loss_raises_before_training():
    x, y = _data(32)
    model = _classifier(metrics=[ff.metrics.CategoricalAccuracy()])
    before = _snapshot(model)
    with pytest.raises(ValueError, match="categorical_accuracy"):
        model.fit(x, y, verbose=0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("loss, y", [
    ("binary_crossentropy", np.array([[0.0], [1.0], [2.0], [1.0]], np.float32)),
    ("categorical_crossentropy", np.array([[0, 1], [1, 0], [0, 1], [-1, 2]], np.float32)),
])
def test_probability_targets_outside_0_1_are_refused(loss, y):
    model = ff.Sequential([ff.Input((3,)), ff.layers.Dense(y.shape[1], activation="sigmoid")])
    model.compile(optimizer="sgd", loss=loss)
    before = model.get_weights()
    bad_index = 2 if loss == "binary_crossentropy" else 3
    with pytest.raises(ValueError, match=rf"target value of -?[12] at sample index {bad_index} of "
                                         rf'y, which is outside \[0, 1\]: the loss "{loss}" takes '
                                         "probabilities"):
        model.fit(np.ones((4, 3), np.float32), y, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # nothing trained
    soft = np.clip(y, 0.0, 1.0) * 0.9  # soft labels in [0, 1] are fine
    model.fit(np.ones((4, 3), np.float32), soft, verbose=0)


# ---------------------------------------------------------------- out of memory (ff.errors)


@pytest.fixture
def memory_limit():
    """Sets a test-only limit on a device's memory (_core.set_memory_limit_for_testing:
    allocations past it fail as if the memory were full, below the capacity the model checks
    before allocating), removed afterwards."""
    names = []

    def set_limit(device, nbytes):
        names.append(device)
        _core.set_memory_limit_for_testing(device, nbytes)
    yield set_limit
    for device in names:
        _core.set_memory_limit_for_testing(device, 0)


def test_out_of_memory_names_the_layer_and_the_batch_and_a_smaller_batch_trains(memory_limit):
    model = ff.Sequential([ff.Input(shape=(32,)), L.Dense(256, activation="relu"), L.Dense(10)])
    model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    # The device the model was placed on: the CPU here, the GPU on a GPU machine.
    device = "CPU:0" if model._core.device == "cpu" else "GPU:0"
    x, y = _data(n=4096, d=32)
    before = _snapshot(model)
    in_use = ff.config.experimental.get_memory_info(device)["current"]
    # Room for the buffers of a batch of 32 (about 200 KiB), not for one of 4096 (the first
    # Dense output alone is 4 MiB).
    memory_limit(device, in_use + 1024 * 1024)
    with pytest.raises(ff.errors.ResourceExhaustedError) as info:
        model.fit(x, y, batch_size=4096, epochs=1, verbose=0)
    msg = str(info.value)
    assert msg.startswith('OOM when allocating the output of layer "dense" (Dense) for a batch '
                          f'of 4096 samples (shape=(4096, 256), 4.0 MiB) on {model._core.device}')
    assert msg.endswith("use a smaller batch_size.")
    assert isinstance(info.value, ff.errors.OpError)
    assert info.value.error_code == ff.errors.RESOURCE_EXHAUSTED
    # Nothing of the failed batch's buffers was kept (the loop's small state block may remain).
    assert ff.config.experimental.get_memory_info(device)["current"] - in_use < 4096
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    history = model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    # predict and evaluate fail the same way and work with a smaller batch
    with pytest.raises(ff.errors.ResourceExhaustedError, match="for a batch of 4096 samples"):
        model.predict(x, batch_size=4096, verbose=0)
    assert model.predict(x, batch_size=64, verbose=0).shape == (4096, 10)


def test_errors_have_tensorflows_signature_and_pickle():
    import pickle
    e = ff.errors.ResourceExhaustedError(None, None, "OOM when allocating ...")
    assert str(e) == e.message == "OOM when allocating ..."
    assert e.op is None and e.node_def is None
    assert e.error_code == ff.errors.RESOURCE_EXHAUSTED == 8
    again = pickle.loads(pickle.dumps(e))
    assert type(again) is ff.errors.ResourceExhaustedError and again.message == e.message
    base = ff.errors.OpError(None, None, "failed", 2)
    assert pickle.loads(pickle.dumps(base)).error_code == 2
