"""ReduceLROnPlateau: multiply the learning rate by ``factor`` when a monitored metric has
stopped improving for ``patience`` epochs (Keras 3 semantics)."""

import numpy as np

from .callback import Callback
from .monitor import learning_rate_of, monitor_value, resolve_mode

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(Callback):
    """Reduce the learning rate when a metric has stopped improving.

    Args:
        monitor: logs key to watch (default ``"val_loss"``).
        factor: new_lr = lr * factor; must be < 1.
        patience: epochs without improvement after which the rate is reduced.
        verbose: 1 prints a message on each reduction.
        mode: "min", "max" or "auto" (max for names ending in acc/accuracy/auc).
        min_delta: threshold for measuring a new optimum (to focus on significant changes).
        cooldown: epochs to wait after a reduction before resuming normal operation.
        min_lr: lower bound on the learning rate.

    Adds ``logs["learning_rate"]`` at each epoch end (so History records it), as Keras does.
    An optimizer whose learning rate is a schedule cannot be changed: TypeError at the start.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau got unexpected keyword arguments: {sorted(kwargs)}")
        self.monitor = monitor
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        self.factor = factor
        self.min_lr = min_lr
        self.min_delta = min_delta
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0
        self.best = 0
        self.mode, self._maximize = resolve_mode("ReduceLROnPlateau", monitor, mode)
        self._reset()

    def _reset(self):
        """Resets the wait and cooldown counters and the best value."""
        self.best = -np.inf if self._maximize else np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def monitor_op(self, a, b):
        """True when ``a`` improves on ``b`` by more than ``min_delta`` (direction from ``mode``)."""
        if self._maximize:
            return a > b + self.min_delta
        return a < b - self.min_delta

    def on_train_begin(self, logs=None):
        self._reset()
        learning_rate_of("ReduceLROnPlateau", self.model)  # fails early on a schedule

    def in_cooldown(self):
        """True during the ``cooldown`` epochs after a reduction."""
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = learning_rate_of("ReduceLROnPlateau", self.model, settable=False)
        current = monitor_value("Learning rate reduction", self.monitor, logs)
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = learning_rate_of("ReduceLROnPlateau", self.model)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                              f"to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
