"""TerminateOnNaN (callbacks/terminate_on_nan.py): stops at the batch where the loss becomes
NaN, gets per-batch calls because it overrides on_train_batch_end, while the epoch-only
callbacks keep the loop free of per-batch Python calls."""
import numpy as np
import pytest

import forgeflow as ff
from _callback_helpers import regression_data, regressor


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(7)
    yield


def test_stops_at_the_nan_batch(capsys):
    x, y = regression_data(64)
    y = y.copy()
    y[3 * 8 + 2, 0] = np.nan  # a NaN target in batch 3 (batch size 8, no shuffle)
    model = regressor()
    seen = []
    term = ff.callbacks.TerminateOnNaN()
    spy = ff.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    history = model.fit(x, y, batch_size=8, epochs=5, shuffle=False, verbose=0,
                        callbacks=[term, spy])
    assert term.stopped_batch == 3
    assert seen == [0, 1, 2, 3]  # nothing after the NaN batch
    assert model.optimizer.iterations == 4
    assert len(history.history["loss"]) == 1 and np.isnan(history.history["loss"][0])
    assert "Batch 3: Invalid loss, terminating training" in capsys.readouterr().out


def test_infinite_loss_also_stops():
    term = ff.callbacks.TerminateOnNaN()

    class M:
        stop_training = False

    term.set_model(M())
    term.on_train_batch_end(0, {"loss": 1.0})
    assert not M.stop_training and term.stopped_batch is None
    term.on_train_batch_end(1, {"loss": float("inf")})
    assert term.model.stop_training and term.stopped_batch == 1


def test_only_batch_overriding_callbacks_need_batch_calls(tmp_path):
    def needs(cb):
        return ff.callbacks.CallbackList([cb]).needs_train_batch_hooks

    assert needs(ff.callbacks.TerminateOnNaN())
    assert needs(ff.callbacks.TensorBoard(tmp_path, update_freq=5))
    for cb in (ff.callbacks.TensorBoard(tmp_path), ff.callbacks.CSVLogger(tmp_path / "a.csv"),
               ff.callbacks.ReduceLROnPlateau(), ff.callbacks.EarlyStopping(),
               ff.callbacks.LearningRateScheduler(lambda e, lr: lr), ff.callbacks.History()):
        assert not needs(cb), cb
