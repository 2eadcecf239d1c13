"""The Callback base class (every hook a no-op) and the helpers that tell whether a
callback really overrides a batch hook.

Batch hooks cost a Python call per step, so the training loop asks
``CallbackList.needs_train_batch_hooks`` (and the test/predict variants) whether
any callback really overrides them, and calls them only then (``overrides_hook``).
A callback marked ``_throttled_batch_hooks = True`` (``ProgbarLogger``) is happy
with occasional batch calls and does not count (``is_throttled``).
"""

__all__ = ["Callback", "overrides_hook", "is_throttled",
           "TRAIN_BATCH_HOOKS", "TEST_BATCH_HOOKS", "PREDICT_BATCH_HOOKS"]


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


TRAIN_BATCH_HOOKS = (
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_batch_begin",
    "on_batch_end",
)
TEST_BATCH_HOOKS = ("on_test_batch_begin", "on_test_batch_end")
PREDICT_BATCH_HOOKS = ("on_predict_batch_begin", "on_predict_batch_end")


def overrides_hook(callback, name):
    """True if ``callback`` provides its own ``name`` hook: its class overrides
    the ``Callback`` default, or the instance has its own attribute (as
    ``LambdaCallback`` sets)."""
    if name in getattr(callback, "__dict__", {}):
        return True
    if not isinstance(callback, Callback):
        return callable(getattr(callback, name, None))
    return getattr(type(callback), name, None) is not getattr(Callback, name)


def is_throttled(callback):
    return bool(getattr(callback, "_throttled_batch_hooks", False))
