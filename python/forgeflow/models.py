"""Sequential: the Keras model API (add / build / summary / compile / fit / evaluate / predict /
__call__ / train_on_batch / get_weights ...) over the C++ model, whose loops run without the GIL.

Python here only parses arguments, converts and validates data (strictly: nothing is
broadcast, labels are never silently cast), drives callbacks and the progress bar.
"""
import math
import numbers

import numpy as np

from . import _checks, _core, losses as losses_mod, metrics as metrics_mod
from . import optimizers as optimizers_mod
from ._naming import unique_name
from .callbacks import CallbackList
from .layers import InputLayer, KerasTensor, Layer
from .utils import summary as summary_mod

__all__ = ["Sequential"]

_PROGRESS_INTERVAL = 0.05  # seconds between progress-bar redraws (Keras's default)
_SIGNAL_INTERVAL = 0.1     # seconds between Ctrl-C checks when nothing else calls back


def _verbose(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', received {verbose!r}")
    return verbose


def _positive_int(value, name, default=None):
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, received {name}={value!r}")
    return int(value)


class Sequential:
    """A linear stack of layers: ``Sequential([Flatten(input_shape=(28, 28)), Dense(10)])``."""

    def __init__(self, layers=None, name=None, trainable=True):
        self.name = name or unique_name("sequential")
        self.trainable = trainable
        self._core = _core.Sequential()
        self._layers = []
        self._input_shape = None
        self._input_name = None
        self.optimizer = None
        self.loss = None
        self._metric_specs = []
        self._metrics_resolved = False
        self.stop_training = False
        self.history = None
        self._warned = set()
        self._first_batch_checked = False
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------ structure
    def add(self, layer):
        """Appends a layer (or, first, an ``ff.Input`` declaring the input shape)."""
        if isinstance(layer, (KerasTensor, InputLayer)):
            if self._layers or self._input_shape is not None:
                raise ValueError("An Input can only be the first element of a Sequential model")
            shape = layer.shape
            self._input_shape = (None,) + tuple(shape[1:])
            self._input_name = layer.name
            return
        if not isinstance(layer, Layer):
            raise TypeError(
                "Only instances of forgeflow.layers.Layer can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer).__name__})")
        if not self._layers and self._input_shape is None and layer._input_shape_arg is not None:
            self._input_shape = layer._input_shape_arg
        self._core.add(layer._core)
        self._layers.append(layer)
        if self._input_shape is not None and not self._core.built:
            self._core.build(self._input_shape)

    def pop(self):
        """Removes the last layer (before the model is built)."""
        self._core.pop()
        return self._layers.pop()

    @property
    def layers(self):
        return list(self._layers)

    def get_layer(self, name=None, index=None):
        """A layer by name or by index."""
        if index is not None and name is not None:
            raise ValueError("Provide only a layer name or a layer index, not both")
        if index is not None:
            if not -len(self._layers) <= index < len(self._layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(self._layers)} layers.")
            return self._layers[index]
        if name is not None:
            for layer in self._layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: "
                             f"{[l.name for l in self._layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    @property
    def built(self):
        return self._core.built

    def build(self, input_shape=None):
        """Resolves every layer's shapes and creates the weights for ``input_shape``."""
        if input_shape is None:
            input_shape = self._input_shape
        if input_shape is None:
            raise ValueError("build() needs an input_shape, e.g. model.build((None, 784))")
        shape = tuple(input_shape)
        self._core.build((None,) + shape[1:])
        self._input_shape = self._core.input_shape

    @property
    def input_shape(self):
        return self._core.input_shape if self.built else self._input_shape

    @property
    def output_shape(self):
        if not self.built:
            raise ValueError(f'The model "{self.name}" is not built yet: no output shape')
        return self._core.output_shape

    def count_params(self):
        if not self.built:
            raise ValueError(f'You tried to call `count_params` on model "{self.name}", but the '
                             "model isn't built. Build it with model.build(input_shape) or call it "
                             "on data first.")
        return self._core.param_count + self._core.non_trainable_param_count

    def summary(self, line_length=None, positions=None, print_fn=None):
        """Prints Keras 3's summary table (layers, output shapes, parameter counts)."""
        rows = []
        for layer in self._layers:
            if self.built:
                rows.append((layer.name, type(layer).__name__, layer.output_shape, layer.count_params()))
            else:
                rows.append((layer.name, type(layer).__name__, None, 0))
        trainable = self._core.param_count if self.built else 0
        non_trainable = self._core.non_trainable_param_count if self.built else 0
        summary_mod.print_summary(self.name, rows, trainable, non_trainable,
                                  line_length=line_length, positions=positions, print_fn=print_fn)

    def get_weights(self):
        """All weights as a list of NumPy arrays, layer by layer."""
        self._require_built("get_weights")
        return list(self._core.get_weights())

    def set_weights(self, weights):
        """Sets all weights from a list of NumPy arrays of exactly the current shapes."""
        self._require_built("set_weights")
        self._core.set_weights([np.ascontiguousarray(w, dtype=np.float32) for w in weights])

    @property
    def weights(self):
        return self.get_weights()

    def _require_built(self, what):
        if not self.built:
            raise ValueError(f'Model "{self.name}" is not built: call build(input_shape) or use '
                             f"it on data before {what}()")

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Configures training. Defaults as in Keras 3 (optimizer "rmsprop")."""
        if loss is None:
            raise ValueError("compile() needs a loss, e.g. loss='sparse_categorical_crossentropy'")
        if loss_weights is not None or weighted_metrics is not None:
            raise ValueError("loss_weights and weighted_metrics apply to multi-output and "
                             "weighted models, which Sequential does not support yet")
        self.optimizer = optimizers_mod.get(optimizer)
        self.loss = losses_mod.get(loss)
        if metrics is None:
            metrics = []
        if isinstance(metrics, (str, metrics_mod.Metric)):
            metrics = [metrics]
        self._metric_specs = list(metrics)
        self._metrics_resolved = False
        self.compiled = True
        self._first_batch_checked = False
        _checks.at_compile(self, self.loss, self.optimizer)
        if self.built:
            self._resolve_metrics()

    compiled = False

    def _resolve_metrics(self):
        metrics = [metrics_mod.resolve(m, self.loss, self._core.output_shape) for m in self._metric_specs]
        names = [m.name for m in metrics]
        if len(set(names)) != len(names):
            raise ValueError(f"Metric names must be unique; received {names}")
        self._core.compile(self.loss._core, self.optimizer._core, metrics)
        self._metrics_resolved = True

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"You must call `compile()` before using the model for {what}.")

    @property
    def metrics_names(self):
        if not self._metrics_resolved:
            return ["loss"]
        return list(self._core.metric_names)

    # ------------------------------------------------------------------ data
    def _prepare_x(self, x, what="x"):
        if x is None:
            raise ValueError(f"{what} is required")
        if isinstance(x, dict) or (isinstance(x, (tuple, list)) and x and isinstance(x[0], np.ndarray)
                                   and len(x) > 1 and all(isinstance(a, np.ndarray) for a in x)
                                   and len({a.shape for a in x}) > 1):
            raise ValueError(f"A Sequential model takes a single input array; received {type(x).__name__} "
                             "of several arrays")
        arr = np.asarray(x)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{what} must be numeric (float, int or bool); received an array of dtype "
                            f"{arr.dtype}. Convert it explicitly; forgeflow does not guess.")
        if arr.ndim == 0:
            raise ValueError(f"{what} must have a batch dimension; received a scalar. Use [value] "
                             "for one sample.")
        # The one adaptation Keras users rely on: a flat list for a (None, 1) input is a column.
        target = self.input_shape
        if arr.ndim == 1 and target is not None and len(target) == 2 and target[1] == 1:
            arr = arr.reshape(-1, 1)
        was_integer = arr.dtype.kind in "biu"
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        if not self.built:
            if not self._layers:
                raise ValueError(f'Model "{self.name}" has no layers')
            self.build((None,) + arr.shape[1:])
            if self.compiled and not self._metrics_resolved:
                self._resolve_metrics()
        else:
            self._check_x_shape(arr.shape)
        return arr, was_integer

    def _check_x_shape(self, shape):
        try:
            self._core.check_input(shape)
        except ValueError as e:
            expected = self._core.input_shape
            hint = ""
            if len(shape) + 1 == len(expected) and expected[-1] == 1 and tuple(shape[1:]) == tuple(expected[1:-1]):
                hint = (" The data lacks the trailing axis of size 1 (a channel axis?): add it with "
                        "x[..., None] or np.expand_dims(x, -1).")
            elif len(shape) == len(expected) + 1 and shape[-1] == 1 and tuple(shape[1:-1]) == tuple(expected[1:]):
                hint = " The data has an extra trailing axis of size 1: remove it with np.squeeze(x, -1)."
            raise ValueError(f'{e}. Model "{self.name}" expects inputs of shape {expected}; nothing '
                             f"is broadcast or reshaped silently.{hint}") from None

    def _prepare_y(self, y, n_samples, what="y"):
        if y is None:
            raise ValueError(f"{what} is required for training and evaluation")
        arr = np.asarray(y)
        if self.loss.sparse:
            if arr.dtype.kind not in "iu":
                if arr.ndim >= 2 and arr.shape[-1] != 1 and arr.shape[0] == n_samples:
                    # Wrong shape first (e.g. float one-hot labels): the core's error says which
                    # loss fits them, where a cast hint would mislead.
                    self._core.check_targets((n_samples,), arr.shape, "int64")
                hint = ""
                if arr.dtype.kind == "f" and arr.size and np.all(np.mod(arr, 1) == 0):
                    hint = f" These floats are whole numbers: pass {what}.astype('int64')."
                raise TypeError(
                    f'The loss "{self.loss._core_name}" expects integer class indices; received '
                    f"{what} of dtype {arr.dtype}. Labels are not cast silently.{hint}")
            arr = np.ascontiguousarray(arr, dtype=np.int64)
        else:
            if arr.dtype.kind not in "biuf":
                raise TypeError(f'The loss "{self.loss._core_name}" expects numeric targets; received '
                                f"{what} of dtype {arr.dtype}.")
            arr = np.ascontiguousarray(arr, dtype=np.float32)
        if arr.ndim == 0 or arr.shape[0] != n_samples:
            raise ValueError(
                "Data cardinality is ambiguous. Make sure all arrays contain the same number of "
                f"samples: x has {n_samples} samples, {what} has "
                f"{arr.shape[0] if arr.ndim else 'no batch axis (a scalar)'}.")
        self._core.check_targets((n_samples,), arr.shape, "int64" if self.loss.sparse else "float32")
        if self.loss.sparse:
            self._check_label_range(arr, what)
        return arr

    def _check_label_range(self, labels, what):
        # Over the caller's whole array, before any step: the index reported is the one in their
        # array (not a shuffled or validation-split position) and a failed call changes no weight.
        classes = self._core.output_shape[-1]
        flat = labels.reshape(len(labels), -1)[:, 0]
        if not flat.size or (flat.min() >= 0 and flat.max() < classes):
            return
        i = int(np.flatnonzero((flat < 0) | (flat >= classes))[0])
        raise ValueError(
            f"Received a label value of {int(flat[i])} at sample index {i} of {what}, which is "
            f"outside the valid range [0, {classes}) for the {classes} outputs of the model (loss "
            f'"{self.loss._core_name}"). Labels must be class indices 0..{classes - 1}.')

    # ------------------------------------------------------------------ loops
    def _hook(self, cbs, phase, every_batch, progbar):
        begin_name = f"on_{phase}_batch_begin"
        end_name = f"on_{phase}_batch_end"

        def hook(begin, step, logs):
            if begin:
                getattr(cbs, begin_name)(step, logs)
            elif every_batch:
                getattr(cbs, end_name)(step - 1, logs)
            elif progbar:
                getattr(cbs.progbar, end_name)(step - 1, logs)
            return bool(self.stop_training) if phase == "train" else False
        return hook

    def _loop_args(self, cbs, phase):
        needs = getattr(cbs, f"needs_{phase}_batch_hooks")
        progbar = cbs.progbar_wants_batches
        interval = _PROGRESS_INTERVAL if progbar else _SIGNAL_INTERVAL
        return self._hook(cbs, phase, needs, progbar), needs, needs, interval

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains for ``epochs`` epochs; returns a History. Keras semantics: validation_split
        takes the last fraction of x/y before shuffling."""
        self._require_compiled("training")
        if class_weight is not None or sample_weight is not None:
            raise ValueError("class_weight and sample_weight are not supported yet")
        verbose = _verbose(verbose)
        batch_size = _positive_int(batch_size, "batch_size", 32)
        epochs = int(epochs)
        if not 0 <= initial_epoch <= epochs:
            raise ValueError(f"initial_epoch={initial_epoch} must be between 0 and epochs={epochs}")
        if not isinstance(validation_split, numbers.Real) or not 0 <= validation_split < 1:
            raise ValueError(f"validation_split must be in [0, 1), received {validation_split!r}")
        validation_freq = _positive_int(validation_freq, "validation_freq", 1)
        steps_per_epoch = _positive_int(steps_per_epoch, "steps_per_epoch")
        x, x_was_integer = self._prepare_x(x)
        y = self._prepare_y(y, len(x))
        if validation_data is not None and validation_split:
            raise ValueError("Pass either validation_data or validation_split, not both")
        val = None
        if validation_split:
            split_at = int(math.floor(len(x) * (1.0 - validation_split)))
            if split_at == 0 or split_at == len(x):
                raise ValueError(f"validation_split={validation_split} leaves no training or no "
                                 f"validation samples out of {len(x)}")
            x, val_x = x[:split_at], x[split_at:]
            y, val_y = y[:split_at], y[split_at:]
            val = (val_x, val_y)
        elif validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be a tuple (x_val, y_val)")
            if len(validation_data) == 3 and validation_data[2] is not None:
                raise ValueError("validation sample weights are not supported yet")
            val_x, _ = self._prepare_x(validation_data[0], "validation x")
            val = (val_x, self._prepare_y(validation_data[1], len(val_x), "validation y"))
        val_batch_size = _positive_int(validation_batch_size, "validation_batch_size", batch_size)

        if not self._first_batch_checked:
            self._first_batch_checked = True
            _checks.at_first_batch(self, x[:batch_size], y[:batch_size], self.loss, x_was_integer)

        n = len(x)
        steps = math.ceil(n / batch_size)
        if steps_per_epoch:
            steps = min(steps, steps_per_epoch)
        cbs = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                           verbose=verbose, epochs=epochs, steps=steps)
        hook, every, begin, interval = self._loop_args(cbs, "train")
        shuffle_seed = _core.next_seed()
        self.stop_training = False
        logs = {}
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch)
            if shuffle:
                order = _core.shuffled_order(n, shuffle_seed, epoch)
            else:
                order = np.arange(n, dtype=np.int64)
            if steps_per_epoch:
                order = np.ascontiguousarray(order[: steps * batch_size])
            logs = dict(self._core.train_epoch(x, y, order, epoch, batch_size, hook, every, begin,
                                               interval))
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_loop(val[0], val[1], val_batch_size, None, validation_steps)
                logs.update({"val_" + k: v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end(logs)
        return cbs.history

    def _evaluate_loop(self, x, y, batch_size, cbs, steps):
        if steps is not None:
            steps = _positive_int(steps, "steps")
            x, y = x[: steps * batch_size], y[: steps * batch_size]
        if cbs is None:
            return dict(self._core.evaluate(x, y, batch_size, None, False, False, _SIGNAL_INTERVAL))
        hook, every, begin, interval = self._loop_args(cbs, "test")
        return dict(self._core.evaluate(x, y, batch_size, hook, every, begin, interval))

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss and metrics over x/y: a scalar loss, a list [loss, *metrics], or a dict."""
        self._require_compiled("evaluation")
        if sample_weight is not None:
            raise ValueError("sample_weight is not supported yet")
        verbose = _verbose(verbose)
        batch_size = _positive_int(batch_size, "batch_size", 32)
        x, _ = self._prepare_x(x)
        y = self._prepare_y(y, len(x))
        n_steps = math.ceil(len(x) / batch_size) if steps is None else min(steps, math.ceil(len(x) / batch_size))
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                           epochs=1, steps=n_steps)
        cbs.on_test_begin()
        logs = self._evaluate_loop(x, y, batch_size, cbs, steps)
        cbs.on_test_end(logs)
        if return_dict:
            return logs
        values = [logs[name] for name in self._core.metric_names]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Model outputs for x as a NumPy array, computed batch by batch in the core."""
        verbose = _verbose(verbose)
        batch_size = _positive_int(batch_size, "batch_size", 32)
        x, _ = self._prepare_x(x)
        if steps is not None:
            x = x[: _positive_int(steps, "steps") * batch_size]
        if verbose == 0 and not callbacks:
            return self._core.predict(x, batch_size, None, False, False, _SIGNAL_INTERVAL)
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                           epochs=1, steps=math.ceil(len(x) / batch_size))
        hook, every, begin, interval = self._loop_args(cbs, "predict")
        cbs.on_predict_begin()
        out = self._core.predict(x, batch_size, hook, every, begin, interval)
        cbs.on_predict_end()
        return out

    def __call__(self, x, training=False):
        """One forward pass (``model(x)``), dropout active when training=True; no update."""
        x, _ = self._prepare_x(x)
        return self._core.call(x, bool(training))

    def predict_on_batch(self, x):
        """Outputs for one batch, no progress bar."""
        x, _ = self._prepare_x(x)
        return self._core.call(x, False)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient update on one batch; returns its loss (and metrics)."""
        self._require_compiled("training")
        if sample_weight is not None or class_weight is not None:
            raise ValueError("sample_weight and class_weight are not supported yet")
        x, _ = self._prepare_x(x)
        y = self._prepare_y(y, len(x))
        order = np.arange(len(x), dtype=np.int64)
        logs = dict(self._core.train_epoch(x, y, order, -1, max(len(x), 1), None, False, False, 1e9))
        return self._format_logs(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss (and metrics) on one batch, no update."""
        self._require_compiled("evaluation")
        x, _ = self._prepare_x(x)
        y = self._prepare_y(y, len(x))
        logs = dict(self._core.evaluate(x, y, max(len(x), 1), None, False, False, 1e9))
        return self._format_logs(logs, return_dict)

    def _format_logs(self, logs, return_dict):
        if return_dict:
            return logs
        values = [logs[name] for name in self._core.metric_names]
        return values[0] if len(values) == 1 else values

    def __repr__(self):
        return f"<Sequential name={self.name}, built={self.built}>"
