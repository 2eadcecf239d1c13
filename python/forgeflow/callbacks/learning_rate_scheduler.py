"""LearningRateScheduler: set the learning rate at the start of every epoch from
``schedule(epoch, lr)`` (or ``schedule(epoch)``), Keras 3 semantics."""

import inspect
import numbers

import numpy as np

from .callback import Callback
from .monitor import learning_rate_of

__all__ = ["LearningRateScheduler"]


def _takes_lr(schedule):
    """True if ``schedule`` accepts (epoch, lr), False if only (epoch), None if unknown."""
    try:
        params = list(inspect.signature(schedule).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = [p for p in params
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind == p.VAR_POSITIONAL for p in params) or len(positional) >= 2:
        return True
    return False


class LearningRateScheduler(Callback):
    """Learning-rate scheduler called once per epoch.

    Args:
        schedule: function ``(epoch, lr) -> new lr`` (epoch is 0-based, lr the current rate),
            or ``(epoch) -> new lr``. It must return a float.
        verbose: 1 prints the new rate at each epoch.

    Adds ``logs["learning_rate"]`` at each epoch end. An optimizer whose learning rate is a
    LearningRateSchedule cannot be changed: TypeError at the start of training (Keras raises
    the same TypeError at the first epoch).
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: `schedule` must be a function (epoch, lr) -> "
                            f"lr, received {schedule!r}")
        self.schedule = schedule
        self.verbose = verbose
        self._takes_lr = _takes_lr(schedule)

    def on_train_begin(self, logs=None):
        learning_rate_of("LearningRateScheduler", self.model)

    def on_epoch_begin(self, epoch, logs=None):
        lr = learning_rate_of("LearningRateScheduler", self.model)
        if self._takes_lr is None:
            try:  # Keras: try the (epoch, lr) form, fall back to (epoch)
                learning_rate = self.schedule(epoch, lr)
            except TypeError:
                learning_rate = self.schedule(epoch)
        elif self._takes_lr:
            learning_rate = self.schedule(epoch, lr)
        else:
            learning_rate = self.schedule(epoch)
        if isinstance(learning_rate, np.ndarray) and learning_rate.ndim == 0:
            learning_rate = learning_rate[()]
        if not isinstance(learning_rate, (float, np.floating)) or isinstance(learning_rate, bool):
            kind = ("an int; return a float (e.g. 1.0, not 1)"
                    if isinstance(learning_rate, numbers.Integral) else type(learning_rate).__name__)
            raise ValueError("The output of the `schedule` function should be a float. "
                             f"Got: {learning_rate!r} ({kind}) at epoch {epoch}.")
        self.model.optimizer.learning_rate = float(learning_rate)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = learning_rate_of("LearningRateScheduler", self.model,
                                                     settable=False)
