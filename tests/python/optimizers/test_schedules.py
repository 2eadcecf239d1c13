"""ff.optimizers.schedules (python/forgeflow/schedules.py + cpp/src/optimizers/schedules):
Keras 3's formulas at several steps (hand-computed values, staircase, warm-up, boundaries),
get_config/from_config, use as learning_rate= of every optimizer, the per-step rate in fit,
and the errors (settable rate, Python subclasses, LearningRateScheduler/ReduceLROnPlateau)."""
import math

import numpy as np
import pytest

import forgeflow as ff

S = ff.optimizers.schedules


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(5)
    yield


def approx(v):
    return pytest.approx(v, rel=1e-6, abs=1e-8)


def test_exponential_decay_values():
    s = S.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert s(0) == approx(0.1)
    assert s(5) == approx(0.1 * math.sqrt(0.5))
    assert s(10) == approx(0.05)
    assert s(25) == approx(0.1 * 0.5 ** 2.5)
    st = S.ExponentialDecay(0.1, 10, 0.5, staircase=True)
    assert [st(i) for i in (0, 9, 10, 19, 20, 35)] == [approx(v) for v in
                                                       (0.1, 0.1, 0.05, 0.05, 0.025, 0.0125)]


def test_inverse_time_decay_values():
    s = S.InverseTimeDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert [s(i) for i in (0, 5, 10, 30)] == [approx(v) for v in (0.1, 0.08, 0.1 / 1.5, 0.04)]
    st = S.InverseTimeDecay(0.1, 10, 0.5, staircase=True)
    assert [st(i) for i in (5, 10, 15, 30)] == [approx(v) for v in (0.1, 0.1 / 1.5, 0.1 / 1.5, 0.04)]


def test_piecewise_constant_decay_boundaries():
    s = S.PiecewiseConstantDecay([100000, 110000], [1.0, 0.5, 0.1])
    assert [s(i) for i in (0, 100000, 100001, 110000, 110001)] == [
        approx(v) for v in (1.0, 1.0, 0.5, 0.5, 0.1)]
    with pytest.raises(ValueError, match="1 less than the length of values"):
        S.PiecewiseConstantDecay([10, 20], [1.0, 0.5])
    with pytest.raises(ValueError, match="strictly increasing"):
        S.PiecewiseConstantDecay([20, 10], [1.0, 0.5, 0.1])


def test_cosine_decay_values_and_warmup():
    s = S.CosineDecay(1.0, decay_steps=10)
    assert s(0) == approx(1.0)
    assert s(2) == approx(0.5 * (1 + math.cos(0.2 * math.pi)))
    assert s(5) == approx(0.5)
    assert s(10) == pytest.approx(0.0, abs=1e-7) and s(20) == pytest.approx(0.0, abs=1e-7)
    a = S.CosineDecay(2.0, 10, alpha=0.1)
    assert [a(5), a(10), a(50)] == [approx(1.1), approx(0.2), approx(0.2)]
    w = S.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4)
    assert [w(i) for i in (1, 2, 3, 4, 9)] == [approx(v) for v in (0.25, 0.5, 0.75, 1.0, 0.5)]
    assert w(0) == pytest.approx(0.0, abs=1e-8) and w(14) == pytest.approx(0.0, abs=1e-7)
    w2 = S.CosineDecay(0.1, 10, alpha=0.2, warmup_target=1.0, warmup_steps=4)
    assert w2(2) == approx(0.55)
    assert w2(9) == approx(1.0 * (0.8 * 0.5 + 0.2))


def test_argument_checks():
    for cls in (S.ExponentialDecay, S.InverseTimeDecay):
        with pytest.raises(ValueError, match="decay_steps.*> 0"):
            cls(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="decay_steps"):
        S.CosineDecay(0.1, -1)
    with pytest.raises(TypeError, match="initial_learning_rate"):
        S.ExponentialDecay("0.1", 10, 0.5)
    s = S.ExponentialDecay(0.1, 10, 0.5)
    with pytest.raises(ValueError, match="integer >= 0"):
        s(-1)
    with pytest.raises(TypeError, match="optimizer step"):
        s("3")


