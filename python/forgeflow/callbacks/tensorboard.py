"""TensorBoard: write the epoch logs (and, with update_freq=N, batch logs) as TensorBoard
event files, Keras 3 layout: training scalars in ``log_dir/train``, validation scalars in
``log_dir/validation``, named ``epoch_<metric>`` (``epoch_loss``, ``epoch_accuracy``,
``epoch_learning_rate``...) with the epoch as step; batch scalars ``batch_<metric>`` with the
global batch index as step. ``tensorboard --logdir logs`` shows them."""

import numbers
import os
import time

from .callback import Callback
from .tensorboard_events import EventFileWriter

__all__ = ["TensorBoard"]


class TensorBoard(Callback):
    """Args (Keras 3 names and defaults):
        log_dir: where to write the event files.
        histogram_freq, write_images, embeddings_freq, embeddings_metadata, profile_batch:
            weight histograms, images, embeddings and profiling are not supported: any value
            other than the default raises ValueError rather than being ignored.
        write_graph: accepted for compatibility (default True); no graph is written.
        write_steps_per_second: also log ``epoch_steps_per_second``.
        update_freq: "epoch" (default; the loop makes no Python call per batch), "batch" or an
            integer N: also write ``batch_*`` scalars every N batches (then the loop calls
            this callback after every batch).
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        unsupported = {"histogram_freq": (histogram_freq, 0), "write_images": (write_images, False),
                       "profile_batch": (profile_batch, 0),
                       "embeddings_freq": (embeddings_freq, 0),
                       "embeddings_metadata": (embeddings_metadata, None)}
        for name, (value, default) in unsupported.items():
            if value != default and value is not None:
                raise ValueError(f"TensorBoard: {name}={value!r} is not supported by forgeflow "
                                 f"(only scalars are written); leave it at {default!r}.")
        self.log_dir = os.fspath(log_dir)
        self.write_graph = write_graph
        self.write_steps_per_second = write_steps_per_second
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (isinstance(update_freq, bool)
                                       or not isinstance(update_freq, numbers.Integral)
                                       or update_freq < 1):
            raise ValueError('TensorBoard: update_freq must be "epoch", "batch" or an integer '
                             f">= 1, received {update_freq!r}")
        self.update_freq = update_freq
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._writers = {}
        self._global_train_batch = 0
        self._epoch_start = None
        self._epoch_steps = 0
        if update_freq != "epoch":
            # Only then a per-batch hook exists, so with "epoch" the loop stays in C++.
            self.on_train_batch_end = self._on_train_batch_end

    def _writer(self, which):
        w = self._writers.get(which)
        if w is None or w.closed:
            w = EventFileWriter(self._train_dir if which == "train" else self._val_dir)
            self._writers[which] = w
        return w

    def _learning_rate(self):
        optimizer = getattr(self.model, "optimizer", None)
        try:
            return float(optimizer.learning_rate)
        except (AttributeError, TypeError, ValueError):
            return None

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._writer("train")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.time()
        self._epoch_steps = 0

    def _on_train_batch_end(self, batch, logs=None):
        self._global_train_batch += 1
        self._epoch_steps = batch + 1
        if self._global_train_batch % self.update_freq:
            return
        w = self._writer("train")
        for name, value in (logs or {}).items():
            if isinstance(value, numbers.Real):
                w.add_scalar("batch_" + name, value, self._global_train_batch)
        lr = self._learning_rate()
        if lr is not None and "learning_rate" not in (logs or {}):
            w.add_scalar("batch_learning_rate", lr, self._global_train_batch)
        w.flush()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        if "learning_rate" not in train:
            lr = self._learning_rate()
            if lr is not None:
                train["learning_rate"] = lr
        if self.write_steps_per_second and self._epoch_start is not None:
            steps = self._epoch_steps or (self.params or {}).get("steps") or 0
            elapsed = time.time() - self._epoch_start
            train["steps_per_second"] = steps / elapsed if elapsed > 0 else 0.0
        for which, values in (("train", train), ("validation", val)):
            if not values:
                continue
            w = self._writer(which)
            for name, value in values.items():
                try:
                    w.add_scalar("epoch_" + name, float(value), epoch)
                except (TypeError, ValueError):
                    continue  # not a scalar (Keras skips these too)
            w.flush()

    def on_train_end(self, logs=None):
        for w in self._writers.values():
            w.close()
        self._writers = {}
