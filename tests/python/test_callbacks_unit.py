"""Unit tests for forgeflow.callbacks (no model or C++ core needed)."""

import io
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import load_module  # noqa: E402

cb = load_module("callbacks/__init__.py")
progbar = load_module("utils/progbar.py")
BAR = "\u2501" * 20


class FakeModel:
    """Weights are a list with one array holding the epoch at which they were set."""

    def __init__(self):
        self.stop_training = False
        self.weights = [np.zeros(3)]
        self.set_weights_calls = 0

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.set_weights_calls += 1
        self.weights = [w.copy() for w in weights]


def run_fit(callback, values, monitor="val_loss", model=None):
    """Drive the callback like fit would; epoch e's weights are full of e.
    Returns (number of epochs run, model)."""
    model = model or FakeModel()
    cbl = cb.CallbackList([callback], model=model, verbose=0, epochs=len(values), steps=1)
    cbl.on_train_begin()
    epochs_run = 0
    for epoch, v in enumerate(values):
        cbl.on_epoch_begin(epoch)
        model.weights = [np.full(3, float(epoch))]
        cbl.on_epoch_end(epoch, {"loss": 1.0, monitor: v})
        epochs_run += 1
        if model.stop_training:
            break
    cbl.on_train_end()
    return epochs_run, model


# ---------------------------------------------------------------- Callback base
def test_base_callback_hooks_are_noops_and_set_model_params():
    c = cb.Callback()
    assert c.model is None and c.params is None
    m = object()
    c.set_model(m)
    c.set_params({"epochs": 3})
    assert c.model is m and c.params == {"epochs": 3}
    for hook in ("on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
                 "on_predict_begin", "on_predict_end"):
        assert getattr(c, hook)() is None
        assert getattr(c, hook)(logs={"a": 1}) is None
    for hook in ("on_epoch_begin", "on_epoch_end", "on_train_batch_begin", "on_train_batch_end",
                 "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin",
                 "on_predict_batch_end"):
        assert getattr(c, hook)(0) is None


