"""ReduceLROnPlateau (callbacks/reduce_lr_on_plateau.py) in real fits: Keras 3's patience,
cooldown, min_lr, min_delta and mode; logs["learning_rate"]; the reduced rate is used."""
import numpy as np
import pytest

import forgeflow as ff
from _callback_helpers import regression_data, regressor, scripted_metric


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(3)
    yield


def test_patience_cooldown_and_min_lr():
    # Worked by hand with Keras 3's rules: flat metric, patience 2, cooldown 1, factor 0.5:
    # reductions at epochs 2, 4, 6 (0.08 -> 0.04 -> 0.02 -> 0.01), then min_lr stops them.
    # logs["learning_rate"] is read before the epoch's reduction.
    x, y = regression_data()
    model = regressor(lr=0.08)
    rlr = ff.callbacks.ReduceLROnPlateau(monitor="score", mode="min", factor=0.5, patience=2,
                                         min_delta=0, cooldown=1, min_lr=0.01)
    history = model.fit(x, y, epochs=9, verbose=0,
                        callbacks=[scripted_metric("score", [1.0] * 9), rlr])
    assert history.history["learning_rate"] == [
        pytest.approx(v, rel=1e-6) for v in (0.08, 0.08, 0.08, 0.04, 0.04, 0.02, 0.02, 0.01, 0.01)]
    assert model.optimizer.learning_rate == pytest.approx(0.01, rel=1e-6)


def test_improvements_reset_the_wait_and_min_delta_counts(capsys):
    x, y = regression_data()
    model = regressor(lr=0.1)
    # improvements of 0.05 < min_delta 0.1 do not count: reduce after 2 such epochs
    rlr = ff.callbacks.ReduceLROnPlateau(monitor="score", factor=0.1, patience=2, min_delta=0.1,
                                         verbose=1)
    history = model.fit(x, y, epochs=5, verbose=0,
                        callbacks=[scripted_metric("score", [1.0, 0.95, 0.9, 0.5, 0.45]), rlr])
    assert history.history["learning_rate"] == [
        pytest.approx(v, rel=1e-6) for v in (0.1, 0.1, 0.1, 0.01, 0.01)]
    assert "Epoch 3: ReduceLROnPlateau reducing learning rate to 0.01" in capsys.readouterr().out


def test_mode_auto_maximizes_accuracy_and_the_rate_is_used():
    x, y = regression_data()
    model = regressor(lr=0.05)
    rlr = ff.callbacks.ReduceLROnPlateau(monitor="val_accuracy", factor=0.0, patience=1)
    assert rlr._maximize
    snaps = []
    keep = ff.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: snaps.append(model.get_weights()))
    # accuracy falls at epoch 1 -> rate becomes 0 -> epoch 2 changes no weight
    model.fit(x, y, epochs=3, verbose=0,
              callbacks=[scripted_metric("val_accuracy", [0.5, 0.4, 0.3]), rlr, keep])
    assert model.optimizer.learning_rate == 0.0
    for a, b in zip(snaps[1], snaps[2]):
        np.testing.assert_array_equal(a, b)


def test_argument_checks_and_missing_metric():
    with pytest.raises(ValueError, match="factor >= 1.0"):
        ff.callbacks.ReduceLROnPlateau(factor=1.5)
    with pytest.warns(UserWarning, match="unknown, fallback to auto"):
        ff.callbacks.ReduceLROnPlateau(mode="up")
    x, y = regression_data()
    model = regressor()
    with pytest.warns(UserWarning, match="`val_loss` which is not available"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[ff.callbacks.ReduceLROnPlateau()])
