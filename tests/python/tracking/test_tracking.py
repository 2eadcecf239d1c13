"""ff.tracking (python/forgeflow/tracking): every fit recorded in SQLite with its settings,
versions, data fingerprint, per-epoch metrics and artifacts; failed / interrupted statuses;
tracking off writes nothing; database options, schema version, WAL mode. (The autouse fixture
in tests/python/conftest.py points FORGEFLOW_TRACKING at a temporary file.)"""
import hashlib
import os
import platform
import sqlite3
import warnings

import numpy as np
import pytest

import forgeflow as ff


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(11)
    yield


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] - x[:, 2] > 0).astype(np.int64)


def _model():
    model = ff.Sequential([ff.layers.Dense(6, activation="relu", input_shape=(4,)),
                           ff.layers.Dense(2)])
    model.compile(ff.optimizers.Adam(learning_rate=0.01),
                  ff.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def test_a_fit_is_recorded_with_everything(_tracking_database, tmp_path):
    x, y = _data()
    model = _model()
    ckpt = tmp_path / "epoch1.ff"

    def at_epoch_end(epoch, logs):
        if epoch == 1:
            assert ff.tracking.log_artifact(ckpt, "checkpoint") is not None

    history = model.fit(x, y, batch_size=16, epochs=3, validation_split=0.25, verbose=0,
                        callbacks=[ff.callbacks.LambdaCallback(on_epoch_end=at_epoch_end)])
    assert os.path.exists(_tracking_database)
    runs = ff.tracking.list_runs()
    assert len(runs) == 1
    run = ff.tracking.get_run(runs[0]["id"])
    assert run["status"] == "finished" and run["error"] is None
    assert run["started_at"] <= run["ended_at"]
    assert run["forgeflow_version"] == ff.__version__
    assert run["python_version"] == platform.python_version()
    assert run["numpy_version"] == np.__version__
    assert run["device"] == "CPU" and run["pid"] == os.getpid()
    assert run["model_name"] == model.name and run["model_class"] == "Sequential"
    assert run["param_count"] == model.count_params() == 4 * 6 + 6 + 6 * 2 + 2
    layers = run["model_config"]["layers"]
    assert [layer["class_name"] for layer in layers if layer["class_name"] != "InputLayer"] == [
        "Dense", "Dense"]
    assert run["optimizer_config"]["name"] == "adam"
    assert run["optimizer_config"]["learning_rate"] == pytest.approx(0.01)
    assert run["loss_config"]["class_name"] == "SparseCategoricalCrossentropy"
    assert run["metrics"] == model.metrics_names
    assert run["batch_size"] == 16 and run["epochs"] == 3 and run["initial_epoch"] == 0
    assert run["steps_per_epoch"] == 3  # 36 training samples / 16
    assert [m["epoch"] for m in run["epoch_metrics"]] == [0, 1, 2]
    for name, values in history.history.items():
        assert [m[name] for m in run["epoch_metrics"]] == pytest.approx(values, rel=1e-12)
    assert [(a["kind"], a["path"]) for a in run["artifacts"]] == [("checkpoint", str(ckpt))]
    assert runs[0]["final_metrics"]["val_loss"] == pytest.approx(history.history["val_loss"][-1])
    assert runs[0]["epochs_completed"] == 3
    # after the fit, an artifact attaches to the model's last run (e.g. model.save)
    assert ff.tracking.log_artifact(tmp_path / "final.ff", "model", model=model) == run["id"]
    assert ff.tracking.log_artifact(tmp_path / "orphan.ff", "model") is None
    kinds = [a["kind"] for a in ff.tracking.get_run(run["id"])["artifacts"]]
    assert kinds == ["checkpoint", "model"]
    # an id prefix works when unique; an unknown id is a RunNotFoundError
    assert ff.tracking.get_run(run["id"][:-2])["id"] == run["id"]
    with pytest.raises(ff.tracking.RunNotFoundError, match="No run with id 'nope'"):
        ff.tracking.get_run("nope")


def test_data_fingerprint_identifies_the_data():
    x, y = _data()
    for _ in range(2):
        _model().fit(x, y, epochs=1, verbose=0)
    x2 = x.copy()
    x2[5, 1] += 1.0
    _model().fit(x2, y, epochs=1, verbose=0)
    _model().fit(x.astype(np.float64), y, epochs=1, verbose=0)
    newest_first = [r["data_fingerprint"] for r in ff.tracking.list_runs()]
    f64, changed, second, first = newest_first
    assert first == second and first.startswith("blake2b:")
    assert len({first, changed, f64}) == 3  # one changed value, or another dtype, differ
    # independent check of what is hashed: labels and shapes count too
    assert first != ff.tracking.fingerprint.data_fingerprint(x, y[::-1].copy())


def test_dataset_fingerprint_method_is_used():
    class Data:
        def _fingerprint(self):
            return "files:abc"

    assert ff.tracking.fingerprint.data_fingerprint(Data()) == "files:abc"
    assert ff.tracking.fingerprint.data_fingerprint(object()) == "unknown"


def test_failed_run_records_the_error():
    x, y = _data()

    def boom(epoch, logs):
        if epoch == 1:
            raise RuntimeError("boom at epoch 1")

    with pytest.raises(RuntimeError, match="boom"):
        _model().fit(x, y, epochs=4, verbose=0,
                     callbacks=[ff.callbacks.LambdaCallback(on_epoch_end=boom)])
    (run,) = ff.tracking.list_runs()
    assert run["status"] == "failed"
    assert run["error"] == "RuntimeError: boom at epoch 1"
    assert run["ended_at"] is not None
    assert [m["epoch"] for m in ff.tracking.get_run(run["id"])["epoch_metrics"]] == [0]


def test_error_raised_inside_the_core_loop_is_recorded():
    x, y = _data()
    y_bad = y.copy()
    y_bad[40] = 7  # out of range for 2 classes: rejected before training, not a run
    with pytest.raises(ValueError):
        _model().fit(x, y_bad, epochs=1, verbose=0)
    assert ff.tracking.list_runs() == []

    def fail_in_batch(batch, logs):
        if batch == 1:
            raise ValueError("bad batch")

    with pytest.raises(ValueError, match="bad batch"):
        _model().fit(x, y, batch_size=8, epochs=2, verbose=0,
                     callbacks=[ff.callbacks.LambdaCallback(on_train_batch_end=fail_in_batch)])
    (run,) = ff.tracking.list_runs()
    assert run["status"] == "failed" and "bad batch" in run["error"]


@pytest.mark.parametrize("where", ["epoch", "batch"])
def test_keyboard_interrupt_is_recorded_as_interrupted(where):
    x, y = _data()

    def stop(i, logs):
        if i == 1:
            raise KeyboardInterrupt

    hook = {"on_epoch_end" if where == "epoch" else "on_train_batch_end": stop}
    with pytest.raises(KeyboardInterrupt):
        _model().fit(x, y, batch_size=8, epochs=5, verbose=0,
                     callbacks=[ff.callbacks.LambdaCallback(**hook)])
    (run,) = ff.tracking.list_runs()
    assert run["status"] == "interrupted" and run["ended_at"] is not None


@pytest.mark.parametrize("value", ["off", "0", "OFF", "false"])
def test_tracking_off_writes_nothing(monkeypatch, tmp_path, value):
    monkeypatch.setenv("FORGEFLOW_TRACKING", value)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # a default location would be visible
    assert ff.tracking.get_database() is None
    x, y = _data()
    _model().fit(x, y, epochs=1, verbose=0)
    assert not (tmp_path / "home").exists()
    assert not (tmp_path / "forgeflow-runs.db").exists()  # the fixture's path, unused
    assert ff.tracking.list_runs() == []


def test_set_database_overrides_the_environment(_tracking_database, tmp_path):
    x, y = _data()
    other = tmp_path / "sub" / "other.db"
    ff.tracking.set_database(other)
    _model().fit(x, y, epochs=1, verbose=0)
    assert other.exists() and not os.path.exists(_tracking_database)
    ff.tracking.set_database(None)
    _model().fit(x, y, epochs=1, verbose=0)
    assert len(ff.tracking.list_runs(database=other)) == 1
    ff.tracking.set_database("default")  # back to FORGEFLOW_TRACKING
    _model().fit(x, y, epochs=1, verbose=0)
    assert len(ff.tracking.list_runs()) == 1 and os.path.exists(_tracking_database)


def test_default_location_is_home(monkeypatch, tmp_path):
    monkeypatch.delenv("FORGEFLOW_TRACKING")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert ff.tracking.get_database() == str(tmp_path / ".forgeflow" / "runs.db")


def test_schema_wal_and_newer_versions_refused(_tracking_database):
    x, y = _data()
    _model().fit(x, y, epochs=1, verbose=0)
    conn = sqlite3.connect(_tracking_database)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(
        ff.tracking.SCHEMA_VERSION)
    conn.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(ff.tracking.TrackingDatabaseError, match="newer forgeflow"):
        ff.tracking.list_runs()
    # training is never stopped by the record: it warns and goes on
    with pytest.warns(RuntimeWarning, match="Run tracking is off for this fit"):
        history = _model().fit(x, y, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_unusable_database_path_warns_and_trains(monkeypatch, tmp_path):
    folder = tmp_path / "a_folder"
    folder.mkdir()
    monkeypatch.setenv("FORGEFLOW_TRACKING", str(folder))  # a directory, not a file
    x, y = _data()
    with pytest.warns(RuntimeWarning, match="cannot be written"):
        history = _model().fit(x, y, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1


def test_callbacks_given_as_a_callback_list_stay_flat():
    x, y = _data()
    seen = []
    cb = ff.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(e))
    _model().fit(x, y, epochs=2, verbose=0, callbacks=ff.callbacks.CallbackList([cb]))
    assert seen == [0, 1] and len(ff.tracking.list_runs()) == 1


def test_model_save_and_checkpoints_are_recorded_as_artifacts(tmp_path):
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    model = ff.Sequential([ff.layers.Input(shape=(4,)), ff.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    ckpt = tmp_path / "ckpt-{epoch:02d}.ff"
    # BackupAndRestore's backups (rewritten every epoch, deleted at the end) are not artifacts.
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[ff.callbacks.ModelCheckpoint(str(ckpt), monitor="loss"),
                         ff.callbacks.BackupAndRestore(str(tmp_path / "backup"))])
    model.save(tmp_path / "final.ff")
    model.save_weights(tmp_path / "final.weights.ff")
    run = ff.tracking.get_run(ff.tracking.list_runs()[0]["id"])
    kinds = [(a["kind"], os.path.basename(a["path"])) for a in run["artifacts"]]
    assert kinds == [("checkpoint", "ckpt-01.ff"), ("checkpoint", "ckpt-02.ff"),
                     ("saved_model", "final.ff"), ("saved_weights", "final.weights.ff")]


def test_saving_after_switching_databases_attaches_nothing(_tracking_database, tmp_path):
    # the model's run is in the first database; the second has no run to attach the file to
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=1, verbose=0)
    other = tmp_path / "other.db"
    ff.tracking.set_database(other)
    _model().fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.ff")  # before: RunNotFoundError from model.save
    assert ff.tracking.get_run(ff.tracking.list_runs()[0]["id"])["artifacts"] == []
    assert ff.tracking.log_artifact(tmp_path / "m.ff", model=model) is None
    with pytest.raises(ff.tracking.RunNotFoundError):
        ff.tracking.log_artifact(tmp_path / "m.ff", run_id=model._tracking_run_id)
    first = ff.tracking.get_run(model._tracking_run_id, database=_tracking_database)
    assert first["artifacts"] == []
