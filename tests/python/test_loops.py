"""Tests for forgeflow._loops' captured-step bookkeeping: one capture per signature (batch size,
targets, mode), counted on every device (on the CPU, the captures a GPU would make), and fit's
one-time warning when a model's steps were captured more than a few times (TensorFlow's
retracing warning), naming the signatures."""
import warnings

import numpy as np
import pytest

import forgeflow as ff
from forgeflow import _loops

L = ff.layers


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(7)
    yield
    ff.utils.clear_session()


def _model():
    model = ff.Sequential([ff.Input((4,)), L.Dense(8, activation="relu"), L.Dense(3)])
    model.compile(optimizer="adam", loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _data(n=70):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 4)).astype(np.float32), (np.arange(n) % 3).astype(np.int64)


def _recapture_warnings(record):
    return [w for w in record if "captures of this model's training step" in str(w.message)]


def test_one_capture_per_signature_and_no_warning_for_a_plain_fit():
    x, y = _data()
    model = _model()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        # Batches 16, 16, 16, 16, 6: the 16 is captured in the first epoch, the 6 in the second.
        model.fit(x, y, batch_size=16, epochs=3, verbose=0)
        assert model._core.graph_captures == 2
        stats = model._core.graph_stats
        assert stats["eager_steps"] + stats["launches"] == 15
        # evaluate and predict have signatures of their own, captured once each however often
        # they run; fit's warning is about training steps only.
        for _ in range(3):
            model.evaluate(x, y, batch_size=10, verbose=0)
            model.evaluate(x, y, batch_size=7, verbose=0)
            model.predict(x, batch_size=5, verbose=0)
        model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    stats = model._core.graph_stats
    assert model._core.graph_captures == 5
    assert stats["train_captures"] == 2
    assert stats["signatures"] == [
        "train (batch of 16: input (16, 4) float32, target (16,) int64)",
        "train (batch of 6: input (6, 4) float32, target (6,) int64)",
        "evaluate (batch of 10: input (10, 4) float32, target (10,) int64)",
        "evaluate (batch of 7: input (7, 4) float32, target (7,) int64)",
        "predict (batch of 5: input (5, 4) float32)",
    ]
    assert stats["fallbacks"] == 0 and stats["last_error"] == ""
    assert not _recapture_warnings(record)


def test_fit_warns_once_naming_the_signatures_when_it_recaptures_often():
    x, y = _data(60)
    model = _model()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        # A new batch size per fit: each is a signature of its own (a larger one also
        # reallocates the buffers, dropping the graphs made before).
        for batch_size in (2, 3, 4, 5, 6, 10, 12):
            model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    assert model._core.graph_captures == 7
    assert model._core.graph_stats["train_captures"] == 7
    found = _recapture_warnings(record)
    assert len(found) == 1
    message = str(found[0].message)
    assert f"{_loops.RECAPTURE_WARNING_AFTER + 1} captures" in message
    assert "train (batch of 10: input (10, 4) float32, target (10,) int64)" in message
    assert found[0].filename == __file__
