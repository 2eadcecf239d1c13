"""Models: ``Model`` (the functional API: ``ff.Model(inputs, outputs)`` over any directed acyclic
graph of layer calls, several inputs and outputs, shared layers) and ``Sequential`` (a stack of
layers), both with Keras's API (summary / compile / fit / evaluate / predict / __call__ /
train_on_batch / get_weights ...) over the C++ model, whose loops run without the GIL.

Python here only parses arguments, converts and validates data (strictly: nothing is
broadcast, labels are never silently cast), drives callbacks and the progress bar.
"""
import functools
import threading

import numpy as np

import math

from . import _checks, _core, _loops, losses as losses_mod, metrics as metrics_mod
from . import optimizers as optimizers_mod
from .distribute import current_strategy
from ._eager import eager
from ._graph import GraphEmitter
from ._naming import snake_case, unique_name
from .saving import model_io, serialization
from .tracking import tracked_fit
from .layers import InputLayer, KerasTensor, Layer
from .layers import _custom, _tracing
from .utils import summary as summary_mod

__all__ = ["Model", "Sequential", "load_model"]

def _locked(method):
    """Runs the method holding the model's lock, so that calls on one model from several threads
    (a threaded server calling predict, a fit next to a set_weights) run one after another with
    the results of serial calls. The lock is re-entrant: a callback may call back into the model
    from inside fit. (The C++ core takes its own lock as well, for its entry points.)"""
    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)
    return locked


def _per_output(value, names, what):
    """A per-output list from one value (applied to every output), a list or a dict by name."""
    if isinstance(value, dict):
        unknown = set(value) - set(names)
        if unknown:
            raise ValueError(f"{what} names unknown outputs {sorted(unknown)}; the model's outputs "
                             f"are {names}")
        return [value.get(n) for n in names]
    if isinstance(value, (list, tuple)) and len(names) > 1:
        if len(value) != len(names):
            raise ValueError(f"{what} has {len(value)} entries but the model has {len(names)} "
                             f"outputs {names}")
        return list(value)
    return [value] * len(names)


def _core_array(arr):
    """The array as the core reads it, batch by batch (it converts each batch's rows to float32
    or int64 itself): C-contiguous and in native byte order, its dtype kept. Copies only when
    NumPy must (a strided view, a byte-swapped or long-double array), never to change dtype."""
    if arr.dtype.kind == "f" and arr.dtype.itemsize not in (2, 4, 8):
        arr = arr.astype(np.float64)
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return np.ascontiguousarray(arr)


# Losses whose targets are probabilities: a target outside [0, 1] is refused before training.
_PROBABILITY_TARGET_LOSSES = ("binary_crossentropy", "categorical_crossentropy")


# Layers reading category indices: their inputs are not "unnormalised" data.
_CATEGORICAL_LAYERS = ("StringLookup", "IntegerLookup", "CategoryEncoding")


def _check_input_dtype(arr, dtype, label, name):
    """Strict: the data's dtype must fit the ff.Input's (nothing converted to or from text,
    no float truncated to an integer)."""
    kind = arr.dtype.kind
    if dtype == "string":
        if kind not in "USO":
            raise TypeError(f'{label}: input "{name}" has dtype string; received an array of dtype '
                            f"{arr.dtype}. Nothing is converted to text silently: pass the "
                            "column's strings, or declare the input with the data's dtype.")
    elif dtype in ("int64", "int32"):
        if kind not in "iu":
            raise TypeError(f'{label}: input "{name}" has dtype {dtype}; received an array of dtype '
                            f"{arr.dtype}. Floats are not truncated silently: use "
                            ".astype('int64') if they are whole numbers.")
    elif kind not in "biuf":
        hint = ""
        if kind in "USO":
            hint = (f' For a categorical column, declare ff.Input(shape=..., name="{name}", '
                    'dtype="string") and apply a StringLookup to it.')
        raise TypeError(f'{label} must be numeric (float, int or bool): input "{name}" has dtype '
                        f"{dtype}; received an array of dtype {arr.dtype}. Convert it explicitly; "
                        f"forgeflow does not guess.{hint}")


def _is_symbolic(x):
    """A KerasTensor, or a non-empty list/tuple of them."""
    if isinstance(x, KerasTensor):
        return True
    return (isinstance(x, (list, tuple)) and bool(x)
            and all(isinstance(t, KerasTensor) for t in x))


def _class_label(layer):
    """The class a summary row shows: Keras's "Functional" for a functional model."""
    if isinstance(layer, Model) and type(layer) is Model:
        return "Functional"
    return type(layer).__name__


def _layer_output_shape(layer):
    try:
        return layer.output_shape
    except (ValueError, AttributeError):
        return None


def _layer_params(layer):
    return layer.count_params() if layer.built else 0