@pytest.mark.parametrize("schedule", [
    S.ExponentialDecay(0.1, 10, 0.5, staircase=True, name="e"),
    S.PiecewiseConstantDecay([3, 7], [0.3, 0.2, 0.1]),
    S.CosineDecay(0.0, 20, alpha=0.05, warmup_target=0.5, warmup_steps=3),
    S.InverseTimeDecay(0.2, 4, 1.5),
])
def test_config_round_trip(schedule):
    config = schedule.get_config()
    again = type(schedule).from_config(config)
    assert again.get_config() == config and again == schedule
    assert [again(i) for i in range(30)] == [schedule(i) for i in range(30)]
    restored = S.deserialize(S.serialize(schedule))
    assert type(restored) is type(schedule) and restored.get_config() == config
    with pytest.raises(ValueError, match="Unknown learning-rate schedule"):
        S.deserialize({"class_name": "os.system", "config": {}})


def test_keras_config_keys():
    assert set(S.ExponentialDecay(0.1, 10, 0.5).get_config()) == {
        "initial_learning_rate", "decay_steps", "decay_rate", "staircase", "name"}
    assert set(S.CosineDecay(0.1, 10).get_config()) == {
        "initial_learning_rate", "decay_steps", "alpha", "name", "warmup_target", "warmup_steps"}
    assert set(S.PiecewiseConstantDecay([1], [1.0, 0.5]).get_config()) == {
        "boundaries", "values", "name"}


OPTIMIZERS = [ff.optimizers.SGD, ff.optimizers.Adam, ff.optimizers.AdamW,
              ff.optimizers.RMSprop, ff.optimizers.Adagrad]


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_every_optimizer_takes_a_schedule(cls):
    schedule = S.ExponentialDecay(0.01, 2, 0.5)
    opt = cls(learning_rate=schedule)
    assert opt.learning_rate == approx(0.01)
    assert opt.learning_rate_schedule is schedule
    assert opt.get_config()["learning_rate"]["class_name"] == "ExponentialDecay"
    again = cls.from_config(opt.get_config())
    assert again.learning_rate_schedule == schedule
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1


def _data(n=32):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    return x, (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)


def test_fit_follows_the_schedule_step_by_step():
    x, y = _data(32)
    schedule = S.PiecewiseConstantDecay([2, 5], [0.1, 0.05, 0.01])
    model = ff.Sequential([ff.layers.Dense(1, input_shape=(3,))])
    model.compile(ff.optimizers.SGD(learning_rate=schedule), "mse")
    seen = []
    cb = ff.callbacks.LambdaCallback(
        on_train_batch_begin=lambda batch, logs: seen.append(model.optimizer.learning_rate))
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, callbacks=[cb])
    assert model.optimizer.iterations == 8
    assert seen == [approx(schedule(i)) for i in range(8)]
    assert seen[:3] == [approx(0.1)] * 3 and seen[3] == approx(0.05) and seen[6] == approx(0.01)


def test_scheduled_fit_equals_manual_rate_changes():
    """The rate the C++ loop uses at step i is schedule(i): same weights as setting a fixed
    rate by hand before each train_on_batch."""
    x, y = _data(32)
    schedule = S.CosineDecay(0.05, 6, alpha=0.1, warmup_target=0.2, warmup_steps=2)
    a = ff.Sequential([ff.layers.Dense(2, input_shape=(3,)), ff.layers.Dense(1)])
    a.compile(ff.optimizers.SGD(learning_rate=schedule, momentum=0.5), "mse")
    b = ff.Sequential([ff.layers.Dense(2, input_shape=(3,)), ff.layers.Dense(1)])
    b.compile(ff.optimizers.SGD(learning_rate=1.0, momentum=0.5), "mse")
    b.set_weights(a.get_weights())
    a.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    for step in range(12):
        b.optimizer.learning_rate = schedule(step)
        i = step % 4
        b.train_on_batch(x[i * 8:(i + 1) * 8], y[i * 8:(i + 1) * 8])
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_python_subclass_is_refused_with_a_reason():
    class Mine(S.LearningRateSchedule):
        def __call__(self, step):
            return 0.1

        def get_config(self):
            return {}

    with pytest.raises(TypeError, match="Python subclass.*C\\+\\+"):
        ff.optimizers.Adam(learning_rate=Mine())


def test_lr_callbacks_refuse_a_scheduled_optimizer():
    x, y = _data(16)
    for cb in (ff.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5),
               ff.callbacks.ReduceLROnPlateau(monitor="loss")):
        model = ff.Sequential([ff.layers.Dense(1, input_shape=(3,))])
        model.compile(ff.optimizers.SGD(learning_rate=S.ExponentialDecay(0.1, 2, 0.5)), "mse")
        with pytest.raises(TypeError, match="schedule.*ExponentialDecay"):
            model.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
        assert model.optimizer.iterations == 0  # refused before any step
