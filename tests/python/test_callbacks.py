"""Callbacks driven by a real model's fit/evaluate/predict: hook order and arguments, batch hooks
called only when overridden, EarlyStopping (+ restore_best_weights), LambdaCallback,
stop_training from a batch hook, model.history."""

import numpy as np
import pytest

import forgeflow as ff

L = ff.layers
cbs = ff.callbacks


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(21)
    yield


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)


def _model(lr=0.01):
    model = ff.Sequential([L.Dense(8, activation="relu", input_shape=(4,)), L.Dense(2)])
    model.compile(ff.optimizers.Adam(learning_rate=lr),
                  ff.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


class Recorder(cbs.Callback):
    """Records every hook it overrides, with its arguments."""

    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_begin(self, logs=None):
        self.events.append(("train_begin", None, dict(logs or {})))

    def on_train_end(self, logs=None):
        self.events.append(("train_end", None, dict(logs or {})))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch, dict(logs or {})))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch, dict(logs or {})))

    def on_train_batch_begin(self, batch, logs=None):
        self.events.append(("batch_begin", batch, dict(logs or {})))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch, dict(logs or {})))


def test_hook_order_and_arguments():
    x, y = _data(40)
    rec = Recorder()
    model = _model()
    history = model.fit(x, y, epochs=2, batch_size=10, validation_split=0.25, callbacks=[rec],
                        verbose=0)
    steps = 3  # 30 training samples / 10
    expected = [("train_begin", None)]
    for epoch in range(2):
        expected.append(("epoch_begin", epoch))
        for b in range(steps):
            expected += [("batch_begin", b), ("batch_end", b)]
        expected.append(("epoch_end", epoch))
    expected.append(("train_end", None))
    assert [(e[0], e[1]) for e in rec.events] == expected

    assert rec.model is model
    assert rec.params["epochs"] == 2 and rec.params["steps"] == steps and rec.params["verbose"] == 0

    # batch_end logs are running averages of the training metrics
    batch_ends = [e for e in rec.events if e[0] == "batch_end"]
    assert all(set(e[2]) == {"loss", "accuracy"} for e in batch_ends)
    # epoch_end logs hold training and validation metrics, as History records them
    epoch_ends = [e for e in rec.events if e[0] == "epoch_end"]
    for epoch, (_, _, logs) in enumerate(epoch_ends):
        assert set(logs) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        for k, v in logs.items():
            assert history.history[k][epoch] == v
    # the last batch's running average is the epoch's training value
    assert batch_ends[-1][2]["loss"] == pytest.approx(epoch_ends[-1][2]["loss"])
    # train_end receives the last epoch's logs
    assert rec.events[-1][2] == epoch_ends[-1][2]


def test_batch_begin_logs_and_partial_batches():
    x, y = _data(25)
    rec = Recorder()
    _model().fit(x, y, epochs=1, batch_size=10, callbacks=[rec], verbose=0)
    assert [e[1] for e in rec.events if e[0] == "batch_end"] == [0, 1, 2]
    assert [e[1] for e in rec.events if e[0] == "batch_begin"] == [0, 1, 2]


class EpochOnly(cbs.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(epoch)


def test_batch_hooks_not_called_when_not_overridden(monkeypatch):
    calls = {"n": 0}
    original = cbs.Callback.on_train_batch_end

    def spy(self, batch, logs=None):
        calls["n"] += 1
        return original(self, batch, logs)

    # The base-class hook is replaced by a spy *after* the subclass is defined; the subclass
    # still does not override it, so the loop must not call it even once.
    cb = EpochOnly()
    monkeypatch.setattr(cbs.Callback, "on_train_batch_end", spy)
    monkeypatch.setattr(cbs.Callback, "on_train_batch_begin", spy)
    monkeypatch.setattr(cbs.Callback, "on_batch_end", spy)
    x, y = _data(40)
    model = _model()
    model.fit(x, y, epochs=3, batch_size=4, callbacks=[cb], verbose=0)
    assert cb.epochs == [0, 1, 2]
    assert calls["n"] == 0


def test_callback_list_detects_overrides_of_real_callbacks():
    lst = cbs.CallbackList([EpochOnly(), cbs.EarlyStopping(), cbs.History()])
    assert not lst.needs_train_batch_hooks
    assert not lst.needs_test_batch_hooks
    lst = cbs.CallbackList([Recorder()])
    assert lst.needs_train_batch_hooks
    lst = cbs.CallbackList([cbs.LambdaCallback(on_train_batch_end=lambda b, l: None)])
    assert lst.needs_train_batch_hooks


def test_legacy_on_batch_end_alias_is_called():
    seen = []

    class Legacy(cbs.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(batch)

    x, y = _data(20)
    _model().fit(x, y, epochs=1, batch_size=5, callbacks=[Legacy()], verbose=0)
    assert seen == [0, 1, 2, 3]


def test_test_and_predict_batch_hooks():
    events = []

    class Eval(cbs.Callback):
        def on_test_begin(self, logs=None):
            events.append("test_begin")

        def on_test_batch_end(self, batch, logs=None):
            events.append(("test_batch", batch, sorted(logs)))

        def on_test_end(self, logs=None):
            events.append(("test_end", sorted(logs)))

        def on_predict_batch_end(self, batch, logs=None):
            events.append(("predict_batch", batch))

        def on_predict_end(self, logs=None):
            events.append("predict_end")

    x, y = _data(25)
    model = _model()
    model.evaluate(x, y, batch_size=10, callbacks=[Eval()], verbose=0)
    model.predict(x, batch_size=10, callbacks=[Eval()], verbose=0)
    assert events == [
        "test_begin",
        ("test_batch", 0, ["accuracy", "loss"]), ("test_batch", 1, ["accuracy", "loss"]),
        ("test_batch", 2, ["accuracy", "loss"]),
        ("test_end", ["accuracy", "loss"]),
        ("predict_batch", 0), ("predict_batch", 1), ("predict_batch", 2),
        "predict_end",
    ]


def test_early_stopping_stops_training():
    x, y = _data(40)
    model = _model(lr=0.0)  # nothing improves
    stopper = cbs.EarlyStopping(monitor="loss", patience=2, min_delta=1e-6)
    history = model.fit(x, y, epochs=20, callbacks=[stopper], verbose=0)
    assert len(history.history["loss"]) == 3  # best at epoch 0, then 2 epochs without improvement
    assert stopper.stopped_epoch == 2
    assert model.stop_training


def test_early_stopping_restore_best_weights():
    x, y = _data(40)
    model = _model(lr=0.05)
    snapshots = []
    record = cbs.LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(model.get_weights()))
    # val_loss on random-label validation data gets worse as the model fits the training data
    rng = np.random.default_rng(9)
    xv = rng.normal(size=(40, 4)).astype(np.float32)
    yv = rng.integers(0, 2, 40).astype(np.int64)
    stopper = cbs.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=30, validation_data=(xv, yv), callbacks=[record, stopper],
                        verbose=0)
    val = history.history["val_loss"]
    best = int(np.argmin(val))
    assert stopper.best_epoch == best
    assert len(val) < 30
    for a, b in zip(model.get_weights(), snapshots[best]):
        np.testing.assert_array_equal(a, b)
    assert model.evaluate(xv, yv, verbose=0)[0] == pytest.approx(val[best], rel=1e-6)
    # the best epoch is not the last one, so restoring really changed the weights
    assert best < len(val) - 1
    assert not all(np.array_equal(a, b) for a, b in zip(model.get_weights(), snapshots[-1]))


