"""Tests for ff.debugging check-numerics: NaN/Inf raise FloatingPointError naming the layer (or
the loss), the pass and the epoch/step; off by default and when disabled."""

import numpy as np
import pytest

import forgeflow as ff

L = ff.layers


@pytest.fixture(autouse=True)
def session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(11)
    ff.debugging.disable_check_numerics()
    try:
        yield
    finally:
        ff.debugging.disable_check_numerics()


@pytest.fixture
def check_numerics():
    ff.debugging.enable_check_numerics()
    try:
        yield
    finally:
        ff.debugging.disable_check_numerics()


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def _model():
    model = ff.Sequential([L.Dense(8, activation="relu", input_shape=(4,)), L.Dense(2)])
    model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def test_off_by_default_and_switchable():
    assert not ff.debugging.check_numerics_enabled()
    ff.debugging.enable_check_numerics()
    try:
        assert ff.debugging.check_numerics_enabled()
    finally:
        ff.debugging.disable_check_numerics()
    assert not ff.debugging.check_numerics_enabled()


@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_bad_weight_in_second_layer_named_in_forward(check_numerics, bad):
    x, y = _data()
    model = _model()
    weights = model.get_weights()
    weights[2][0, 0] = bad  # kernel of the 2nd Dense layer, "dense_1"
    model.set_weights(weights)
    with pytest.raises(FloatingPointError) as info:
        model.fit(x, y, epochs=2, verbose=0)
    msg = str(info.value)
    assert 'layer "dense_1"' in msg
    assert "forward" in msg
    assert "epoch 1, step 1" in msg
    assert '"dense"' not in msg  # the first layer's outputs were finite
    assert ("NaN" in msg) or ("Inf" in msg)


def test_bad_weight_outside_fit_is_reported_too(check_numerics):
    x, _ = _data(4)
    model = _model()
    weights = model.get_weights()
    weights[2][:] = np.nan
    model.set_weights(weights)
    with pytest.raises(FloatingPointError, match=r'dense_1.*forward'):
        model.predict(x, verbose=0)
    with pytest.raises(FloatingPointError, match=r'dense_1.*forward'):
        model(x)


def test_diverging_run_names_a_layer_and_a_pass(check_numerics):
    rng = np.random.default_rng(2)
    x = (rng.random((64, 4)) * 1000).astype(np.float32)  # unnormalised on purpose
    y = (x @ np.array([3.0, -2.0, 1.0, 5.0], np.float32)).astype(np.float32) * 1000
    model = ff.Sequential([L.Dense(8, activation="relu", input_shape=(4,)), L.Dense(1)])
    model.compile(ff.optimizers.SGD(learning_rate=1e10), "mse")
    with pytest.raises(FloatingPointError) as info:
        model.fit(x, y, epochs=20, batch_size=8, verbose=0)
    msg = str(info.value)
    assert "check-numerics" in msg
    assert ('layer "dense"' in msg) or ('layer "dense_1"' in msg) or ('loss "mean_squared_error"' in msg)
    if "layer" in msg:
        assert ("forward pass" in msg) or ("backward pass" in msg)
    assert "epoch " in msg and "step " in msg


def test_nan_in_the_input_data_names_the_batch_not_the_first_layer(check_numerics):
    x, y = _data(64)
    x[37, 1] = np.nan  # batch 2 (of 32 rows), row 5
    model = _model()
    with pytest.raises(FloatingPointError) as info:
        model.fit(x, y, batch_size=32, shuffle=False, verbose=0)
    msg = str(info.value)
    assert "the input batch holds NaN before any layer ran" in msg, msg
    assert "epoch 1, step 2" in msg and "row 5" in msg and "1 NaN and 0 Inf" in msg, msg
    assert "dense" not in msg.split("check-numerics:")[1].split(".")[0], msg


def test_nan_in_targets_names_the_loss(check_numerics):
    x, _ = _data(32)
    y = x[:, 0].copy()
    y[5] = np.nan
    model = ff.Sequential([L.Dense(1, input_shape=(4,))])
    model.compile("sgd", "mse")
    with pytest.raises(FloatingPointError) as info:
        model.fit(x, y, batch_size=32, verbose=0)
    msg = str(info.value)
    assert 'loss "mean_squared_error"' in msg
    assert "NaN" in msg
    assert "epoch 1, step 1" in msg
    assert "targets" in msg


def test_disabled_no_error_and_nan_loss():
    x, _ = _data(32)
    y = x[:, 0].copy()
    y[5] = np.nan
    model = ff.Sequential([L.Dense(1, input_shape=(4,))])
    model.compile("sgd", "mse")
    history = model.fit(x, y, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert np.isnan(history.history["loss"][0])


def test_disabled_bad_weights_give_nan_outputs_without_error():
    x, y = _data()
    model = _model()
    weights = model.get_weights()
    weights[2][0, 0] = np.nan
    model.set_weights(weights)
    history = model.fit(x, y, epochs=1, verbose=0)
    assert np.isnan(history.history["loss"][0])
    assert np.isnan(model.predict(x, verbose=0)).any()


def test_finite_training_unaffected_by_check_numerics(check_numerics):
    x, y = _data()
    ff.utils.set_random_seed(3)
    a = _model()
    a.fit(x, y, epochs=2, verbose=0)
    ff.debugging.disable_check_numerics()
    ff.utils.set_random_seed(3)
    b = _model()
    b.fit(x, y, epochs=2, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
