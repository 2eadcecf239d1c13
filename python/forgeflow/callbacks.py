"""Keras-compatible training callbacks (pure Python): Callback, CallbackList,
History, ProgbarLogger, EarlyStopping, LambdaCallback.

Batch hooks cost a Python call per step, so the training loop asks
``CallbackList.needs_train_batch_hooks`` (and the test/predict variants) whether
any callback really overrides them, and calls them only then. ``ProgbarLogger``
is marked ``_throttled_batch_hooks = True``: it is happy with occasional batch
calls (the loop may call it e.g. every ~0.05 s), so it does not count in the
``needs_*`` properties; ``has_progbar`` / ``progbar_wants_batches`` report it.
"""

import sys
import warnings

from .utils.progbar import Progbar

__all__ = [
    "Callback",
    "CallbackList",
    "History",
    "ProgbarLogger",
    "EarlyStopping",
    "LambdaCallback",
]


class Callback:
    """Base class for callbacks; every hook is a no-op.

    Attributes:
        model: the model being trained (set by ``set_model``).
        params: dict of training parameters (``verbose``, ``epochs``, ``steps``)
            set by ``set_params``.
    """

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    @model.setter
    def model(self, model):
        self._model = model

    # Backwards-compatible aliases (Keras): on_train_batch_* call these.
    def on_batch_begin(self, batch, logs=None):
        """Alias kept for Keras 2 code; called by ``on_train_batch_begin``."""

    def on_batch_end(self, batch, logs=None):
        """Alias kept for Keras 2 code; called by ``on_train_batch_end``."""

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass


_TRAIN_BATCH_HOOKS = (
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_batch_begin",
    "on_batch_end",
)
_TEST_BATCH_HOOKS = ("on_test_batch_begin", "on_test_batch_end")
_PREDICT_BATCH_HOOKS = ("on_predict_batch_begin", "on_predict_batch_end")


def overrides_hook(callback, name):
    """True if ``callback`` provides its own ``name`` hook: its class overrides
    the ``Callback`` default, or the instance has its own attribute (as
    ``LambdaCallback`` sets)."""
    if name in getattr(callback, "__dict__", {}):
        return True
    if not isinstance(callback, Callback):
        return callable(getattr(callback, name, None))
    return getattr(type(callback), name, None) is not getattr(Callback, name)


def _is_throttled(callback):
    return bool(getattr(callback, "_throttled_batch_hooks", False))


