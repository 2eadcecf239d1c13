"""TerminateOnNaN: stop training at the batch where the loss becomes NaN or infinite.

It overrides ``on_train_batch_end``, so the training loop calls it after every batch (the
loss in batch logs is the running epoch mean, which turns NaN/Inf at the first bad batch)."""

import math

from .callback import Callback

__all__ = ["TerminateOnNaN"]


class TerminateOnNaN(Callback):
    """Sets ``model.stop_training`` when the loss is NaN or Inf; the loop stops after that
    batch, and the epoch is not completed. Prints ``Batch N: Invalid loss, terminating
    training`` as Keras does."""

    def __init__(self):
        super().__init__()
        self.stopped_batch = None

    def on_train_begin(self, logs=None):
        self.stopped_batch = None

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = logs.get("loss")
        if loss is None:
            return
        loss = float(loss)
        if math.isnan(loss) or math.isinf(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.stopped_batch = batch
            self.model.stop_training = True
