"""ModelCheckpoint: save the model (or its weights) during fit, every epoch or every N batches,
optionally only when a monitored metric improves, to a path formatted with Keras's placeholders
(``"ckpt-{epoch:02d}-{val_loss:.2f}.ff"``). Each save is atomic (forgeflow.saving)."""

import os
import warnings

from ..distribute import _training as _distributed
from .callback import Callback
from .monitor import resolve_mode

__all__ = ["ModelCheckpoint"]


class ModelCheckpoint(Callback):
    """Saves the model during training (Keras 3 arguments and defaults).

    Args:
        filepath: where to save; may hold ``{epoch}``, ``{batch}`` (batch-level saves) and any
            logs key (``{val_loss:.2f}``), formatted with ``str.format`` (epoch counts from 1).
        monitor: logs key compared by ``save_best_only`` (default ``"val_loss"``).
        verbose: 1 prints a line for each save (or skipped save).
        save_best_only: save only when ``monitor`` improves on the best value so far (with a
            fixed filepath, the file always holds the best model).
        save_weights_only: ``model.save_weights`` instead of ``model.save``.
        mode: "auto", "min" or "max" ("auto": "max" for names ending in acc/accuracy/auc).
        save_freq: "epoch", or an integer N: save every N batches (counted across epochs).
        initial_value_threshold: the best value to beat at the start (save_best_only).

    A full save records the training position (epoch and step reached) in the file."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.mode, self._maximize = resolve_mode("ModelCheckpoint", monitor, mode)
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)
                                     or save_freq <= 0):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are "
                             "'epoch' or positive integer values")
        self.save_freq = save_freq
        self.initial_value_threshold = initial_value_threshold
        self.best = self._initial_best()
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        if save_freq != "epoch":
            # Only then does fit pay for a Python call per batch (see Callback.overrides_hook).
            self.on_train_batch_end = self._on_train_batch_end

    def _initial_best(self):
        if self.initial_value_threshold is not None:
            return float(self.initial_value_threshold)
        return -float("inf") if self._maximize else float("inf")

    def monitor_op(self, current, best):
        """True when ``current`` is better than ``best`` in the monitored direction (``mode``)."""
        return current > best if self._maximize else current < best

    def on_train_begin(self, logs=None):
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def _on_train_batch_end(self, batch, logs=None):
        Callback.on_train_batch_end(self, batch, logs)  # the on_batch_end alias
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _should_save_on_batch(self, batch):
        if batch <= self._last_batch_seen:  # a new epoch
            add_batches = batch + 1
        else:
            add_batches = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _save_model(self, epoch, batch, logs):
        logs = dict(logs or {})
        filepath = self._get_file_path(epoch, batch, logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available, "
                              "skipping.", stacklevel=2)
                return
            current = float(current)
            if not self.monitor_op(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                      f"{current:.5f}, saving model to {filepath}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
        if not _distributed.is_chief(self.model):
            return  # ff.distribute: worker 0 writes (every worker keeps `best` the same)
        directory = os.path.dirname(filepath)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            position = ({"epoch": epoch + 1, "step": 0} if batch is None
                        else {"epoch": epoch, "step": batch + 1})
            self.model._save_checkpoint(filepath, training_position=position)

    def _get_file_path(self, epoch, batch, logs):
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: {e}. Available keys: epoch"
                           + (", batch" if batch is not None else "")
                           + "".join(f", {k}" for k in logs)) from None