class CallbackList(Callback):
    """Holds callbacks and forwards every hook to each of them, in order.

    Args:
        callbacks: list of callbacks (nested lists/tuples are flattened).
        add_history: append a ``History`` unless one is already there.
        add_progbar: append a ``ProgbarLogger`` unless one is already there.
        model: if given, passed to every callback's ``set_model``.
        **params: if given, passed to every callback's ``set_params``.
    """

    def __init__(
        self,
        callbacks=None,
        add_history=False,
        add_progbar=False,
        model=None,
        **params,
    ):
        super().__init__()
        self.callbacks = _flatten(callbacks) if callbacks else []
        self._add_default_callbacks(add_history, add_progbar)
        if model is not None:
            self.set_model(model)
        self.set_params(params)

    def _add_default_callbacks(self, add_history, add_progbar):
        self._history = None
        self._progbar = None
        for cb in self.callbacks:
            if isinstance(cb, ProgbarLogger):
                self._progbar = cb
            elif isinstance(cb, History):
                self._history = cb
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)

    def append(self, callback):
        self.callbacks.append(callback)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    @property
    def history(self):
        """The ``History`` callback in the list, or None."""
        return self._history

    @property
    def progbar(self):
        """The ``ProgbarLogger`` in the list, or None."""
        return self._progbar

    def set_params(self, params):
        self.params = params
        if params:
            for cb in self.callbacks:
                cb.set_params(params)

    def set_model(self, model):
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for cb in self.callbacks:
            cb.set_model(model)

    # -------------------------------------------------- batch-hook detection
    def _needs(self, names):
        return any(
            overrides_hook(cb, n)
            for cb in self.callbacks
            if not _is_throttled(cb)
            for n in names
        )

    @property
    def needs_train_batch_hooks(self):
        """Some non-throttled callback overrides a train batch hook
        (``on_train_batch_begin/end`` or the ``on_batch_begin/end`` aliases)."""
        return self._needs(_TRAIN_BATCH_HOOKS)

    @property
    def needs_test_batch_hooks(self):
        return self._needs(_TEST_BATCH_HOOKS)

    @property
    def needs_predict_batch_hooks(self):
        return self._needs(_PREDICT_BATCH_HOOKS)

    @property
    def has_progbar(self):
        """Some callback accepts throttled batch calls (a ``ProgbarLogger``)."""
        return any(_is_throttled(cb) for cb in self.callbacks)

    @property
    def progbar_wants_batches(self):
        """A throttled callback would draw something on batch calls (a progress
        bar with verbose=1); with verbose 0 or 2 batch calls are useless."""
        for cb in self.callbacks:
            if _is_throttled(cb):
                if getattr(cb, "verbose", 1) == 1:
                    return True
        return False

    # ------------------------------------------------------------ forwarding
    def on_batch_begin(self, batch, logs=None):
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_batch_begin(batch, logs=logs)

    def on_batch_end(self, batch, logs=None):
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_batch_end(batch, logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_train_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_train_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_test_batch_begin(batch, logs=logs)

    def on_test_batch_end(self, batch, logs=None):
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_test_batch_end(batch, logs=logs)

    def on_predict_batch_begin(self, batch, logs=None):
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_predict_batch_begin(batch, logs=logs)

    def on_predict_batch_end(self, batch, logs=None):
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_predict_batch_end(batch, logs=logs)

    def on_train_begin(self, logs=None):
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_train_end(self, logs=None):
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_train_end(logs)

    def on_test_begin(self, logs=None):
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_test_begin(logs)

    def on_test_end(self, logs=None):
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_test_end(logs)

    def on_predict_begin(self, logs=None):
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_predict_begin(logs)

    def on_predict_end(self, logs=None):
        logs = logs if logs is not None else {}
        for cb in self.callbacks:
            cb.on_predict_end(logs)


def _flatten(callbacks):
    out = []
    for cb in callbacks:
        if isinstance(cb, (list, tuple)):
            out.extend(_flatten(cb))
        elif cb is not None:
            out.append(cb)
    return out


class History(Callback):
    """Records the epoch logs: ``history[name]`` is a list with one value per
    epoch, ``epoch`` the list of epoch indices. ``set_model`` sets
    ``model.history = self`` (``fit`` returns this object)."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def set_model(self, model):
        super().set_model(model)
        if model is not None:
            try:
                model.history = self
            except AttributeError:
                pass

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            try:
                self.model.history = self
            except AttributeError:
                pass


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

        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"EarlyStopping mode {mode} is unknown, fallback to auto mode.",
                stacklevel=2,
            )
            mode = "auto"
        self.mode = mode
        if mode == "min":
            self._maximize = False
        elif mode == "max":
            self._maximize = True
        else:
            self._maximize = monitor.endswith(("acc", "accuracy", "auc"))
        if not self._maximize:
            self.min_delta *= -1
        self.best = self._initial_best()

    def _initial_best(self):
        return -float("inf") if self._maximize else float("inf")

    def monitor_op(self, a, b):
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
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is "
                f"not available. Available metrics are: {','.join(list(logs.keys()))}",
                stacklevel=2,
            )
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            return value


class LambdaCallback(Callback):
    """Build a callback from plain functions, e.g.
    ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(logs))``.

    ``on_epoch_begin/end(epoch, logs)``, ``on_train_begin/end(logs)``,
    ``on_train_batch_begin/end(batch, logs)``; any other hook can be given by
    keyword (``on_test_batch_end=fn``). Only the hooks given count as
    overridden for ``CallbackList``'s batch-hook detection.
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        self.__dict__.update(kwargs)
        if on_epoch_begin is not None:
            self.on_epoch_begin = on_epoch_begin
        if on_epoch_end is not None:
            self.on_epoch_end = on_epoch_end
        if on_train_begin is not None:
            self.on_train_begin = on_train_begin
        if on_train_end is not None:
            self.on_train_end = on_train_end
        if on_train_batch_begin is not None:
            self.on_train_batch_begin = on_train_batch_begin
        if on_train_batch_end is not None:
            self.on_train_batch_end = on_train_batch_end
