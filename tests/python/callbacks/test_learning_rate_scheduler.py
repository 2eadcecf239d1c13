"""LearningRateScheduler (callbacks/learning_rate_scheduler.py) in real fits: both call forms,
the rate set is the rate used, logs["learning_rate"], and the float check."""
import numpy as np
import pytest

import forgeflow as ff
from _callback_helpers import regression_data, regressor


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(4)
    yield


def test_epoch_and_lr_form(capsys):
    x, y = regression_data()
    model = regressor(lr=0.1)
    calls = []

    def schedule(epoch, lr):
        calls.append((epoch, lr))
        return lr * 0.5 if epoch > 0 else lr

    history = model.fit(x, y, epochs=3, verbose=0,
                        callbacks=[ff.callbacks.LearningRateScheduler(schedule, verbose=1)])
    assert [e for e, _ in calls] == [0, 1, 2]
    assert [lr for _, lr in calls] == [pytest.approx(v, rel=1e-6) for v in (0.1, 0.1, 0.05)]
    assert history.history["learning_rate"] == [
        pytest.approx(v, rel=1e-6) for v in (0.1, 0.05, 0.025)]
    out = capsys.readouterr().out
    assert "Epoch 3: LearningRateScheduler setting learning rate to 0.025" in out


def test_epoch_only_form_and_rate_is_used():
    x, y = regression_data()
    model = regressor(lr=0.1)
    initial = model.get_weights()
    snaps = []
    keep = ff.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: snaps.append(model.get_weights()))
    sched = ff.callbacks.LearningRateScheduler(lambda epoch: 0.05 if epoch < 1 else 0.0)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[sched, keep])
    assert model.optimizer.learning_rate == 0.0
    assert not np.array_equal(initial[0], snaps[0][0])  # rate 0.05 in epoch 0: weights move
    for later in (snaps[1], snaps[2]):  # rate 0 from epoch 1: nothing moves
        for a, b in zip(snaps[0], later):
            np.testing.assert_array_equal(a, b)


def test_schedule_must_return_a_float():
    x, y = regression_data()
    model = regressor()
    with pytest.raises(ValueError, match="should be a float.*an int"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[ff.callbacks.LearningRateScheduler(lambda epoch, lr: 1)])
    with pytest.raises(TypeError, match="must be a function"):
        ff.callbacks.LearningRateScheduler(0.1)