def test_lambda_callback_on_epoch_end():
    x, y = _data(40)
    seen = []
    cb = cbs.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append((epoch, sorted(logs))))
    _model().fit(x, y, epochs=3, validation_split=0.25, callbacks=[cb], verbose=0)
    assert seen == [(e, ["accuracy", "loss", "val_accuracy", "val_loss"]) for e in range(3)]


def test_lambda_callback_train_begin_end_and_batch():
    x, y = _data(20)
    events = []
    cb = cbs.LambdaCallback(on_train_begin=lambda logs: events.append("begin"),
                            on_train_batch_end=lambda batch, logs: events.append(batch),
                            on_train_end=lambda logs: events.append("end"))
    _model().fit(x, y, epochs=2, batch_size=10, callbacks=[cb], verbose=0)
    assert events == ["begin", 0, 1, 0, 1, "end"]


def test_stop_training_from_batch_end_stops_after_that_batch():
    x, y = _data(40)
    model = _model()
    seen = []

    class StopAt(cbs.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)
            if batch == 2:
                self.model.stop_training = True

    history = model.fit(x, y, epochs=5, batch_size=4, callbacks=[StopAt()], verbose=0)
    assert seen == [0, 1, 2]
    assert model.optimizer.iterations == 3
    assert len(history.history["loss"]) == 1  # the interrupted epoch still ends and is recorded
    # a new fit starts afresh
    seen.clear()
    model.fit(x, y, epochs=1, batch_size=20, verbose=0)
    assert model.optimizer.iterations == 5


def test_stop_training_from_epoch_end():
    x, y = _data(40)
    model = _model()
    cb = cbs.LambdaCallback(on_epoch_end=lambda epoch, logs: setattr(model, "stop_training", epoch == 1))
    history = model.fit(x, y, epochs=10, callbacks=[cb], verbose=0)
    assert history.epoch == [0, 1]


def test_history_is_model_history():
    x, y = _data(20)
    model = _model()
    assert model.history is None
    h1 = model.fit(x, y, epochs=2, verbose=0)
    assert model.history is h1
    assert h1.epoch == [0, 1] and len(h1.history["loss"]) == 2
    h2 = model.fit(x, y, epochs=1, verbose=0)
    assert model.history is h2 and h2 is not h1
    assert len(h2.history["loss"]) == 1
    assert len(h1.history["loss"]) == 2


def test_callbacks_can_change_learning_rate():
    x, y = _data(20)
    model = _model(lr=0.01)
    rates = []

    def on_epoch_begin(epoch, logs):
        model.optimizer.learning_rate = 0.0 if epoch >= 1 else 0.01
        rates.append(model.optimizer.learning_rate)

    snaps = []
    cb = cbs.LambdaCallback(on_epoch_begin=on_epoch_begin,
                            on_epoch_end=lambda e, l: snaps.append(model.get_weights()))
    model.fit(x, y, epochs=3, callbacks=[cb], verbose=0)
    assert rates == [pytest.approx(0.01), 0.0, 0.0]
    for a, b in zip(snaps[1], snaps[2]):
        np.testing.assert_array_equal(a, b)
