"""ModelCheckpoint: Keras's filename formatting, save_best_only with mode and threshold,
save_weights_only, save_freq in batches (with the training position recorded), and that a
checkpoint loads into a model that continues training exactly."""
import os

import numpy as np
import pytest

import forgeflow as ff

L = ff.layers


def _data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5], [0.0]], "float32")).astype("float32")


def _model():
    model = ff.Sequential([ff.Input(shape=(4,)), L.Dense(8, activation="relu"), L.Dense(1)])
    model.compile(optimizer=ff.optimizers.SGD(learning_rate=0.05), loss="mse", metrics=["mae"])
    return model


def test_every_epoch_with_formatted_names(tmp_path):
    x, y = _data()
    pattern = str(tmp_path / "sub" / "ckpt-{epoch:02d}-{val_loss:.3f}.ff")
    cb = ff.callbacks.ModelCheckpoint(pattern)
    history = _model().fit(x, y, epochs=3, batch_size=8, validation_split=0.25, verbose=0,
                           callbacks=[cb]).history
    expected = sorted(f"ckpt-{e + 1:02d}-{v:.3f}.ff" for e, v in enumerate(history["val_loss"]))
    assert sorted(os.listdir(tmp_path / "sub")) == expected
    loaded = ff.models.load_model(tmp_path / "sub" / expected[-1])
    assert loaded._training_position == {"epoch": 3, "step": 0}


def test_save_best_only_keeps_the_best_model(tmp_path):
    x, y = _data()
    path = tmp_path / "best.ff"
    saved = []

    class Spy(ff.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            saved.append((os.path.getmtime(path) if path.exists() else None, logs["val_loss"]))

    model = _model()
    cb = ff.callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True, mode="min")
    history = model.fit(x, y, epochs=6, batch_size=8, validation_split=0.25, verbose=0,
                        callbacks=[cb, Spy()]).history
    best_epoch = int(np.argmin(history["val_loss"]))
    assert cb.best == min(history["val_loss"])
    loaded = ff.models.load_model(path)
    assert loaded._training_position["epoch"] == best_epoch + 1
    x_val, y_val = x[24:], y[24:]
    assert loaded.evaluate(x_val, y_val, verbose=0)[0] == pytest.approx(cb.best, rel=1e-6)


def test_initial_value_threshold_and_max_mode(tmp_path, capsys):
    x, y = _data()
    path = tmp_path / "never.ff"
    cb = ff.callbacks.ModelCheckpoint(path, monitor="val_mae", save_best_only=True,
                                      initial_value_threshold=0.0, verbose=1)
    _model().fit(x, y, epochs=2, validation_split=0.25, verbose=0, callbacks=[cb])
    assert not path.exists()  # nothing beats a mean absolute error of 0
    assert "val_mae did not improve from 0.00000" in capsys.readouterr().out
    cb = ff.callbacks.ModelCheckpoint(path, monitor="val_mae", save_best_only=True, mode="max")
    _model().fit(x, y, epochs=1, validation_split=0.25, verbose=0, callbacks=[cb])
    assert path.exists()


def test_missing_monitor_warns_and_skips(tmp_path):
    x, y = _data()
    cb = ff.callbacks.ModelCheckpoint(tmp_path / "m.ff", save_best_only=True)  # no val_loss
    with pytest.warns(UserWarning, match="val_loss available"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[cb])
    assert not (tmp_path / "m.ff").exists()


def test_save_weights_only(tmp_path):
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[ff.callbacks.ModelCheckpoint(tmp_path / "w-{epoch}.ff",
                                                      save_weights_only=True)])
    other = _model()
    other.load_weights(tmp_path / "w-2.ff")
    for a, b in zip(other.get_weights(), model.get_weights()):
        assert np.array_equal(a, b)
    with pytest.raises(ff.saving.ConfigError, match="weights only"):
        ff.models.load_model(tmp_path / "w-2.ff")


def test_save_freq_in_batches(tmp_path):
    x, y = _data(40)  # 5 batches of 8 per epoch
    cb = ff.callbacks.ModelCheckpoint(str(tmp_path / "b-{epoch}-{batch}.ff"), save_freq=3)
    _model().fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0, callbacks=[cb])
    # batches seen 3, 6, 9, 12, 15 -> (epoch, batch) = (1,3) (2,1) (2,4) (3,2) (3,5)
    assert sorted(n for n in os.listdir(tmp_path) if n.endswith(".ff")) == sorted(
        ["b-1-3.ff", "b-2-1.ff", "b-2-4.ff", "b-3-2.ff", "b-3-5.ff"])
    assert ff.models.load_model(tmp_path / "b-2-4.ff")._training_position == {"epoch": 1,
                                                                             "step": 4}


def test_epoch_saves_need_no_batch_hook():
    cb = ff.callbacks.ModelCheckpoint("x.ff")
    assert not ff.callbacks.overrides_hook(cb, "on_train_batch_end")
    assert ff.callbacks.overrides_hook(ff.callbacks.ModelCheckpoint("x.ff", save_freq=2),
                                       "on_train_batch_end")


def test_bad_arguments_and_format_keys(tmp_path):
    with pytest.raises(ValueError, match="save_freq"):
        ff.callbacks.ModelCheckpoint("x.ff", save_freq="batch")
    with pytest.raises(ValueError, match="save_freq"):
        ff.callbacks.ModelCheckpoint("x.ff", save_freq=0)
    x, y = _data()
    cb = ff.callbacks.ModelCheckpoint(str(tmp_path / "{nope}.ff"))
    with pytest.raises(KeyError, match="nope"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[cb])


def test_checkpoint_resumes_training_exactly(tmp_path):
    ff.utils.set_random_seed(6)
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0,
              callbacks=[ff.callbacks.ModelCheckpoint(tmp_path / "last.ff")])
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0).history
    resumed = ff.models.load_model(tmp_path / "last.ff")
    assert resumed.fit(x, y, epochs=2, batch_size=8, verbose=0).history == history
    for a, b in zip(resumed.get_weights(), model.get_weights()):
        assert np.array_equal(a, b)
