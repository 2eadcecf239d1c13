"""LambdaCallback: a callback built from plain functions."""

from .callback import Callback

__all__ = ["LambdaCallback"]


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