def test_on_batch_alias_is_called_by_train_batch_hooks():
    seen = []

    class Old(cb.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(batch)

    cbl = cb.CallbackList([Old()])
    assert cbl.needs_train_batch_hooks
    cbl.on_train_batch_end(4, {"loss": 1.0})
    assert seen == [4]


# ----------------------------------------------------------------- CallbackList
def test_callbacklist_override_detection():
    class TrainEnd(cb.Callback):
        def on_train_batch_end(self, batch, logs=None):
            pass

    class TestBegin(cb.Callback):
        def on_test_batch_begin(self, batch, logs=None):
            pass

    class PredictEnd(cb.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            pass

    class EpochOnly(cb.Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    class SubTrainEnd(TrainEnd):
        pass

    none = cb.CallbackList([EpochOnly(), cb.History(), cb.EarlyStopping()])
    assert not none.needs_train_batch_hooks
    assert not none.needs_test_batch_hooks
    assert not none.needs_predict_batch_hooks

    assert cb.CallbackList([TrainEnd()]).needs_train_batch_hooks
    assert not cb.CallbackList([TrainEnd()]).needs_test_batch_hooks
    assert cb.CallbackList([SubTrainEnd()]).needs_train_batch_hooks
    assert cb.CallbackList([TestBegin()]).needs_test_batch_hooks
    assert not cb.CallbackList([TestBegin()]).needs_train_batch_hooks
    assert cb.CallbackList([PredictEnd()]).needs_predict_batch_hooks
    assert not cb.CallbackList([PredictEnd()]).needs_train_batch_hooks


def test_progbar_is_throttled_and_reported_separately():
    cbl = cb.CallbackList(add_history=True, add_progbar=True, verbose=1, epochs=2, steps=10)
    assert any(isinstance(c, cb.ProgbarLogger) for c in cbl.callbacks)
    assert cb.ProgbarLogger._throttled_batch_hooks is True
    assert not cbl.needs_train_batch_hooks
    assert not cbl.needs_test_batch_hooks
    assert not cbl.needs_predict_batch_hooks
    assert cbl.has_progbar and cbl.progbar_wants_batches
    quiet = cb.CallbackList(add_progbar=True, verbose=2, epochs=1, steps=3)
    assert quiet.has_progbar and not quiet.progbar_wants_batches
    assert not cb.CallbackList([cb.History()]).has_progbar


def test_lambda_callback_only_given_hooks_count():
    lam = cb.LambdaCallback(on_epoch_end=lambda e, logs: None)
    assert not cb.CallbackList([lam]).needs_train_batch_hooks
    calls = []
    lam2 = cb.LambdaCallback(on_train_batch_end=lambda b, logs: calls.append((b, logs["loss"])))
    cbl = cb.CallbackList([lam2])
    assert cbl.needs_train_batch_hooks
    assert not cbl.needs_test_batch_hooks
    cbl.on_train_batch_end(2, {"loss": 0.5})
    assert calls == [(2, 0.5)]
    lam3 = cb.LambdaCallback(on_predict_batch_end=lambda b, logs: None)  # via **kwargs
    assert cb.CallbackList([lam3]).needs_predict_batch_hooks
    assert not cb.CallbackList([lam3]).needs_train_batch_hooks


def test_lambda_callback_hooks_called():
    log = []
    lam = cb.LambdaCallback(
        on_epoch_begin=lambda e, logs: log.append(("eb", e)),
        on_epoch_end=lambda e, logs: log.append(("ee", e, logs["loss"])),
        on_train_begin=lambda logs: log.append(("tb",)),
        on_train_end=lambda logs: log.append(("te",)),
        on_train_batch_begin=lambda b, logs: log.append(("bb", b)),
    )
    cbl = cb.CallbackList([lam])
    cbl.on_train_begin()
    cbl.on_epoch_begin(0)
    cbl.on_train_batch_begin(0)
    cbl.on_train_batch_end(0)  # not given: default no-op
    cbl.on_epoch_end(0, {"loss": 2.0})
    cbl.on_train_end()
    assert log == [("tb",), ("eb", 0), ("bb", 0), ("ee", 0, 2.0), ("te",)]


def test_callbacklist_forwards_all_hooks_in_order_and_sets_model_params():
    log = []

    class Rec(cb.Callback):
        def __init__(self, tag):
            super().__init__()
            self.tag = tag

        def __getattribute__(self, name):
            attr = object.__getattribute__(self, name)
            if name.startswith("on_"):
                def wrapped(*args, **kwargs):
                    log.append((object.__getattribute__(self, "tag"), name))
                    return attr(*args, **kwargs)
                return wrapped
            return attr

    a, b = Rec("a"), Rec("b")
    model = FakeModel()
    cbl = cb.CallbackList([a, [b]], add_history=True, model=model, verbose=1, epochs=2, steps=5)
    assert cbl.callbacks[:2] == [a, b] and isinstance(cbl.callbacks[2], cb.History)
    assert a.model is model and b.params == {"verbose": 1, "epochs": 2, "steps": 5}
    assert model.history is cbl.callbacks[2]
    hooks = [
        ("on_train_begin", ()), ("on_train_end", ()), ("on_epoch_begin", (0,)),
        ("on_epoch_end", (0,)), ("on_train_batch_begin", (0,)), ("on_train_batch_end", (0,)),
        ("on_test_begin", ()), ("on_test_end", ()), ("on_test_batch_begin", (0,)),
        ("on_test_batch_end", (0,)), ("on_predict_begin", ()), ("on_predict_end", ()),
        ("on_predict_batch_begin", (0,)), ("on_predict_batch_end", (0,)),
    ]
    for name, args in hooks:
        log.clear()
        getattr(cbl, name)(*args)
        assert [x for x in log if x[1] == name] == [("a", name), ("b", name)], name


def test_existing_history_and_progbar_not_duplicated():
    h, p = cb.History(), cb.ProgbarLogger()
    cbl = cb.CallbackList([p, h], add_history=True, add_progbar=True)
    assert cbl.callbacks == [p, h]
    assert cbl.history is h and cbl.progbar is p


# ---------------------------------------------------------------------- History
def test_history_records_epochs():
    model = FakeModel()
    h = cb.History()
    cbl = cb.CallbackList([h], model=model)
    assert model.history is h
    cbl.on_train_begin()
    cbl.on_epoch_end(0, {"loss": 1.0, "val_loss": 2.0})
    cbl.on_epoch_end(1, {"loss": 0.5, "val_loss": 1.5})
    assert h.history == {"loss": [1.0, 0.5], "val_loss": [2.0, 1.5]}
    assert h.epoch == [0, 1]


# ---------------------------------------------------------------- ProgbarLogger
def test_progbar_logger_fit_output(monkeypatch):
    t = [100.0]
    monkeypatch.setattr(progbar, "_clock", lambda: t[0])
    out = io.StringIO()
    logger = cb.ProgbarLogger(file=out, dynamic=False)
    cbl = cb.CallbackList([logger], add_history=True, verbose=1, epochs=2, steps=4)
    cbl.on_train_begin()
    for epoch in range(2):
        cbl.on_epoch_begin(epoch)
        for b in range(4):
            cbl.on_train_batch_begin(b)
            t[0] += 0.01
            cbl.on_train_batch_end(b, {"loss": 1.0 / (b + 1), "accuracy": 0.5})
        # validation inside fit is silent
        cbl.on_test_begin()
        cbl.on_test_batch_end(0, {"loss": 9.0})
        cbl.on_test_end({"loss": 9.0})
        cbl.on_epoch_end(epoch, {"loss": 0.25, "accuracy": 0.75, "val_loss": 0.5, "val_accuracy": 0.6})
    cbl.on_train_end()
    line = f"4/4 {BAR} 0s 10ms/step - accuracy: 0.7500 - loss: 0.2500 - val_accuracy: 0.6000 - val_loss: 0.5000\n"
    assert out.getvalue() == "Epoch 1/2\n" + line + "Epoch 2/2\n" + line


def test_progbar_logger_single_epoch_no_header_and_verbose_modes(monkeypatch):
    t = [0.0]
    monkeypatch.setattr(progbar, "_clock", lambda: t[0])
    for verbose, expected in [
        # batch updates seen: the first step is left out of the estimate
        (1, f"2/2 {BAR} 1s 1s/step - loss: 0.1000\n"),
        ("auto", f"2/2 {BAR} 1s 1s/step - loss: 0.1000\n"),
        # verbose=2 ignores batch updates: elapsed / steps
        (2, "2/2 - 1s - 500ms/step - loss: 0.1000\n"),
        (0, ""),
    ]:
        out = io.StringIO()
        cbl = cb.CallbackList([cb.ProgbarLogger(file=out, dynamic=False)], verbose=verbose, epochs=1, steps=2)
        cbl.on_train_begin()
        cbl.on_epoch_begin(0)
        cbl.on_train_batch_end(0, {"loss": 0.2})
        t[0] += 1.0
        cbl.on_train_batch_end(1, {"loss": 0.1})
        cbl.on_epoch_end(0, {"loss": 0.1})
        cbl.on_train_end()
        assert out.getvalue() == expected, verbose


def test_progbar_logger_dynamic_uses_carriage_returns(monkeypatch):
    t = [0.0]
    monkeypatch.setattr(progbar, "_clock", lambda: t[0])
    out = io.StringIO()
    cbl = cb.CallbackList([cb.ProgbarLogger(file=out, dynamic=True)], verbose=1, epochs=3, steps=2)
    cbl.on_train_begin()
    cbl.on_epoch_begin(0)
    t[0] += 0.1
    cbl.on_train_batch_end(0, {"loss": 0.2})
    t[0] += 0.1
    cbl.on_train_batch_end(1, {"loss": 0.1})
    cbl.on_epoch_end(0, {"loss": 0.1})
    text = out.getvalue()
    assert text.startswith("Epoch 1/3\n\r1/2 ")
    assert text.endswith(f"\r2/2 {BAR} 0s 100ms/step - loss: 0.1000\n")
    assert "\b" not in text and text.count("\n") == 2


def test_progbar_logger_standalone_evaluate_and_predict(monkeypatch):
    t = [0.0]
    monkeypatch.setattr(progbar, "_clock", lambda: t[0])
    out = io.StringIO()
    cbl = cb.CallbackList([cb.ProgbarLogger(file=out, dynamic=False)], verbose=1, epochs=1, steps=3)
    cbl.on_test_begin()
    for b in range(3):
        t[0] += 0.002
        cbl.on_test_batch_end(b, {"loss": 0.3})
    cbl.on_test_end({"loss": 0.3, "accuracy": 0.9})
    assert out.getvalue() == f"3/3 {BAR} 0s 2ms/step - accuracy: 0.9000 - loss: 0.3000\n"

    out2 = io.StringIO()
    cbl = cb.CallbackList([cb.ProgbarLogger(file=out2, dynamic=False)], verbose=1, epochs=1, steps=None)
    cbl.on_predict_begin()
    for b in range(5):
        t[0] += 0.001
        cbl.on_predict_batch_end(b, {"outputs": np.zeros(2)})
    cbl.on_predict_end()
    assert out2.getvalue() == f"5/5 {BAR} 0s 1ms/step\n"


# ---------------------------------------------------------------- EarlyStopping
def test_early_stopping_patience_min_mode():
    es = cb.EarlyStopping(monitor="val_loss", patience=2)
    n, model = run_fit(es, [1.0, 0.8, 0.9, 0.85, 0.7, 0.6])
    # best at epoch 1; epochs 2 and 3 do not improve -> stop after epoch 3
    assert n == 4 and model.stop_training
    assert es.stopped_epoch == 3 and es.best == 0.8 and es.best_epoch == 1 and es.wait == 2


def test_early_stopping_patience_zero_stops_at_first_non_improvement():
    es = cb.EarlyStopping(monitor="loss", patience=0)
    n, _ = run_fit(es, [1.0, 0.9, 0.95, 0.5], monitor="loss")
    assert n == 3 and es.stopped_epoch == 2


def test_early_stopping_min_delta():
    es = cb.EarlyStopping(monitor="val_loss", min_delta=0.1, patience=2)
    # 0.95 and 0.91 are improvements smaller than 0.1 -> not improvements
    n, _ = run_fit(es, [1.0, 0.95, 0.91, 0.5])
    assert n == 3 and es.stopped_epoch == 2 and es.best == 1.0
    # improvements larger than min_delta (compared with the best so far) reset the wait
    es = cb.EarlyStopping(monitor="val_loss", min_delta=0.1, patience=2)
    n, _ = run_fit(es, [1.0, 0.85, 0.8, 0.74, 0.6, 0.55, 0.55])
    assert n == 7 and es.best == 0.6 and es.stopped_epoch == 6
    es = cb.EarlyStopping(monitor="val_loss", min_delta=-0.1, patience=2)  # sign ignored
    assert es.min_delta == -0.1  # stored negated for 'min' mode, as Keras does
    n, _ = run_fit(es, [1.0, 0.95, 0.91, 0.5])
    assert n == 3
    es = cb.EarlyStopping(monitor="accuracy", min_delta=0.05, patience=1)
    assert es.min_delta == 0.05
    n, _ = run_fit(es, [0.5, 0.6, 0.62], monitor="accuracy")
    assert n == 3 and es.best == 0.6 and es.stopped_epoch == 2


def test_early_stopping_mode_auto_and_max():
    assert cb.EarlyStopping(monitor="val_accuracy")._maximize
    assert cb.EarlyStopping(monitor="acc")._maximize
    assert cb.EarlyStopping(monitor="val_auc")._maximize
    assert not cb.EarlyStopping(monitor="val_loss")._maximize
    assert not cb.EarlyStopping(monitor="mae")._maximize
    # as in Keras, patience=1 behaves like 0: the wait is counted before the check
    es = cb.EarlyStopping(monitor="val_accuracy", patience=1)
    n, _ = run_fit(es, [0.5, 0.6, 0.55, 0.58, 0.9], monitor="val_accuracy")
    assert n == 3 and es.best == 0.6
    es = cb.EarlyStopping(monitor="val_accuracy", patience=3)
    n, _ = run_fit(es, [0.5, 0.6, 0.55, 0.58, 0.59, 0.9], monitor="val_accuracy")
    assert n == 5 and es.stopped_epoch == 4
    es = cb.EarlyStopping(monitor="score", mode="max", patience=0)
    n, _ = run_fit(es, [1.0, 2.0, 1.5], monitor="score")
    assert n == 3 and es.best == 2.0
    es = cb.EarlyStopping(monitor="val_accuracy", mode="min", patience=0)
    n, _ = run_fit(es, [0.5, 0.6], monitor="val_accuracy")
    assert n == 2 and es.stopped_epoch == 1
    with pytest.warns(UserWarning, match="unknown, fallback to auto"):
        assert cb.EarlyStopping(mode="sideways").mode == "auto"


def test_early_stopping_restore_best_weights(capsys):
    es = cb.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True, verbose=1)
    n, model = run_fit(es, [1.0, 0.5, 0.7, 0.6, 0.1])
    assert n == 4
    assert model.set_weights_calls == 1
    np.testing.assert_array_equal(model.weights[0], np.full(3, 1.0))  # epoch 1's weights
    assert capsys.readouterr().out == (
        "Epoch 4: early stopping\n"
        "Restoring model weights from the end of the best epoch: 2.\n"
    )


def test_early_stopping_restore_when_not_stopped_and_silent(capsys):
    es = cb.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    n, model = run_fit(es, [1.0, 0.2, 0.7])
    assert n == 3 and not model.stop_training and es.stopped_epoch == 0
    np.testing.assert_array_equal(model.weights[0], np.full(3, 1.0))
    assert capsys.readouterr().out == ""


def test_early_stopping_no_restore_keeps_last_weights():
    es = cb.EarlyStopping(monitor="val_loss", patience=2)
    n, model = run_fit(es, [1.0, 2.0, 3.0, 0.1])
    assert n == 3 and model.set_weights_calls == 0
    np.testing.assert_array_equal(model.weights[0], np.full(3, 2.0))


def test_early_stopping_baseline():
    # Never beats the baseline: the wait is never reset, so after `patience`
    # epochs the first non-improving epoch stops training; the best is restored.
    es = cb.EarlyStopping(monitor="val_loss", patience=2, baseline=0.5, restore_best_weights=True)
    n, model = run_fit(es, [1.0, 1.1, 1.2, 0.1])
    assert n == 2 and es.stopped_epoch == 1
    np.testing.assert_array_equal(model.weights[0], np.full(3, 0.0))
    es = cb.EarlyStopping(monitor="val_loss", patience=2, baseline=0.5)
    n, _ = run_fit(es, [1.0, 0.9, 0.95, 0.97])
    assert n == 3 and es.stopped_epoch == 2 and es.wait == 3
    # Keras 3 quirk kept: an epoch that improves on the best returns before the
    # patience check, even if it does not beat the baseline.
    es = cb.EarlyStopping(monitor="val_loss", patience=1, baseline=0.5)
    n, _ = run_fit(es, [1.0, 0.9, 0.8, 0.7])
    assert n == 4 and es.stopped_epoch == 0
    # Beating the baseline resets the wait.
    es = cb.EarlyStopping(monitor="val_loss", patience=2, baseline=0.5)
    n, _ = run_fit(es, [0.4, 0.45, 0.3, 0.35, 0.36, 0.2])
    assert n == 5 and es.best == 0.3


def test_early_stopping_start_from_epoch():
    es = cb.EarlyStopping(monitor="val_loss", patience=0, start_from_epoch=2)
    n, _ = run_fit(es, [1.0, 2.0, 3.0, 4.0, 5.0])
    # epochs 0 and 1 are ignored; epoch 2 sets the best; epoch 3 is worse -> stop
    assert n == 4 and es.stopped_epoch == 3


def test_early_stopping_missing_metric_warns_and_continues():
    es = cb.EarlyStopping(monitor="val_loss", patience=0)
    model = FakeModel()
    es.set_model(model)
    es.on_train_begin()
    with pytest.warns(UserWarning) as rec:
        es.on_epoch_end(0, {"loss": 1.0, "accuracy": 0.5})
        es.on_epoch_end(1, {"loss": 2.0, "accuracy": 0.5})
    msg = str(rec[0].message)
    assert "val_loss" in msg and "loss,accuracy" in msg
    assert not model.stop_training


def test_early_stopping_reusable_across_fits():
    es = cb.EarlyStopping(monitor="val_loss", patience=0)
    run_fit(es, [1.0, 2.0])
    assert es.stopped_epoch == 1
    n, _ = run_fit(es, [5.0, 4.0, 3.0])
    assert n == 3 and es.stopped_epoch == 0 and es.best == 3.0


def test_early_stopping_accepts_numpy_scalars():
    es = cb.EarlyStopping(monitor="val_loss", patience=0)
    n, _ = run_fit(es, [np.float32(1.0), np.float64(0.5), np.array(0.7, dtype=np.float32)])
    assert n == 3 and es.stopped_epoch == 2


def test_warnings_not_raised_for_present_metric():
    es = cb.EarlyStopping(monitor="loss")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_fit(es, [1.0, 0.5], monitor="loss")
