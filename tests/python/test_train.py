"""ff.train.CheckpointManager: numbered atomic checkpoints, max_to_keep, latest_checkpoint,
numbering continued across managers, and restore() putting a custom loop back exactly where
it was (weights, optimizer state, dropout streams, seed sequence)."""
import os

import numpy as np
import pytest

import forgeflow as ff

L = ff.layers


def _model():
    model = ff.Sequential([ff.Input(shape=(4,)), L.Dense(8, activation="relu"), L.Dropout(0.25),
                           L.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def _batch(step):
    rng = np.random.default_rng(step)
    return rng.normal(size=(8, 4)).astype("float32"), rng.normal(size=(8, 1)).astype("float32")


def test_save_keeps_the_newest(tmp_path):
    manager = ff.train.CheckpointManager(_model(), tmp_path / "ckpts", max_to_keep=2)
    assert manager.latest_checkpoint is None and manager.checkpoints == []
    assert manager.restore() is None
    paths = [manager.save() for _ in range(4)]
    assert [os.path.basename(p) for p in paths] == ["ckpt-1.ff", "ckpt-2.ff", "ckpt-3.ff",
                                                    "ckpt-4.ff"]
    assert manager.checkpoints == paths[2:]
    assert manager.latest_checkpoint == paths[3]
    assert sorted(os.listdir(tmp_path / "ckpts")) == ["ckpt-3.ff", "ckpt-4.ff"]  # no temp files
    again = ff.train.CheckpointManager(_model(), tmp_path / "ckpts", max_to_keep=None,
                                       checkpoint_name="ckpt")
    assert os.path.basename(again.save()) == "ckpt-5.ff"  # numbering continues
    assert os.path.basename(again.save(checkpoint_number=42)) == "ckpt-42.ff"
    assert again.latest_checkpoint.endswith("ckpt-42.ff") and len(again.checkpoints) == 4


def test_restore_continues_a_custom_loop_exactly(tmp_path):
    ff.utils.set_random_seed(13)
    model = _model()
    manager = ff.train.CheckpointManager(model, tmp_path, max_to_keep=3)
    for step in range(5):
        model.train_on_batch(*_batch(step))
    saved = manager.save()
    for step in range(5, 9):
        model.train_on_batch(*_batch(step))
    expected = model.get_weights()
    expected_slots = model.optimizer._core.get_slots()

    # The program restarted: the same script (same seed, so the same layer seeds, which
    # restore() does not change), then restore() instead of the first 5 steps.
    ff.utils.set_random_seed(13)
    fresh = _model()
    ff._core.next_seed()  # the restarted program drew other seeds meanwhile: restore resets
    restarted = ff.train.CheckpointManager(fresh, tmp_path, max_to_keep=3)
    assert restarted.restore_or_initialize() == saved
    assert fresh.optimizer.iterations == 5
    for step in range(5, 9):
        fresh.train_on_batch(*_batch(step))
    for a, b in zip(fresh.get_weights(), expected):
        assert np.array_equal(a, b)
    for a, b in zip(fresh.optimizer._core.get_slots(), expected_slots):
        assert np.array_equal(a, b)


def test_restore_into_a_different_model_fails_cleanly(tmp_path):
    manager = ff.train.CheckpointManager(_model(), tmp_path, max_to_keep=1)
    path = manager.save()
    other = ff.Sequential([ff.Input(shape=(4,)), L.Dense(3), L.Dense(1)])
    before = other.get_weights()
    with pytest.raises(ff.saving.ConfigError):
        ff.train.CheckpointManager(other, tmp_path, max_to_keep=1).restore(path)
    for a, b in zip(other.get_weights(), before):
        assert np.array_equal(a, b)


def test_arguments_checked(tmp_path):
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="max_to_keep"):
            ff.train.CheckpointManager(_model(), tmp_path, max_to_keep=bad)
