"""LossScaleOptimizer: Keras's arguments and defaults, compile's automatic wrapping for float16
(and auto_scale_loss=False), the inner optimizer's learning rate and iterations, steps skipped
on overflow, and the scale saved and restored with the model."""
import numpy as np
import pytest

import forgeflow as ff


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    y = (x @ rng.normal(size=(8, 1))).astype(np.float32)
    return x, y


def _model(dtype=None):
    return ff.Sequential([ff.Input((8,)), ff.layers.Dense(16, activation="relu", dtype=dtype),
                          ff.layers.Dense(1, dtype="float32")])


def test_defaults_and_validation():
    opt = ff.mixed_precision.LossScaleOptimizer(ff.optimizers.SGD(0.1))
    assert opt.dynamic_scale == 32768.0 and opt.dynamic_growth_steps == 2000
    assert opt.learning_rate == pytest.approx(0.1)
    opt.learning_rate = 0.05
    assert opt.inner_optimizer.learning_rate == pytest.approx(0.05)
    assert ff.optimizers.LossScaleOptimizer is ff.mixed_precision.LossScaleOptimizer
    with pytest.raises(ValueError, match="initial_scale must be a finite number >= 1"):
        ff.mixed_precision.LossScaleOptimizer("adam", initial_scale=0.5)
    with pytest.raises(ValueError, match="dynamic_growth_steps must be a positive integer"):
        ff.mixed_precision.LossScaleOptimizer("adam", dynamic_growth_steps=0)
    with pytest.raises(TypeError, match="already a LossScaleOptimizer"):
        ff.mixed_precision.LossScaleOptimizer(opt)


def test_compile_wraps_the_optimizer_for_float16_only():
    m16 = _model("mixed_float16")
    m16.compile(optimizer="adam", loss="mse")
    assert isinstance(m16.optimizer, ff.mixed_precision.LossScaleOptimizer)
    assert isinstance(m16.optimizer.inner_optimizer, ff.optimizers.Adam)
    mbf = _model("mixed_bfloat16")
    mbf.compile(optimizer="adam", loss="mse")
    assert isinstance(mbf.optimizer, ff.optimizers.Adam)  # bfloat16 has float32's range
    off = _model("mixed_float16")
    off.compile(optimizer="adam", loss="mse", auto_scale_loss=False)
    assert isinstance(off.optimizer, ff.optimizers.Adam)


def test_overflowing_steps_are_skipped_and_not_counted():
    x, y = _data()
    model = _model("mixed_float16")
    opt = ff.mixed_precision.LossScaleOptimizer(ff.optimizers.SGD(0.01), initial_scale=2.0 ** 60,
                                                dynamic_growth_steps=3)
    model.compile(optimizer=opt, loss="mse")
    before = model.get_weights()
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)  # one step: overflows, skipped
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert opt.iterations == 0 and opt.dynamic_scale == 2.0 ** 59
    history = model.fit(x, y, batch_size=64, epochs=60, verbose=0)
    skipped = opt.skipped_steps
    assert skipped >= 30
    assert opt.iterations == 61 - skipped  # only applied steps count, as in Keras
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert np.isfinite(history.history["loss"][-1])


def test_float16_model_trains_like_float32():
    x, y = _data(512, seed=3)
    losses = {}
    for policy in ["float32", "mixed_float16"]:
        ff.utils.set_random_seed(7)
        model = _model(policy)
        model.compile(optimizer=ff.optimizers.Adam(0.01), loss="mse")
        losses[policy] = model.fit(x, y, epochs=15, verbose=0).history["loss"]
    assert losses["mixed_float16"][-1] < 0.1 * losses["mixed_float16"][0]
    assert losses["mixed_float16"][-1] == pytest.approx(losses["float32"][-1], rel=0.3, abs=0.02)
    assert losses["mixed_float16"] != losses["float32"]  # it did compute in float16


def test_scale_and_policy_survive_save_and_load(tmp_path):
    x, y = _data()
    model = _model("mixed_float16")
    opt = ff.mixed_precision.LossScaleOptimizer(ff.optimizers.Adam(0.01), initial_scale=2.0 ** 20,
                                                dynamic_growth_steps=5)
    model.compile(optimizer=opt, loss="mse")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert opt.dynamic_scale != 2.0 ** 20  # it moved: halved on overflow or grown
    path = tmp_path / "m.ff"
    model.save(path)
    loaded = ff.models.load_model(path)
    assert isinstance(loaded.optimizer, ff.mixed_precision.LossScaleOptimizer)
    assert loaded.optimizer.dynamic_scale == opt.dynamic_scale
    assert loaded.optimizer.step_counter == opt.step_counter
    assert loaded.optimizer.dynamic_growth_steps == 5
    assert loaded.optimizer.iterations == opt.iterations
    assert loaded.layers[0].compute_dtype == "float16"
    assert loaded.layers[1].compute_dtype == "float32"
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    # Training continues identically from the restored state.
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    loaded.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
