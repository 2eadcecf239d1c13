"""ProgbarLogger: the Keras 3 progress bar for fit / evaluate / predict."""

import sys

from ..utils.progbar import Progbar
from .callback import Callback

__all__ = ["ProgbarLogger"]


class ProgbarLogger(Callback):
    """Prints the Keras 3 progress bar for fit / evaluate / predict.

    Reads ``params["verbose"]`` (0, 1, 2 or "auto"), ``params["epochs"]`` and
    ``params["steps"]`` (steps per epoch, or per evaluate/predict run; None if
    unknown). ``Epoch i/N`` is printed only when epochs > 1. Batch logs are
    expected to be running epoch averages; epoch logs (including ``val_*``)
    finalize the line. During ``fit`` the validation run is silent.

    Args:
        file: stream for the output (None: ``sys.stdout`` at write time).
        dynamic: force in-place redraws on/off (None: auto-detect).
    """

    # Batch hooks may be called throttled (not every step) by the engine.
    _throttled_batch_hooks = True

    def __init__(self, file=None, dynamic=None):
        super().__init__()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self.file = file
        self.dynamic = dynamic
        self._called_in_fit = False

    def set_params(self, params):
        super().set_params(params)
        params = params or {}
        verbose = params.get("verbose", 1)
        if verbose == "auto":
            verbose = 1
        self.verbose = verbose
        self.epochs = params.get("epochs", 1) or 1
        self.target = params.get("steps")

    def _print(self, text):
        stream = self.file if self.file is not None else sys.stdout
        stream.write(text + "\n")
        try:
            stream.flush()
        except Exception:
            pass

    def on_train_begin(self, logs=None):
        # When this logger is used inside fit, validation is silent.
        self._called_in_fit = True

    def on_train_end(self, logs=None):
        self._called_in_fit = False

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()
            self._maybe_init_progbar()

    def on_predict_begin(self, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()
        if self.verbose and self.epochs > 1:
            self._print(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._update_progbar(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        # Prediction outputs are not metrics: don't display them.
        self._update_progbar(batch, None)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs=None):
        self._finalize_progbar(None)

    def _reset_progbar(self):
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self):
        if self.progbar is None:
            self.progbar = Progbar(
                target=self.target,
                verbose=self.verbose,
                unit_name="step",
                file=self.file,
                dynamic=self.dynamic,
            )

    def _update_progbar(self, batch, logs=None):
        logs = logs or {}
        self._maybe_init_progbar()
        self.seen = batch + 1  # one-indexed
        if self.verbose == 1:
            self.progbar.update(self.seen, list(logs.items()), finalize=False)

    def _finalize_progbar(self, logs):
        logs = logs or {}
        self._maybe_init_progbar()
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.target
        self.progbar.update(self.target, list(logs.items()), finalize=True)
