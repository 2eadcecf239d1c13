"""The Callback base class (every hook a no-op) and the helpers that tell whether a
callback really overrides a batch hook.

Batch hooks cost a Python call per step, so the training loop asks
``CallbackList.needs_train_batch_hooks`` (and the test/predict variants) whether
any callback really overrides them, and calls them only then (``overrides_hook``).
A callback marked ``_throttled_batch_hooks = True`` (``ProgbarLogger``) is happy
with occasional batch calls and does not count (``is_throttled``).

Callbacks depend on a small model interface, never on forgeflow.models or forgeflow.saving:
``stop_training``, ``optimizer``, ``save(path)``, ``save_weights(path)``,
``get_weights()``/``set_weights()``, and for checkpointing ``_save_checkpoint(path,
training_position, track)``, ``_restore_checkpoint(path)``, ``_training_position`` (restored
with a checkpoint), ``_fit_position`` (where fit is: epoch, step offset, steps per epoch, shuffle
seed) and ``_resume_request`` (set to make fit resume at an epoch and step).
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
        """Called by ``fit``/``evaluate``/``predict`` with ``verbose``, ``epochs`` and ``steps``."""
        self.params = params

    def set_model(self, model):
        """Called with the model before training starts."""
        self._model = model

    @property
    def model(self):
        """The model this callback is attached to (None until ``set_model``)."""
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
        """Called at the start of epoch ``epoch`` (0-based) during ``fit``."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch; ``logs`` holds the epoch averages (``loss``, metrics, ``val_*``). Setting ``model.stop_training = True`` ends ``fit`` after this epoch."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called before each training batch; only when a callback overrides it (a Python call
        per step costs time)."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called after each training batch with the running averages in ``logs``; only when a
        callback overrides it."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called before each ``evaluate`` batch (and validation batch); only when overridden."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after each ``evaluate`` batch with the running averages in ``logs``; only when overridden."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before each ``predict`` batch; only when overridden."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after each ``predict`` batch; only when overridden."""

    def on_train_begin(self, logs=None):
        """Called once when ``fit`` starts."""

    def on_train_end(self, logs=None):
        """Called once when ``fit`` ends (also after an early stop)."""

    def on_test_begin(self, logs=None):
        """Called when ``evaluate`` (or a validation pass) starts."""

    def on_test_end(self, logs=None):
        """Called when ``evaluate`` (or a validation pass) ends, with its results in ``logs``."""

    def on_predict_begin(self, logs=None):
        """Called when ``predict`` starts."""

    def on_predict_end(self, logs=None):
        """Called when ``predict`` ends."""


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
