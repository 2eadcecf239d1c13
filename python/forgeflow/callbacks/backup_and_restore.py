"""BackupAndRestore: a fit interrupted by a crash, a kill or Ctrl-C resumes, when the same script
runs again, at the epoch and step where its last backup was taken (Keras's callback, made exact).

The backup is one file, ``<backup_dir>/backup.ff``, written atomically by ``model.save``'s
writer: weights, optimizer state, step counters, the seed sequence and the training position
(epoch, step, and the fit's shuffle seed) together, so they can never disagree. On the CPU the
resumed run's final weights are bit-identical to an uninterrupted run's (shuffle order, dropout
masks and optimizer state included), for arrays and for ff.data pipelines that the script builds
again the same way (fit replays the pass count, so seeded shuffles and maps draw as before). A
fit with steps_per_epoch over one long-lived dataset iterator resumes at the saved epoch and
step, but its pipeline's position is not replayed.

In a distributed fit (ff.distribute) worker 0 writes and deletes the backup and every worker
restores from it, so ``backup_dir`` must be a folder all the workers see (a shared file system);
fit stops with an error when the workers would resume at different places.
"""
import os

from ..distribute import _training as _distributed
from .callback import Callback

__all__ = ["BackupAndRestore"]

_BACKUP_NAME = "backup.ff"


class BackupAndRestore(Callback):
    """Backs up the training state to ``<backup_dir>/backup.ff``; a fit that was interrupted
    resumes, when the script runs again, at the epoch and step of its last backup.

    Args:
        backup_dir: folder for the backup file (created if missing); use one per training job.
        save_freq: "epoch" (after every epoch) or an integer N: after every N batches.
        delete_checkpoint: delete the backup when the fit completes (Keras's default), so the
            next run starts from scratch.
        save_before_preemption: accepted for Keras compatibility; only False is supported (it
            is a TPU-preemption feature).
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True,
                 save_before_preemption=False):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: backup_dir must be a non-empty path")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)
                                     or save_freq < 1):
            raise ValueError("BackupAndRestore: save_freq must be 'epoch' or a positive integer "
                             f"(a number of batches), received {save_freq!r}")
        if save_before_preemption:
            raise ValueError("BackupAndRestore: save_before_preemption=True (a TPU-preemption "
                             "feature) is not supported")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self._path = os.path.join(self.backup_dir, _BACKUP_NAME)
        self._batches_since_save = 0
        if save_freq != "epoch":
            # Only then does fit pay for a Python call per batch (see Callback.overrides_hook).
            self.on_train_batch_end = self._on_train_batch_end

    @property
    def backup_path(self):
        """The path of the backup file inside ``backup_dir``."""
        return self._path

    def on_train_begin(self, logs=None):
        os.makedirs(self.backup_dir, exist_ok=True)
        self._batches_since_save = 0
        if not os.path.exists(self._path):
            return
        self.model._restore_checkpoint(self._path)
        position = self.model._training_position or {}
        if "epoch" in position:
            self.model._resume_request = {"epoch": int(position["epoch"]),
                                          "step": int(position.get("step", 0)),
                                          "shuffle_seed": position.get("shuffle_seed")}

    def _save(self, epoch, step):
        state = getattr(self.model, "_fit_position", None) or {}
        steps_in_epoch = state.get("steps_in_epoch")  # None for a dataset of unknown length
        if step and steps_in_epoch and step >= steps_in_epoch:
            epoch, step = epoch + 1, 0  # the epoch is complete
        position = {"epoch": epoch, "step": step, "shuffle_seed": state.get("shuffle_seed")}
        if not _distributed.is_chief(self.model):
            return  # ff.distribute: worker 0 writes the backup
        # Not a run artifact: the backup is overwritten as the fit goes on and deleted at its end.
        self.model._save_checkpoint(self._path, training_position=position, track=False)

    def _on_train_batch_end(self, batch, logs=None):
        Callback.on_train_batch_end(self, batch, logs)
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            state = self.model._fit_position
            self._save(state["epoch"], state["step_offset"] + batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch + 1, 0)

    def on_train_end(self, logs=None):
        if not _distributed.is_chief(self.model):
            return
        if self.delete_checkpoint and os.path.exists(self._path):
            os.remove(self._path)
