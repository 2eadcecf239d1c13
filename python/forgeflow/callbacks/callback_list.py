"""CallbackList: holds the callbacks of one fit/evaluate/predict call, adds the
default History and ProgbarLogger, forwards every hook, and reports which batch
hooks are really needed (``needs_*_batch_hooks``) so the C++ loop calls Python per
batch only when some callback overrides a batch hook.
"""

from .callback import (
    PREDICT_BATCH_HOOKS,
    TEST_BATCH_HOOKS,
    TRAIN_BATCH_HOOKS,
    Callback,
    is_throttled,
    overrides_hook,
)
from .history import History
from .progbar_logger import ProgbarLogger

__all__ = ["CallbackList"]


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
        """Adds ``callback`` at the end of the list."""
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
            if not is_throttled(cb)
            for n in names
        )

    @property
    def needs_train_batch_hooks(self):
        """Some non-throttled callback overrides a train batch hook
        (``on_train_batch_begin/end`` or the ``on_batch_begin/end`` aliases)."""
        return self._needs(TRAIN_BATCH_HOOKS)

    @property
    def needs_test_batch_hooks(self):
        """Some non-throttled callback overrides ``on_test_batch_begin/end``."""
        return self._needs(TEST_BATCH_HOOKS)

    @property
    def needs_predict_batch_hooks(self):
        """Some non-throttled callback overrides ``on_predict_batch_begin/end``."""
        return self._needs(PREDICT_BATCH_HOOKS)

    @property
    def has_progbar(self):
        """Some callback accepts throttled batch calls (a ``ProgbarLogger``)."""
        return any(is_throttled(cb) for cb in self.callbacks)

    @property
    def progbar_wants_batches(self):
        """A throttled callback would draw something on batch calls (a progress
        bar with verbose=1); with verbose 0 or 2 batch calls are useless."""
        for cb in self.callbacks:
            if is_throttled(cb):
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
