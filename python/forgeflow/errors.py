"""``ff.errors``: the exceptions of TensorFlow's ``tf.errors`` that forgeflow raises, with
TensorFlow's names and signatures, so that ``except tf.errors.ResourceExhaustedError`` code
ports by renaming the module.

The other errors keep Python's built-in types as Keras does: bad arguments are ``ValueError`` or
``TypeError``, check-numerics findings ``FloatingPointError``.
"""

__all__ = ["OpError", "ResourceExhaustedError", "UnavailableError", "DeadlineExceededError",
           "AbortedError", "RESOURCE_EXHAUSTED", "UNAVAILABLE", "DEADLINE_EXCEEDED", "ABORTED"]

# TensorFlow's error codes (tf.errors.RESOURCE_EXHAUSTED, ...).
RESOURCE_EXHAUSTED = 8
DEADLINE_EXCEEDED = 4
ABORTED = 10
UNAVAILABLE = 14


class OpError(Exception):
    """The base class of the errors a computation raises while it runs (TensorFlow's
    ``tf.errors.OpError``).

    Args:
        node_def: TensorFlow's failing node (forgeflow has none: None).
        op: the failing operation (forgeflow: None; the message names the layer).
        message: what went wrong.
        error_code: the error's code, e.g. ``RESOURCE_EXHAUSTED``.
    """

    def __init__(self, node_def, op, message, error_code, *args):
        super().__init__(message, *args)
        self._node_def = node_def
        self._op = op
        self._message = message
        self._error_code = error_code

    def __reduce__(self):
        return (self.__class__, (self._node_def, self._op, self._message) + self._extra_args())

    def _extra_args(self):
        return (self._error_code,)

    @property
    def message(self):
        """What went wrong (the layer, the sizes, what to do)."""
        return self._message

    @property
    def op(self):
        """The failing operation (None: forgeflow names the layer in the message)."""
        return self._op

    @property
    def node_def(self):
        """TensorFlow's failing node (None in forgeflow)."""
        return self._node_def

    @property
    def error_code(self):
        """The error's code (``ff.errors.RESOURCE_EXHAUSTED`` for ResourceExhaustedError)."""
        return self._error_code

    def __str__(self):
        return str(self._message)


class ResourceExhaustedError(OpError):
    """A device ran out of memory (TensorFlow's ``tf.errors.ResourceExhaustedError``).

    Raised when the buffers for a batch do not fit on the device (the GPU's memory, or the
    host's): the message names the buffer, its layer and the batch size. Nothing of the failed
    batch's buffers is kept and the model is unchanged, so the same model then trains, evaluates
    or predicts with a smaller ``batch_size``::

        try:
            model.fit(x, y, batch_size=8192)
        except ff.errors.ResourceExhaustedError:
            model.fit(x, y, batch_size=1024)
    """

    def __init__(self, node_def, op, message, *args):
        super().__init__(node_def, op, message, RESOURCE_EXHAUSTED, *args)

    def _extra_args(self):
        return ()


class _CodedError(OpError):
    """An OpError whose code is fixed by its class (TensorFlow's signature without the code)."""
    _code = None

    def __init__(self, node_def, op, message, *args):
        super().__init__(node_def, op, message, self._code, *args)

    def _extra_args(self):
        return ()


class UnavailableError(_CodedError):
    """A worker of a distributed run (``ff.distribute``) is gone: its process ended or was killed,
    so its connection closed (TensorFlow's ``tf.errors.UnavailableError``). The message names the
    worker and the operation; every other worker stops with it."""
    _code = UNAVAILABLE


class DeadlineExceededError(_CodedError):
    """A worker of a distributed run sent nothing within the timeout (it hangs, or is gone
    without its connection closing; TensorFlow's ``tf.errors.DeadlineExceededError``). The message
    names the worker; the timeout is ``ff.distribute.experimental.CommunicationOptions
    (timeout_seconds=...)`` or ``FORGEFLOW_DISTRIBUTE_TIMEOUT`` (default 300 s)."""
    _code = DEADLINE_EXCEEDED


class AbortedError(_CodedError):
    """The workers of a distributed run disagree (TensorFlow's ``tf.errors.AbortedError``): their
    weights diverged (the per-epoch check names the diverged worker), or they run different
    programs or models. Training stops on every worker."""
    _code = ABORTED
