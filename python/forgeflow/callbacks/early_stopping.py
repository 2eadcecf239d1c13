"""EarlyStopping: stop training when a monitored metric has stopped improving."""

from .callback import Callback
from .monitor import monitor_value, resolve_mode

__all__ = ["EarlyStopping"]


class EarlyStopping(Callback):
    """Stop training when a monitored metric has stopped improving (Keras 3
    semantics).

    Args:
        monitor: logs key to watch (default ``"val_loss"``).
        min_delta: smallest change counted as an improvement (sign ignored).
        patience: epochs without improvement before stopping.
        verbose: 1 prints when stopping / restoring.
        mode: "min", "max" or "auto" ("max" when the name ends with "acc",
            "accuracy" or "auc", else "min").
        baseline: training stops if the metric does not beat it within
            ``patience`` epochs.
        restore_best_weights: at the end of training, restore the weights of
            the best epoch (via ``model.get_weights()/set_weights()``).
        start_from_epoch: epochs of warm-up during which nothing is monitored.
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        super().__init__()
        self.monitor = monitor
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.wait = 0
        self.stopped_epoch = 0
        self.restore_best_weights = restore_best_weights
        self.best_weights = None
        self.best_epoch = 0
        self.start_from_epoch = start_from_epoch

        self.mode, self._maximize = resolve_mode("EarlyStopping", monitor, mode)
        if not self._maximize:
            self.min_delta *= -1
        self.best = self._initial_best()

    def _initial_best(self):
        return -float("inf") if self._maximize else float("inf")

    def monitor_op(self, a, b):
        """True when ``a`` is better than ``b`` in the monitored direction (``mode``)."""
        return a > b if self._maximize else a < b

    def _is_improvement(self, monitor_value, reference_value):
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))

    def on_train_begin(self, logs=None):
        # Allow instances to be re-used.
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0
        self.best = self._initial_best()

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            # No monitored value, or still in the warm-up stage.
            return
        if self.restore_best_weights and self.best_weights is None:
            # Best weights never set: the current weights are the best so far.
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch

        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # Only restart the wait if we beat both the baseline and our best.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return

        if self.wait >= self.patience and epoch > 0:
            # Patience exceeded: stop training.
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        """The monitored quantity from an epoch's ``logs``; warns, naming the available keys,
        when it is missing."""
        return monitor_value("Early stopping", self.monitor, logs)