class Model:
    """A model over a graph of layers: ``ff.Model(inputs, outputs)``, or a subclass defining
    ``call`` (layers made in ``__init__``; docs/custom-layers.md):

        class MLP(ff.Model):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.hidden = ff.layers.Dense(64, activation="relu")
                self.out = ff.layers.Dense(10)
            def call(self, inputs, training=None):
                return self.out(self.hidden(inputs))

    ``inputs``/``outputs`` are symbolic tensors (``ff.Input(...)`` and the results of calling
    layers on them), or lists or dicts of them. Several inputs take a list (or a dict by input
    name) of arrays; several outputs take targets likewise and give a list of predictions.

    A subclassed model is built on its first data (fit, evaluate, predict, a call on arrays),
    by ``build(input_shape)`` or by a call on symbolic tensors: its ``call`` is traced once into
    the C++ graph, as a custom layer's is."""

    _ff_trackable = True
    activity_regularizer = None

    def __new__(cls, *args, **kwargs):
        instance = super().__new__(cls)
        instance.__dict__["_auto_config"] = _custom._auto_config(cls, args, kwargs)
        return instance

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        if inputs is None and outputs is None and type(self).call is not Model.call:
            if kwargs:
                raise TypeError(f"{type(self).__name__}() got unexpected keyword argument(s): "
                                + ", ".join(sorted(kwargs)))
            self.__dict__["_subclassed"] = True
            self._setup(name or unique_name(snake_case(type(self).__name__)), trainable)
            self.__dict__["_tracked"] = []
            self._layers = self.__dict__["_tracked"]  # the layers assigned to its attributes
            self._input_layers, self._nodes, self._core = [], [], None
            self._outputs_as_dict = False
            return
        if kwargs:
            raise TypeError(f"Model() got unexpected keyword argument(s): "
                            + ", ".join(sorted(kwargs)))
        if inputs is None or outputs is None:
            raise TypeError("Model(inputs, outputs): build it from ff.Input(...) tensors and the "
                            "outputs of layers called on them, or subclass ff.Model and define "
                            "call(self, inputs).")
        self._setup(name or unique_name("functional"), trainable)
        self._build_graph(inputs, outputs)
        if not self._trainable:
            self.trainable = False

    def __setattr__(self, name, value):
        # A subclassed model tracks the layers assigned to its attributes, as a custom layer.
        if self.__dict__.get("_subclassed") and not name.startswith("_"):
            _custom._track(self, value, name)
        object.__setattr__(self, name, value)

    def call(self, inputs, training=None):
        """The computation of a subclassed model (define it in your subclass)."""
        raise NotImplementedError(
            f'Model "{self.name}" ({type(self).__name__}) has no call(): subclass ff.Model and '
            "define call(self, inputs, training=None), or build a functional model with "
            "ff.Model(inputs, outputs)")

    def _setup(self, name, trainable):
        self._lock = threading.RLock()
        self.name = name
        self._trainable = bool(trainable)
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self._losses = []
        self._loss_weights = []
        self._metric_specs = []
        self._metrics_resolved = False
        self.stop_training = False
        self.history = None
        self._warned = set()
        self._first_batch_checked = False
        self._outputs_as_dict = False
        # ff.distribute: the strategy whose scope the model was created (or compiled) in.
        self._distribute_strategy = current_strategy()

    # ------------------------------------------------------------------ graph
    @staticmethod
    def _flatten(struct, what):
        if isinstance(struct, KerasTensor):
            return [struct], None
        if isinstance(struct, dict):
            items = list(struct.items())
            tensors = [t for _, t in items]
            keys = [str(k) for k, _ in items]
        elif isinstance(struct, (list, tuple)):
            tensors, keys = list(struct), None
        else:
            raise TypeError(f"Model {what} must be symbolic tensors (ff.Input or layer outputs), "
                            f"received {type(struct).__name__}")
        for t in tensors:
            if not isinstance(t, KerasTensor):
                raise TypeError(f"Model {what} must be symbolic tensors (ff.Input or layer "
                                f"outputs), received {t!r}")
        if not tensors:
            raise ValueError(f"Model {what} must not be empty")
        return tensors, keys

    def _build_graph(self, inputs, outputs):
        in_list, in_keys = self._flatten(inputs, "inputs")
        out_list, out_keys = self._flatten(outputs, "outputs")
        for t in in_list:
            if t._history is not None:
                raise ValueError(f'Model inputs must come from ff.Input; "{t.name}" is the output of '
                                 f'layer "{t.producer_name}"')
        self._outputs_as_dict = out_keys is not None
        input_ids = {id(t): i for i, t in enumerate(in_list)}

        # Topological order of the layer calls that the outputs need (depth-first, iterative).
        order, seen = [], set()
        for out in out_list:
            stack = [(out, False)]
            while stack:
                t, expanded = stack.pop()
                if id(t) in seen:
                    continue
                if t._history is None:
                    if id(t) not in input_ids:
                        raise ValueError(
                            f'Graph disconnected: cannot obtain the value of input "{t.name}" '
                            f"{t.shape}: it is not one of the model inputs "
                            f"{[i.name for i in in_list]}. Pass it in `inputs`.")
                    seen.add(id(t))
                    continue
                if expanded:
                    seen.add(id(t))
                    order.append(t)
                    continue
                stack.append((t, True))
                for parent in reversed(t._history[1]):
                    if id(parent) not in seen:
                        stack.append((parent, False))

        core = _core.Model()
        emitter = GraphEmitter(core, in_list)
        core.set_outputs(emitter.emit(out_list))
        core.finalize()
        self._core = core
        self.inputs, self.outputs = in_list, out_list
        self._input_names = in_keys or [t.name for t in in_list]
        names = out_keys or [t.producer_name for t in out_list]
        if len(set(names)) != len(names):  # one layer giving two outputs: number them
            names = [f"{n}_{i}" for i, n in enumerate(names)]
        self._output_names = names
        self._nodes = order
        self._input_layers = [t._input_layer for t in in_list if t._input_layer is not None]
        layers, listed = [], set()  # each layer once, in first-call order; linear time
        for t in order:
            if id(t._history[0]) not in listed:
                listed.add(id(t._history[0]))
                layers.append(t._history[0])
        self._layers = layers
        self._input_lookups = self._find_input_lookups(in_list, order)

    @staticmethod
    def _find_input_lookups(in_list, order):
        """Per model input, the lookup layer (StringLookup / IntegerLookup) reading it, or None.
        The lookup runs host-side at the model boundary (see layers/lookup.py), so the C++ graph
        gets indices; a string input read by anything else, or an input read by a lookup and
        by other layers too, is an error now, while the model is being defined."""
        index = {id(t): i for i, t in enumerate(in_list)}
        readers = [[] for _ in in_list]
        for t in order:
            for p in t._history[1]:
                if id(p) in index:
                    readers[index[id(p)]].append(t._history[0])
        lookups = [None] * len(in_list)
        for i, (t, layers) in enumerate(zip(in_list, readers)):
            found = [l for l in layers if getattr(l, "_is_lookup", False)]
            others = [l for l in layers if not getattr(l, "_is_lookup", False)]
            if t.dtype == "string" and others:
                raise TypeError(
                    f'Input "{t.name}" has dtype string, but layer "{others[0].name}" '
                    f"({type(others[0]).__name__}) reads it: the model computes on numbers. Apply "
                    "a StringLookup to the input first (then e.g. CategoryEncoding).")
            if found and (others or any(l is not found[0] for l in found)):
                other = others[0] if others else next(l for l in found if l is not found[0])
                raise ValueError(
                    f'Input "{t.name}" is read by the lookup layer "{found[0].name}" and also by '
                    f'layer "{other.name}": a lookup input must feed that lookup only (declare a '
                    "second ff.Input for the same column if you need it twice).")
            lookups[i] = found[0] if found else None
        return lookups

    # ------------------------------------------------------------------ structure
    @property
    def trainable(self):
        """Setting False freezes every layer (and True unfreezes them), as in Keras."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for layer in self._layers:
            layer.trainable = self._trainable

    def _weight_counts(self):
        """(trainable, non-trainable) weight counts, frozen layers counted as non-trainable."""
        if not self.built:
            return 0, 0
        counts = [layer._weight_counts() for layer in self._layers]
        return sum(c[0] for c in counts), sum(c[1] for c in counts)

    @property
    def layers(self):
        """The model's layers (input layers first for functional models, as Keras lists them)."""
        return list(getattr(self, "_input_layers", [])) + list(self._layers)

    def get_layer(self, name=None, index=None):
        """A layer by name or by index."""
        layers = self.layers
        if index is not None and name is not None:
            raise ValueError("Provide only a layer name or a layer index, not both")
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(layers)} layers.")
            return layers[index]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: "
                             f"{[l.name for l in layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    @property
    def built(self):
        """True once the model's shapes are known and its weights exist."""
        core = self.__dict__.get("_core")
        return core is not None and core.built

    # ------------------------------------------------------------------ subclassed models
    def build(self, input_shape=None):
        """A subclassed model: traces ``call`` for inputs of ``input_shape`` (a tuple with the
        batch dimension, or a list of them for several inputs) into the C++ graph and creates
        the weights. (A functional model is built when made.)"""
        if not self.__dict__.get("_subclassed") or self.built:
            return
        if input_shape is None:
            raise ValueError(f'build() of model "{self.name}" needs an input_shape, e.g. '
                             "model.build((None, 784))")
        from .layers import Input
        several = isinstance(input_shape, list) and input_shape and \
            all(isinstance(s, (list, tuple)) for s in input_shape)
        shapes = list(input_shape) if several else [input_shape]
        inputs = [Input(shape=tuple(s)[1:]) for s in shapes]
        self._build_symbolic(inputs if several else inputs[0])

    def _build_from_data(self, x):
        """Builds a subclassed model for the shapes of its first data."""
        if isinstance(x, dict):
            raise TypeError(f'Subclassed model "{self.name}" is built from its first data: pass '
                            "arrays (or a list of arrays), not a dict")
        arrays = [np.asarray(a) for a in x] if isinstance(x, (list, tuple)) and x and \
            all(hasattr(a, "shape") for a in x) else [np.asarray(x)]
        for a in arrays:
            if a.ndim == 0:
                raise ValueError("the data must have a batch dimension; received a scalar")
        shapes = [(None,) + a.shape[1:] for a in arrays]
        self.build(shapes if len(shapes) > 1 else shapes[0])

    def _build_symbolic(self, inputs):
        """Traces ``call`` on this model's own ff.Input tensors (shaped like ``inputs``) and
        builds the C++ model from the trace, as a functional model of one composite node."""
        from .layers import Input
        given = _tracing.flatten(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        own = [Input(shape=tuple(t.shape[1:])) for t in given]
        structured = _tracing.pack_like(inputs, own) if isinstance(inputs, (list, tuple)) \
            else own[0]
        branches = _tracing.call_takes(self.call, "training")

        def run_call(args, tr):
            return self.call(args, training=tr) if branches else self.call(args)

        record = _tracing.trace_composite(self, structured, own, None, run_call, branches)
        inner = record.traces[0].outputs
        outs = []
        for k, t in enumerate(inner):
            o = KerasTensor(t.shape, f"{self.name}_output_{k}" if len(inner) > 1 else
                            f"{self.name}_output", history=(self, list(own), 0), dtype=t.dtype)
            o._batched, o._call, o._output_index = t._batched, record, k
            outs.append(o)
        record.outputs = outs
        core = _core.Model()
        emitter = GraphEmitter(core, own)
        core.set_outputs(emitter.emit(outs))
        core.finalize()
        self.inputs, self.outputs = own, outs
        self._input_names = [t.name for t in own]
        # (stable names: a re-created model's layers get new auto-numbered names)
        self._output_names = [f"output_{i}" for i in range(len(inner))]
        self._nodes = outs
        self._structure = record.traces[0].structure
        self._input_lookups = [None] * len(own)
        self._core = core
        if not self._trainable:
            self.trainable = False
        pending = self.__dict__.pop("_pending_compile", None)
        if pending is not None:
            self.compile(**pending)

    def _require_subclass_built(self, what):
        if self.__dict__.get("_subclassed") and not self.built:
            raise ValueError(
                f'This model has not yet been built. Build the model first by calling `build()` '
                f"or by calling the model on a batch of data (model \"{self.name}\", "
                f"{type(self).__name__}; {what} needs its layers' shapes).")

    @property
    def input_shape(self):
        """The input shape with the batch dimension as None, e.g. ``(None, 28, 28)``; a list of
        shapes for a model with several inputs."""
        if self.__dict__.get("_subclassed") and not self.built:
            raise AttributeError(f'Model "{self.name}" is not built yet: it has no input shape')
        shapes = self._core.input_shapes
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        """The output shape with the batch dimension as None; a list for several outputs.
        Raises ValueError while the model is not built."""
        if not self.built:
            raise ValueError(f'The model "{self.name}" is not built yet: no output shape')
        shapes = self._core.output_shapes
        return shapes[0] if len(shapes) == 1 else shapes

    def count_params(self):
        """The number of weights, trainable and non-trainable (as the summary's "Total params")."""
        if not self.built:
            if self.__dict__.get("_subclassed"):
                self._require_subclass_built("count_params()")
            raise ValueError(f'You tried to call `count_params` on model "{self.name}", but the '
                             "model isn't built. Build it with model.build(input_shape) or call it "
                             "on data first.")
        return self._core.param_count + self._core.non_trainable_param_count

    def _summary_rows(self):
        if self.__dict__.get("_subclassed"):
            return [(layer.name, _class_label(layer), _layer_output_shape(layer),
                     _layer_params(layer)) for layer in self._layers]
        rows = []
        for layer in self._input_layers:
            rows.append((layer.name, "InputLayer", layer.shape, 0, "-"))
        for layer in self._layers:
            sources, calls = [], set()
            for t in self._nodes:
                if t._history[0] is layer and t._history[2] not in calls:
                    calls.add(t._history[2])  # a call with several outputs: once
                    sources.extend(p.connection() for p in t._history[1])
            rows.append((layer.name, _class_label(layer), _layer_output_shape(layer),
                         _layer_params(layer), sources))
        return rows

    def summary(self, line_length=None, positions=None, print_fn=None):
        """Prints Keras 3's summary table (layers, output shapes, parameter counts; functional
        models add the "Connected to" column). A model or custom layer inside is one row."""
        self._require_subclass_built("summary()")
        trainable, non_trainable = self._weight_counts()
        summary_mod.print_summary(self.name, self._summary_rows(), trainable, non_trainable,
                                  line_length=line_length, positions=positions, print_fn=print_fn)

    @_locked
    def get_weights(self):
        """All weights as a list of NumPy arrays, layer by layer."""
        self._require_built("get_weights")
        return [w for layer in self._layers for w in layer.get_weights()]

    @_locked
    def set_weights(self, weights):
        """Sets all weights from a list of NumPy arrays of exactly the current shapes (every
        shape checked before anything changes)."""
        self._require_built("set_weights")
        weights = [np.asarray(w, dtype=np.float32, order="C") for w in weights]
        shapes = self._param_shapes()
        if len(weights) != len(shapes):
            raise ValueError(f"set_weights() expects a list of {len(shapes)} arrays for this "
                             f"model, received {len(weights)}")
        names = self._param_names()
        for i, (w, shape) in enumerate(zip(weights, shapes)):
            if w.shape != tuple(shape):
                raise ValueError(f"Weight {i} ({names[i]}) has shape {tuple(shape)}; received an "
                                 f"array of shape {w.shape}. Nothing was changed.")
        pos = 0
        for layer in self._layers:
            n = len(layer._param_shapes())
            if n:
                layer.set_weights(weights[pos:pos + n])
            pos += n

    def _param_names(self):
        """The names of get_weights()'s arrays: "<layer>/<weight>" per layer (a subclassed
        model's layers by the attribute holding them)."""
        return [f"{_custom.sublayer_key(self, layer)}/{n}" for layer in self._layers
                for n in layer._param_names()]

    def _param_shapes(self):
        return [s for layer in self._layers for s in layer._param_shapes()]

    def _sublayers(self):
        return list(self._layers)

    def _flat_layers(self):
        out = []
        for layer in self._layers:
            out.append(layer)
            out.extend(layer._flat_layers())
        return out

    @property
    def compute_dtype(self):
        """float16 or bfloat16 when a layer computes in it, else float32."""
        kinds = {l.compute_dtype for l in self._flat_layers() if isinstance(l, Layer)}
        for k in ("float16", "bfloat16"):
            if k in kinds:
                return k
        return "float32"

    def add_loss(self, loss):
        """Inside a subclassed model's call: adds a loss tensor (computed from the inputs and
        weights with ff.ops; its elements summed) to the training loss, in the C++ step (see
        ``Layer.add_loss``)."""
        _custom.add_loss(self, loss)

    @property
    def losses(self):
        """The model's added losses: the loss tensors its custom layers add (symbolic: they
        are computed in the C++ step, each step's value part of the reported loss), the losses
        of its layers' last calls on arrays, and the regularization penalties of its trainable
        weights (at their current values)."""
        out = []
        for t in self._nodes:
            call = getattr(t, "_call", None)
            if call is not None and t._output_index == 0:
                for trace in call.traces[:1]:
                    out.extend(tensor for tensor, _ in trace.losses)
        for layer in self._layers:
            out.extend(layer.losses)
        return out

    @property
    def weights(self):
        """All weights as ``ff.Variable`` objects, layer by layer (``get_weights()`` order)."""
        return [v for layer in self._layers for v in layer.weights]

    @property
    def trainable_weights(self):
        """The weights the optimizer trains, layer by layer."""
        return [v for layer in self._layers for v in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        """The other weights (moving statistics, frozen layers), layer by layer."""
        return [v for layer in self._layers for v in layer.non_trainable_weights]

    def _require_built(self, what):
        if not self.built:
            raise ValueError(f'Model "{self.name}" is not built: call build(input_shape) or use '
                             f"it on data before {what}()")

    @property
    def output_names(self):
        """The names of the output layers, in output order (keys of per-output losses)."""
        return list(self._output_names)

    # ------------------------------------------------------------------ compile
    @_locked
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Configures training. Defaults as in Keras 3 (optimizer "rmsprop"). With several
        outputs, ``loss``, ``loss_weights`` and ``metrics`` may be lists (output order) or dicts
        (by output name); one loss or one metric list applies to every output."""
        if weighted_metrics is not None:
            raise ValueError("weighted_metrics need sample weights, which are not supported yet")
        if self.__dict__.get("_subclassed") and not self.built:
            # Its outputs are known once it is built: compile completes then.
            self.__dict__["_pending_compile"] = dict(
                optimizer=optimizer, loss=loss, metrics=metrics, loss_weights=loss_weights,
                run_eagerly=run_eagerly, steps_per_execution=steps_per_execution,
                jit_compile=jit_compile, auto_scale_loss=auto_scale_loss)
            self.optimizer = optimizers_mod.get(optimizer)
            self.loss = loss
            self.compiled = True
            self._metrics_resolved = False
            return
        names = self._output_names
        # No loss at all is allowed: the model's loss may come from add_loss alone (fit raises
        # Keras's "No loss to compute" when it has none either).
        losses = [None if l is None else losses_mod.get(l)
                  for l in _per_output(loss, names, "loss")]
        weights = _per_output(1.0 if loss_weights is None else loss_weights, names, "loss_weights")
        weights = [1.0 if w is None else float(w) for w in weights]
        if metrics is None:
            metrics = []
        if isinstance(metrics, (str, metrics_mod.Metric)):
            metrics = [metrics]
        if isinstance(metrics, dict):
            per_output = _per_output(metrics, names, "metrics")
        elif len(names) > 1 and metrics and all(isinstance(m, (list, tuple)) for m in metrics):
            per_output = _per_output(metrics, names, "metrics")
        else:
            per_output = [metrics] * len(names)
        per_output = [[] if m is None else ([m] if isinstance(m, (str, metrics_mod.Metric)) else list(m))
                      for m in per_output]
        for name, l, m in zip(names, losses, per_output):
            if l is None and m:
                raise ValueError(f'output "{name}" has metrics but no loss')
        if current_strategy() is not None:
            self._distribute_strategy = current_strategy()
        self.optimizer = optimizers_mod.get(optimizer)
        # As Keras 3: float16 compute gets dynamic loss scaling unless the caller opts out.
        if (auto_scale_loss and any(l.compute_dtype == "float16" for l in self._layers)
                and not isinstance(self.optimizer, optimizers_mod.LossScaleOptimizer)):
            self.optimizer = optimizers_mod.LossScaleOptimizer(self.optimizer)
        self._losses, self._loss_weights, self._metric_specs = losses, weights, per_output
        self.loss = losses[0] if len(losses) == 1 else loss
        self._metrics_resolved = False
        self.compiled = True
        self._first_batch_checked = False
        for l, act in zip(losses, self._output_activations()):
            if l is not None:
                _checks.at_compile(self, l, act, self.optimizer)
        if self.built:
            self._resolve_metrics()

    def _output_activations(self):
        return [_checks.tensor_activation(t) for t in self.outputs]

    def _inputs_scaled_in_model(self):
        """Per input: is it read by a layer that rescales it (so raw 0-255 data is fine), or by a
        categorical layer (indices are not meant to be scaled)?"""
        def scaled(tensor):
            for n in self._nodes:
                if not any(p is tensor for p in n._history[1]):
                    continue
                kind = type(n._history[0]).__name__
                if kind in _checks.SCALING_LAYERS + _CATEGORICAL_LAYERS:
                    return True
                # Keras's usual order puts augmentation before Rescaling: look through it.
                if kind in _checks.AUGMENTATION_LAYERS and scaled(n):
                    return True
            return False
        return [scaled(t) for t in self.inputs]

    def _resolve_metrics(self):
        specs = []
        shapes = self._core.output_shapes
        for o, name in enumerate(self._output_names):
            loss = self._losses[o]
            metrics = [metrics_mod.resolve(m, loss, shapes[o]) for m in self._metric_specs[o]]
            metric_names = [m.name for m in metrics]
            if len(set(metric_names)) != len(metric_names):
                raise ValueError(f"Metric names must be unique; received {metric_names}")
            specs.append((name, None if loss is None else loss._core, self._loss_weights[o], metrics))
        self._core.compile(specs, self.optimizer._core)
        self._core.loss_scale = (self.optimizer._scale if isinstance(
            self.optimizer, optimizers_mod.LossScaleOptimizer) else None)
        self._metrics_resolved = True

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"You must call `compile()` before using the model for {what}.")

    @property
    def metrics_names(self):
        """The names ``evaluate`` returns values for: ``"loss"`` first, then the metrics (known
        once the model has seen data after ``compile``)."""
        if not self._metrics_resolved:
            return ["loss"]
        return list(self._core.metric_names)

    # ------------------------------------------------------------------ data
    def _split_struct(self, data, names, what):
        """One entry per name from a single array, a list/tuple or a dict by name."""
        if isinstance(data, dict):
            missing = [n for n in names if n not in data]
            if missing:
                raise ValueError(f"{what} is missing entries for {missing}; the model has {names}")
            unknown = set(data) - set(names)
            if unknown:
                raise ValueError(f"{what} has entries {sorted(unknown)} that the model does not "
                                 f"have; it has {names}")
            return [data[n] for n in names]
        if len(names) == 1:
            if isinstance(data, (list, tuple)) and len(data) == 1 and isinstance(data[0], np.ndarray):
                return [data[0]]
            return [data]
        if not isinstance(data, (list, tuple)) or len(data) != len(names):
            raise ValueError(f"The model has {len(names)} {what}s {names}; pass a list of "
                             f"{len(names)} arrays or a dict by name, received "
                             f"{type(data).__name__}")
        return list(data)

    def _prepare_inputs(self, x, what="x"):
        if x is None:
            raise ValueError(f"{what} is required")
        if self.__dict__.get("_subclassed") and not self.built:
            self._build_from_data(x)  # Keras builds a subclassed model on its first data
        arrays, integer = [], []
        expected = self._expected_input_shapes()
        names = self._input_names_for_data()
        dtypes = [getattr(t, "dtype", "float32") for t in getattr(self, "inputs", [])]
        lookups = getattr(self, "_input_lookups", None) or []
        for i, item in enumerate(self._split_struct(x, names, "input")):
            label = what if len(expected) == 1 else f"{what}[{names[i]!r}]"
            arr = np.asarray(item)
            dtype = dtypes[i] if i < len(dtypes) else "float32"
            _check_input_dtype(arr, dtype, label, names[i] if i < len(names) else "input")
            if arr.ndim == 0:
                raise ValueError(f"{label} must have a batch dimension; received a scalar. Use "
                                 "[value] for one sample.")
            # The one adaptation Keras users rely on: a flat list for a (None, 1) input is a column.
            target = expected[i] if expected else None
            if arr.ndim == 1 and target is not None and len(target) == 2 and target[1] == 1:
                arr = arr.reshape(-1, 1)
            lookup = lookups[i] if i < len(lookups) else None
            if lookup is not None:  # host-side, in C++: the graph receives the indices
                arr = lookup._lookup_array(arr, label)
            elif dtype == "string":
                raise TypeError(f'{label}: input "{names[i]}" has dtype string but no lookup layer '
                                "reads it; the model computes on numbers")
            integer.append(arr.dtype.kind in "biu")
            arrays.append(_core_array(arr))
        self._ensure_built(arrays)
        self._check_input_shapes(arrays)
        return arrays, integer

    def _input_names_for_data(self):
        return self._input_names

    def _expected_input_shapes(self):
        return self._core.input_shapes if self.built else []

    def _ensure_built(self, arrays):
        if self.compiled and not self._metrics_resolved:
            self._resolve_metrics()

    def _check_input_shapes(self, arrays):
        try:
            self._core.check_inputs([a.shape for a in arrays])
        except ValueError as e:
            expected_all = self._core.input_shapes
            hint = ""
            for shape, expected in zip((a.shape for a in arrays), expected_all):
                if len(shape) + 1 == len(expected) and expected[-1] == 1 and tuple(shape[1:]) == tuple(expected[1:-1]):
                    hint = (" The data lacks the trailing axis of size 1 (a channel axis?): add it "
                            "with x[..., None] or np.expand_dims(x, -1).")
                elif len(shape) == len(expected) + 1 and shape[-1] == 1 and tuple(shape[1:-1]) == tuple(expected[1:]):
                    hint = " The data has an extra trailing axis of size 1: remove it with np.squeeze(x, -1)."
            shown = expected_all[0] if len(expected_all) == 1 else expected_all
            raise ValueError(f'{e}. Model "{self.name}" expects inputs of shape {shown}; nothing '
                             f"is broadcast or reshaped silently.{hint}") from None

    def _prepare_targets(self, y, n_samples, what="y"):
        trained = [n for n, l in zip(self._output_names, self._losses) if l is not None]
        if not trained:  # the loss is the model's added losses alone: y is not used (Keras)
            return [None] * len(self._output_names)
        if y is None:
            raise ValueError(f"{what} is required for training and evaluation")
        if isinstance(y, dict):
            unknown = set(y) - set(self._output_names)
            untrained = set(y) - set(trained) - unknown
            missing = [n for n in trained if n not in y]
            if unknown or untrained or missing:
                raise ValueError(
                    f"{what} must give targets for exactly the outputs that have a loss, "
                    f"{trained}; " + "; ".join(filter(None, [
                        f"unknown {sorted(unknown)}" if unknown else "",
                        f"without a loss {sorted(untrained)}" if untrained else "",
                        f"missing {missing}" if missing else ""])))
            by_name = y
        else:
            by_name = dict(zip(trained, self._split_struct(y, trained, "target")))
        out = []
        for o, name in enumerate(self._output_names):
            loss = self._losses[o]
            if loss is None:
                out.append(None)
                continue
            label = what if len(self._output_names) == 1 else f"{what}[{name!r}]"
            out.append(self._prepare_target(by_name[name], n_samples, o, loss, label))
        return out

    def _prepare_target(self, y, n_samples, o, loss, what):
        arr = np.asarray(y)
        if loss.sparse:
            if arr.dtype.kind not in "iu":
                if arr.ndim >= 2 and arr.shape[-1] != 1 and arr.shape[0] == n_samples:
                    # Wrong shape first (e.g. float one-hot labels): the core's error says which
                    # loss fits them, where a cast hint would mislead.
                    self._core.check_targets(o, n_samples, arr.shape, "int64")
                hint = ""
                if arr.dtype.kind == "f" and arr.size and np.all(np.mod(arr, 1) == 0):
                    hint = f" These floats are whole numbers: pass {what}.astype('int64')."
                raise TypeError(
                    f'The loss "{loss._core_name}" expects integer class indices; received '
                    f"{what} of dtype {arr.dtype}. Labels are not cast silently.{hint}")
        elif arr.dtype.kind not in "biuf":
            raise TypeError(f'The loss "{loss._core_name}" expects numeric targets; received '
                            f"{what} of dtype {arr.dtype}.")
        arr = _core_array(arr)
        if arr.ndim == 0 or arr.shape[0] != n_samples:
            raise ValueError(
                "Data cardinality is ambiguous. Make sure all arrays contain the same number of "
                f"samples: x has {n_samples} samples, {what} has "
                f"{arr.shape[0] if arr.ndim else 'no batch axis (a scalar)'}.")
        self._core.check_targets(o, n_samples, arr.shape, "int64" if loss.sparse else "float32")
        if loss.sparse:
            self._check_label_range(arr, o, loss, what)
        elif loss._core_name in _PROBABILITY_TARGET_LOSSES:
            self._check_probability_targets(arr, loss, what)
        return arr

    @staticmethod
    def _check_probability_targets(targets, loss, what):
        # Keras computes a meaningless loss for a target of 2 or -1 here and trains on it.
        flat = targets.reshape(-1)
        if not flat.size or (flat.min() >= 0 and flat.max() <= 1):
            return
        i = int(np.flatnonzero((flat < 0) | (flat > 1))[0])
        sample = i // max(1, flat.size // len(targets))
        raise ValueError(
            f"Received a target value of {flat[i]:g} at sample index {sample} of {what}, which is "
            f'outside [0, 1]: the loss "{loss._core_name}" takes probabilities (0/1 labels, or '
            "soft labels in between). For class indices use a sparse loss; for other values a "
            "regression loss such as mean_squared_error.")

    def _check_label_range(self, labels, o, loss, what):
        # Over the caller's whole array, before any step: the index reported is the one in their
        # array (not a shuffled or validation-split position) and a failed call changes no weight.
        classes = self._core.output_shapes[o][-1]
        flat = labels.reshape(len(labels), -1)[:, 0]
        if not flat.size or (flat.min() >= 0 and flat.max() < classes):
            return
        i = int(np.flatnonzero((flat < 0) | (flat >= classes))[0])
        raise ValueError(
            f"Received a label value of {int(flat[i])} at sample index {i} of {what}, which is "
            f"outside the valid range [0, {classes}) for the {classes} outputs of the model (loss "
            f'"{loss._core_name}"). Labels must be class indices 0..{classes - 1}.')

    def _format_predictions(self, outputs):
        if len(outputs) == 1:
            return outputs[0]
        if self._outputs_as_dict:
            return dict(zip(self._output_names, outputs))
        return list(outputs)

    # ------------------------------------------------------------------ loops (_loops.py)
    @_locked
    @tracked_fit  # records the run in ff.tracking's database
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains for ``epochs`` epochs; returns a History. Keras semantics: validation_split
        takes the last fraction of x/y before shuffling. x may be an ff.data.Dataset of
        (x, y) batches instead of arrays. Arrays of any numeric dtype (uint8 images, a memmap)
        are converted batch by batch, never copied whole."""
        self._require_compiled("training")
        return _loops.fit(self, x, y, batch_size, epochs, verbose, callbacks, validation_split,
                          validation_data, shuffle, class_weight, sample_weight, initial_epoch,
                          steps_per_epoch, validation_steps, validation_batch_size,
                          validation_freq)

    @_locked
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss and metrics over x/y: a scalar loss, a list [loss, *metrics], or a dict."""
        self._require_compiled("evaluation")
        return _loops.evaluate(self, x, y, batch_size, verbose, sample_weight, steps, callbacks,
                               return_dict)

    @_locked
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Model outputs for x (an array, or a list for several outputs), computed batch by
        batch in the core. x may be an ff.data.Dataset (elements x, or (x, y) with y ignored)."""
        return _loops.predict(self, x, batch_size, verbose, steps, callbacks)

    @_locked
    def __call__(self, x, training=None):
        """On arrays: one forward pass (``model(x)``), dropout active when training=True; no
        update; the result is a NumPy array that also has TensorFlow's ``.numpy()``.

        On symbolic tensors (``ff.Input`` or layer outputs): the model used as a layer of another
        model (Keras's nesting, e.g. ``base_model(inputs, training=False)``): one node of the
        outer model (one row of its summary) whose graph the outer model's C++ graph contains,
        with the current weights; ``training=False`` keeps it in inference mode."""
        if _is_symbolic(x) or any(isinstance(v, KerasTensor) for v in _tracing.flatten(x)
                                  if isinstance(x, (list, tuple))):
            return self._call_symbolically(x, training)
        if self.__dict__.get("_subclassed") and not self.built:
            self._build_from_data(x)
        xs, _ = self._prepare_inputs(x)
        return eager(self._format_predictions(self._core.call(xs, bool(training))))

    def _call_symbolically(self, x, training):
        """A composite call (layers/_tracing.py) of this model on symbolic tensors."""
        given = _tracing.flatten(x) if isinstance(x, (list, tuple)) else [x]
        if self.__dict__.get("_subclassed"):
            if not self.built:
                self._build_symbolic(x)
            branches = _tracing.call_takes(self.call, "training")

            def run_call(structured, tr):
                if branches:
                    return self.call(structured, training=tr)
                return self.call(structured)
        else:
            if len(given) != len(self.inputs):
                raise ValueError(f'Model "{self.name}" takes {len(self.inputs)} input(s), but '
                                 f"was called on {len(given)}")
            for mine, theirs in zip(self.inputs, given):
                if tuple(mine.shape[1:]) != tuple(theirs.shape[1:]):
                    raise ValueError(f'Model "{self.name}" expects inputs of shape {mine.shape}; '
                                     f'it was called on "{theirs.name}" of shape {theirs.shape}')
            branches = False

            def run_call(structured, tr):
                return self._replay(_tracing.flatten(structured)
                                    if isinstance(structured, (list, tuple)) else [structured], tr)
        _tracing.touch(self)
        record = _tracing.trace_composite(self, x, given, training, run_call, branches)
        inner = record.traces[0].outputs
        node_index = self.__dict__.get("_calls", 0)
        self.__dict__["_calls"] = node_index + 1
        outs = []
        for k, t in enumerate(inner):
            o = KerasTensor(t.shape, _tracing.output_name(self, node_index, k, len(inner)),
                            history=(self, list(given), node_index), dtype=t.dtype)
            o._batched, o._call, o._output_index = t._batched, record, k
            o._inference_only = training is False
            outs.append(o)
        record.outputs = outs
        self.__dict__.setdefault("_inbound", []).append(
            (list(given), outs[0] if len(outs) == 1 else list(outs)))
        return _tracing.pack_like(record.traces[0].structure, outs)

    def _replay(self, given, training):
        """This (functional) model's graph called on ``given``: its layers called in its graph's
        order (training=False pins every call to inference mode)."""
        value = {id(mine): theirs for mine, theirs in zip(self.inputs, given)}
        for t in self._nodes:
            layer, parents, node = t._history
            if id(t) in value:
                continue
            args = [value[id(p)] for p in parents]
            inference = training is False or getattr(t, "_inference_only", False)
            result = layer(args if len(args) > 1 else args[0],
                           training=False if inference else None)
            flat = _tracing.flatten(result) if isinstance(result, (list, tuple)) else [result]
            # every output of that call (a multi-output composite's siblings)
            for sib in self._nodes:
                if sib._history[0] is layer and sib._history[2] == node:
                    value[id(sib)] = flat[sib._output_index]
        outputs = [value[id(t)] for t in self.outputs]
        if self._outputs_as_dict:
            return [outputs[i] for i in range(len(outputs))]
        return outputs[0] if len(outputs) == 1 else outputs

    @_locked
    def predict_on_batch(self, x):
        """Outputs for one batch, no progress bar."""
        xs, _ = self._prepare_inputs(x)
        return self._format_predictions(self._core.call(xs, False))

    @_locked
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient update on one batch; returns its loss (and metrics)."""
        self._require_compiled("training")
        if sample_weight is not None or class_weight is not None:
            raise ValueError("sample_weight and class_weight are not supported yet")
        return self._format_logs(_loops.train_on_batch(self, x, y), return_dict)

    @_locked
    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss (and metrics) on one batch, no update."""
        self._require_compiled("evaluation")
        return self._format_logs(_loops.test_on_batch(self, x, y), return_dict)

    def _format_logs(self, logs, return_dict):
        if return_dict:
            return logs
        values = [logs[name] for name in self._core.metric_names]
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------------ saving (forgeflow.saving)
    def get_config(self):
        """The architecture as data (Keras's layout): Sequential's layer list, or the functional
        graph's layers with their inbound nodes and the model's inputs and outputs. A subclassed
        model's config is its constructor's arguments: the ones it was made with when they are
        plain data (Keras 3's auto config), else it must override get_config()."""
        if self.__dict__.get("_subclassed"):
            config = {"name": self.name, "trainable": self.trainable}
            if type(self).get_config is Model.get_config:
                auto = self.__dict__.get("_auto_config")
                if auto is None:
                    raise NotImplementedError(
                        f'Model "{self.name}" ({type(self).__name__}) has constructor arguments '
                        "that are not plain data, so its config cannot be captured "
                        "automatically: override get_config() (and from_config()) to save it.")
                config.update(auto)
            return config
        return model_io.model_config(self)["config"]

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A new model (fresh weights) from ``get_config()``'s output."""
        if cls not in (Model, Sequential) and type.__getattribute__(cls, "call") is not \
                Model.call and "layers" not in config:
            return cls(**config)  # a subclassed model: its constructor's arguments
        kind = "Sequential" if issubclass(cls, Sequential) else "Functional"
        return model_io.model_from_config({"class_name": kind, "config": config}, custom_objects)

    @_locked
    def save(self, filepath, overwrite=True):
        """Saves the whole model to one file (conventionally ``.ff``): architecture, weights,
        compile settings, optimizer and RNG state. Atomic: a crash leaves the old file or the
        new one. Load it with ``ff.models.load_model``."""
        model_io.save_model(self, filepath, overwrite=overwrite)

    @_locked
    def _save_checkpoint(self, filepath, training_position, track=True):
        """The whole model and where training is (ModelCheckpoint, BackupAndRestore); `track`
        False keeps the file out of the run-tracking record."""
        model_io.save_model(self, filepath, overwrite=True, training_position=training_position,
                            track=track)

    @_locked
    def _restore_checkpoint(self, filepath):
        """Weights, optimizer and RNG state and the training position from a saved model file
        (BackupAndRestore, CheckpointManager)."""
        model_io.restore_into(self, filepath)

    @_locked
    def save_weights(self, filepath, overwrite=True):
        """Saves the weights (and non-trainable state such as moving statistics) alone."""
        model_io.save_weights(self, filepath, overwrite=overwrite)

    @_locked
    def load_weights(self, filepath):
        """Loads weights saved by ``save_weights`` or ``save`` into this (built) model, layer by
        layer in order, every shape checked before anything changes."""
        model_io.load_weights(self, filepath)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


class Sequential(Model):
    """A linear stack of layers: ``Sequential([Flatten(input_shape=(28, 28)), Dense(10)])``."""

    def __init__(self, layers=None, name=None, trainable=True):
        self._layers = []
        self._setup(name or unique_name("sequential"), trainable)
        self._core = _core.Sequential()
        self._input_layers = []
        self._input_shape = None
        self._input_name = None
        # Graph mode: the C++ model is built from the layers' symbolic chain (through
        # GraphEmitter) instead of the C++ chain of layers, for what that chain cannot hold: a
        # custom layer, a model used as a layer, an activity regularizer.
        self._graph_mode = False
        for layer in layers or []:
            self.add(layer)

    @staticmethod
    def _needs_graph(layer):
        return (isinstance(layer, Model) or layer._core is None
                or layer.activity_regularizer is not None)

    # ------------------------------------------------------------------ structure
    def add(self, layer):
        """Appends a layer (or, first, an ``ff.Input`` declaring the input shape)."""
        if isinstance(layer, (KerasTensor, InputLayer)):
            if self._layers or self._input_shape is not None:
                raise ValueError("An Input can only be the first element of a Sequential model")
            if getattr(layer, "dtype", "float32") != "float32":
                raise ValueError(f'A Sequential model takes float32 inputs; Input "{layer.name}" '
                                 f"has dtype {layer.dtype}. Use the functional API (ff.Model) "
                                 "with a StringLookup / IntegerLookup on that input.")
            shape = layer.shape
            self._input_shape = (None,) + tuple(shape[1:])
            self._input_name = layer.name
            return
        if not isinstance(layer, (Layer, Model)):
            raise TypeError(
                "Only instances of forgeflow.layers.Layer (or models) can be added to a Sequential "
                f"model. Received: {layer!r} (of type {type(layer).__name__})")
        if isinstance(layer, Model):  # a model used as a layer: one layer of this model
            if layer.built and len(layer._core.input_shapes) != 1:
                raise ValueError(f'Model "{layer.name}" takes {len(layer._core.input_shapes)} '
                                 "inputs: a Sequential model's layers take one; call it on "
                                 "symbolic inputs in a functional model instead")
            if not self._layers and self._input_shape is None and layer.built:
                self._input_shape = tuple(layer.input_shape)
        elif not self._layers and self._input_shape is None and \
                layer._input_shape_arg is not None:
            self._input_shape = layer._input_shape_arg
        if any(layer is l for l in self._layers):
            raise ValueError(f'Layer "{layer.name}" is already in this model; a layer instance '
                             "can appear once in a Sequential model")
        if not self._trainable:
            layer.trainable = False  # a frozen model freezes what is added to it
        if not self._graph_mode and self._needs_graph(layer):
            self._graph_mode = True
        if not self._graph_mode:
            self._core.add(layer._core)
            self._layers.append(layer)
            if self._input_shape is not None and not self._core.built:
                self._core.build(self._input_shape)
            return
        self._layers.append(layer)
        if self._input_shape is not None:
            try:
                self._rebuild_graph()
            except Exception:
                self._layers.pop()
                raise

    def _rebuild_graph(self):
        """Graph mode: a new C++ model from the symbolic chain of the layers (each layer keeps
        its weights: a model starts from the values its layers have)."""
        inputs, outputs = self._chain()
        core = _core.Sequential()
        emitter = GraphEmitter(core, inputs)
        core.set_outputs(emitter.emit(outputs))
        core.finalize()
        self._core = core
        self._input_shape = tuple(core.input_shape)
        self._metrics_resolved = False
        if self.compiled:
            self._resolve_metrics()

    def _chain(self):
        """The symbolic chain ff.Input -> every layer (made once, extended as layers are added):
        the model's ``inputs``/``outputs`` and, in graph mode, what its C++ model is built from."""
        io = self.__dict__.get("_symbolic_cache")
        layers = list(self._layers)
        if io is not None and (len(io[2]) > len(layers) or
                               any(a is not b for a, b in zip(io[2], layers))):
            io = None
        if io is None:
            shape = self.input_shape if self.built and not self._graph_mode else self._input_shape
            if shape is None:
                raise AttributeError(f'Sequential model "{self.name}" has no inputs yet: start it '
                                     "with ff.Input(shape=...) or call model.build(input_shape)")
            from .layers import Input
            x = Input(shape=tuple(shape[1:]), name=self._input_name)
            io = ([x], [x], [])
        inputs, outputs, done = io
        x = outputs[0]
        for layer in layers[len(done):]:
            x = layer(x)
            if isinstance(x, (list, tuple)):
                raise ValueError(f'Layer "{layer.name}" returns {len(x)} outputs: a Sequential '
                                 "model's layers return one tensor each; use the functional API")
        io = (inputs, [x], layers)
        self.__dict__["_symbolic_cache"] = io
        return inputs, [x]

    def pop(self):
        """Removes the last layer (before the model is built)."""
        if self._graph_mode:
            if not self._layers:
                raise ValueError("There are no layers in the model to pop")
            if self.built:
                raise ValueError("pop() on a built model is not supported: build a new "
                                 "Sequential instead")
        else:
            self._core.pop()
        self.__dict__.pop("_symbolic_cache", None)
        return self._layers.pop()

    def _call_symbolically(self, x, training):
        if isinstance(x, (list, tuple)):
            if len(x) != 1:
                raise ValueError(f'Sequential model "{self.name}" takes one input, but was called '
                                 f"on {len(x)}")
            x = x[0]
        if self.built and tuple(self.input_shape[1:]) != tuple(x.shape[1:]):
            raise ValueError(f'Sequential model "{self.name}" expects inputs of shape '
                             f'{self.input_shape}; it was called on "{x.name}" of shape {x.shape}')
        if not self._layers:
            raise ValueError(f'Sequential model "{self.name}" has no layers')
        _tracing.touch(self)
        record = _tracing.trace_composite(self, x, [x], training,
                                          lambda structured, tr: self._replay([structured], tr),
                                          False)
        inner = record.traces[0].outputs[0]
        node_index = self.__dict__.get("_calls", 0)
        self.__dict__["_calls"] = node_index + 1
        out = KerasTensor(inner.shape, _tracing.output_name(self, node_index, 0, 1),
                          history=(self, [x], node_index), dtype=inner.dtype)
        out._batched, out._call, out._output_index = inner._batched, record, 0
        out._inference_only = training is False
        record.outputs = [out]
        self.__dict__.setdefault("_inbound", []).append(([x], out))
        return out

    def _replay(self, given, training):
        x = given[0]
        for layer in self._layers:
            x = layer(x, training=False if training is False else None)
        return x

    def _symbolic_io(self):
        """The model as a functional graph: an ff.Input of the input shape through every layer
        (made once, after build), so that ``inputs``, ``outputs`` and each layer's ``input`` /
        ``output`` exist as in Keras (e.g. ``ff.Model(model.inputs, model.layers[-2].output)``)."""
        if not self.built:
            raise AttributeError(f'Sequential model "{self.name}" has no inputs yet: start it '
                                 "with ff.Input(shape=...) or call model.build(input_shape)")
        return self._chain()

    @property
    def inputs(self):
        """The model's symbolic inputs (a list of one KerasTensor), as Keras's Sequential."""
        return list(self._symbolic_io()[0])

    @property
    def outputs(self):
        """The model's symbolic outputs (a list of one KerasTensor)."""
        return list(self._symbolic_io()[1])

    @property
    def layers(self):
        return list(self._layers)

    def build(self, input_shape=None):
        """Resolves every layer's shapes and creates the weights for ``input_shape``."""
        if input_shape is None:
            input_shape = self._input_shape
        if input_shape is None:
            raise ValueError("build() needs an input_shape, e.g. model.build((None, 784))")
        shape = tuple(input_shape)
        if self._graph_mode:
            if self.built:
                if tuple(shape[1:]) != tuple(self.input_shape[1:]):
                    self._core.check_inputs([(1,) + tuple(shape[1:])])
                return
            if not self._layers:
                raise ValueError("Sequential model has no layers: add() layers before use")
            self._input_shape = (None,) + shape[1:]
            self._rebuild_graph()
            return
        self._core.build((None,) + shape[1:])
        self._input_shape = self._core.input_shape
        if self.compiled and not self._metrics_resolved:
            self._resolve_metrics()

    @property
    def input_shape(self):
        return self._core.input_shape if self.built else self._input_shape

    @property
    def output_shape(self):
        if not self.built:
            raise ValueError(f'The model "{self.name}" is not built yet: no output shape')
        return self._core.output_shape

    @property
    def _input_names(self):
        return [self._input_name or "input_layer"]

    @property
    def _output_names(self):
        return [self._layers[-1].name if self._layers else "output"]

    def _output_activations(self):
        return [_checks.stack_activation(self._layers)]

    def _inputs_scaled_in_model(self):
        # The first layer past any augmentation (Keras's usual order puts Rescaling after it).
        kinds = [type(layer).__name__ for layer in self._layers]
        first = next((k for k in kinds if k not in _checks.AUGMENTATION_LAYERS), None)
        return [first in _checks.SCALING_LAYERS]

    def _summary_rows(self):
        rows = []
        for layer in self._layers:
            if self.built:
                rows.append((layer.name, _class_label(layer), _layer_output_shape(layer),
                             _layer_params(layer)))
            else:
                rows.append((layer.name, _class_label(layer), None, 0))
        return rows

    # ------------------------------------------------------------------ data
    def _expected_input_shapes(self):
        if self.built:
            return self._core.input_shapes
        return [self._input_shape] if self._input_shape is not None else []

    def _ensure_built(self, arrays):
        if not self.built:
            if not self._layers:
                raise ValueError(f'Model "{self.name}" has no layers')
            self.build((None,) + arrays[0].shape[1:])
        super()._ensure_built(arrays)


# Read by scripts/gen_keras_compat.py (docs/keras-compatibility.md); Sequential inherits it.
Model._keras_stricter = ("fit/evaluate/predict raise on inputs of another shape or dtype and on "
                         "targets not of the outputs' shape; nothing is reshaped or cast")


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model written by ``model.save`` (see ``forgeflow.saving.load_model``)."""
    return model_io.load_model(filepath, custom_objects=custom_objects, compile=compile,
                               safe_mode=safe_mode)


# The architectures a saved model names resolve to these (forgeflow.saving never imports models).
serialization.register_model_class("Sequential", Sequential)
serialization.register_model_class("Functional", Model)
