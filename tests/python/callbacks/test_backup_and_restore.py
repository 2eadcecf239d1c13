"""BackupAndRestore: an interrupted fit, run again, resumes at the saved epoch and step, and on
the CPU its final weights are bit-identical to an uninterrupted run (shuffle order, dropout and
optimizer state included); the backup is deleted when a fit completes."""
import os

import numpy as np
import pytest

import forgeflow as ff


class Crash(Exception):
    pass


class CrashAt(ff.callbacks.Callback):
    """Raises after `step` batches in all (a crash in the middle of an epoch)."""

    def __init__(self, step):
        super().__init__()
        self.step, self.seen = step, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.step:
            raise Crash(f"crash after {self.step} batches")


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6)).astype(np.float32)
    return x, (x[:, :3].sum(axis=1) > 0).astype(np.int64)


def build():
    ff.utils.set_random_seed(123)
    model = ff.Sequential([ff.layers.Input(shape=(6,)), ff.layers.Dense(16, activation="relu"),
                           ff.layers.Dropout(0.3), ff.layers.Dense(2)])
    model.compile(optimizer="adam", metrics=["accuracy"],
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


@pytest.mark.parametrize("crash_step", [3, 11, 25])
def test_resume_after_a_crash_mid_epoch_is_bit_identical(tmp_path, crash_step):
    x, y = data()
    reference = build()
    reference.fit(x, y, batch_size=16, epochs=3, verbose=0)

    backup = ff.callbacks.BackupAndRestore(tmp_path / "backup", save_freq=1)
    first = build()
    with pytest.raises(Crash):
        first.fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[backup, CrashAt(crash_step)])
    assert os.path.exists(backup.backup_path)

    resumed = build()  # a new process would build the same model from the same script
    history = resumed.fit(x, y, batch_size=16, epochs=3, verbose=0,
                          callbacks=[ff.callbacks.BackupAndRestore(tmp_path / "backup", save_freq=1)])
    for a, b in zip(reference.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert resumed.optimizer.iterations == reference.optimizer.iterations == 39
    assert len(history.history["loss"]) == 3 - crash_step // 13
    assert not os.path.exists(backup.backup_path)  # deleted once the fit completed


def test_epoch_backups_resume_at_the_next_epoch(tmp_path):
    x, y = data()
    reference = build()
    reference.fit(x, y, batch_size=32, epochs=4, verbose=0)
    first = build()
    with pytest.raises(Crash):
        first.fit(x, y, batch_size=32, epochs=4, verbose=0,
                  callbacks=[ff.callbacks.BackupAndRestore(tmp_path), CrashAt(7 * 2 + 3)])
    resumed = build()
    epochs_run = []
    resumed.fit(x, y, batch_size=32, epochs=4, verbose=0,
                callbacks=[ff.callbacks.BackupAndRestore(tmp_path),
                           ff.callbacks.LambdaCallback(
                               on_epoch_begin=lambda epoch, logs: epochs_run.append(epoch))])
    assert epochs_run == [2, 3]
    for a, b in zip(reference.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_keep_the_backup_and_bad_arguments(tmp_path):
    x, y = data()
    model = build()
    cb = ff.callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[cb])
    assert os.path.exists(cb.backup_path)
    with pytest.raises(ValueError, match="save_freq"):
        ff.callbacks.BackupAndRestore(tmp_path, save_freq=0)
    with pytest.raises(ValueError, match="save_before_preemption"):
        ff.callbacks.BackupAndRestore(tmp_path, save_before_preemption=True)


@pytest.mark.parametrize("crash_step", [4, 14, 23])
def test_a_shuffled_dataset_fit_resumes_bit_identically(tmp_path, crash_step):
    x, y = data()

    def pipeline():  # the script builds its pipeline again in the new process
        return (ff.data.Dataset.from_tensor_slices((x, y)).shuffle(200, seed=4).batch(20)
                .prefetch(2))
    first = build()
    with pytest.raises(Crash):
        first.fit(pipeline(), epochs=3, verbose=0,
                  callbacks=[ff.callbacks.BackupAndRestore(tmp_path, save_freq=1),
                             CrashAt(crash_step)])
    resumed = build()
    resumed.fit(pipeline(), epochs=3, verbose=0,
                callbacks=[ff.callbacks.BackupAndRestore(tmp_path, save_freq=1)])
    reference = build()
    reference.fit(pipeline(), epochs=3, verbose=0)
    assert resumed.optimizer.iterations == 30
    for a, b in zip(reference.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_batch_backups_of_a_dataset_of_unknown_length(tmp_path):
    x, y = data()

    def pipeline():  # interleave makes the length unknown
        return ff.data.Dataset.from_tensor_slices((x, y)).batch(20).interleave(
            lambda a, b: ff.data.Dataset.from_tensor_slices((a, b)).batch(20), cycle_length=1)
    assert pipeline().cardinality() == ff.data.UNKNOWN_CARDINALITY
    first = build()
    with pytest.raises(Crash):
        first.fit(pipeline(), epochs=2, verbose=0,
                  callbacks=[ff.callbacks.BackupAndRestore(tmp_path, save_freq=3), CrashAt(13)])
    resumed = build()
    resumed.fit(pipeline(), epochs=2, verbose=0,
                callbacks=[ff.callbacks.BackupAndRestore(tmp_path, save_freq=3)])
    reference = build()
    reference.fit(pipeline(), epochs=2, verbose=0)
    for a, b in zip(reference.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
