"""Keras-compatible layers: thin Python objects holding the C++ layer that does the work.

Arguments, defaults and names follow Keras 3 (``Dense(units, activation=None, use_bias=True,
kernel_initializer="glorot_uniform", bias_initializer="zeros")``, ...). ``input_shape=`` on the
first layer of a Sequential model works as in Keras.
"""
import math
import numbers

import numpy as np

from .. import _core, regularizers
from .._eager import eager, float32_inputs, is_eager_input
from .._keras_tensor import KerasTensor
from .._naming import snake_case, unique_name
from ..variables import layer_variables
from ..mixed_precision.policy import policy_for
from . import _custom
from ._custom import _UNTRACKED, _auto_config, _track, sublayer_key
from ._seeds import _pending_seed, _seed
from ._tracing import touch

__all__ = ["Layer", "Input", "InputLayer", "Dense", "Activation", "Flatten", "Reshape", "Dropout"]


def _check_shape_tuple(shape, what):
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"{what} must be a tuple of integers, received {shape!r}") from None
    for d in dims:
        if d is not None and (not isinstance(d, numbers.Integral) or isinstance(d, bool) or d <= 0):
            raise ValueError(f"{what} must hold positive integers or None, received {shape!r}")
    return dims


class Layer:
    """Base of every layer: the built-in ones (which create ``self._core``, the C++ layer, in
    __init__) and custom layers (subclasses that define ``call``; see docs/custom-layers.md):

        class Linear(ff.layers.Layer):
            def __init__(self, units=32, **kwargs):
                super().__init__(**kwargs)
                self.units = units
            def build(self, input_shape):
                self.w = self.add_weight(shape=(input_shape[-1], self.units))
                self.b = self.add_weight(shape=(self.units,), initializer="zeros")
            def call(self, inputs):
                return ff.ops.matmul(inputs, self.w) + self.b

    On symbolic tensors a custom layer's ``call`` runs once and becomes nodes of the model's C++
    graph (its weights graph values, ``add_loss`` values added to the loss); on arrays it runs
    eagerly, as Keras's eager mode."""

    _ff_trackable = True
    _ff_layer_base = True  # (found through the MRO by layers/_custom.py)

    def __new__(cls, *args, **kwargs):
        instance = super().__new__(cls)
        instance.__dict__["_auto_config"] = _auto_config(cls, args, kwargs)
        return instance

    def __init__(self, name=None, input_shape=None, trainable=True, dtype=None,
                 activity_regularizer=None, **kwargs):
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}() got unexpected keyword argument(s): "
                + ", ".join(sorted(kwargs))
            )
        # The dtype policy: dtype=None takes the global one (ff.mixed_precision) in force now.
        self._dtype_policy = policy_for(dtype)
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"Layer name must be a non-empty string, received {name!r}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self._input_shape_arg = (
            None if input_shape is None else (None,) + _check_shape_tuple(input_shape, "input_shape")
        )
        self._trainable = bool(trainable)
        self.activity_regularizer = regularizers.get(activity_regularizer,
                                                     "activity_regularizer")
        self._core = None
        self._calls = 0  # times called on symbolic inputs (node index of the next call)
        self.__dict__.setdefault("_tracked", [])
        self.__dict__.setdefault("_own_variables", [])
        self.__dict__.setdefault("_eager_losses", [])
        self.__dict__["_ff_init_done"] = True

    def __setattr__(self, name, value):
        if name not in _UNTRACKED and not name.startswith("_ff"):
            _track(self, value, name)
        object.__setattr__(self, name, value)

    @property
    def _core(self):
        return self.__dict__.get("_core_layer")

    @_core.setter
    def _core(self, core):
        # Subclasses create their C++ layer after this base's __init__: it gets the flag then.
        self.__dict__["_core_layer"] = core
        if core is not None:
            core.trainable = self._trainable
            core.compute_dtype = self._dtype_policy.compute_dtype
            if self.activity_regularizer is not None and not self._composite():
                self._check_activity_regularizer()

    def _composite(self):
        """True for a custom layer: no C++ layer of its own, a ``call`` written in Python."""
        return self.__dict__.get("_core_layer") is None and type(self).call is not Layer.call

    def _check_activity_regularizer(self):
        pass  # every built-in layer's output can carry one (the model adds its loss term)

    @property
    def dtype_policy(self):
        """The layer's ``ff.mixed_precision.Policy``."""
        return self._dtype_policy

    @property
    def compute_dtype(self):
        """The dtype the layer computes in (``float16``/``bfloat16`` under a mixed policy)."""
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self):
        """The dtype of the layer's weights: always ``float32``."""
        return self._dtype_policy.variable_dtype

    @property
    def dtype(self):
        """The dtype of the layer's weights, as Keras 3's ``layer.dtype``: ``float32``."""
        return self._dtype_policy.variable_dtype

    @property
    def trainable(self):
        """False freezes the layer: fit leaves its weights as they are (and a frozen
        BatchNormalization normalises with its moving statistics, as in Keras 3). Takes effect
        at the next fit, without recompiling. A custom layer passes it on to its sublayers."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        if self._core is not None:
            self._core.trainable = self._trainable
        for v in self.__dict__.get("_own_variables", []):
            v._weight_core.trainable = self._trainable
        for sub in self.__dict__.get("_tracked", []):
            sub.trainable = self._trainable

    def _sublayers(self):
        return list(self.__dict__.get("_tracked", []))

    def _flat_layers(self):
        """Every layer inside this one, recursively (the built-in ones that compute)."""
        out = []
        for sub in self._sublayers():
            out.append(sub)
            out.extend(sub._flat_layers())
        return out

    def _weight_counts(self):
        """(trainable, non-trainable) weight counts of a built layer; a frozen layer's weights
        are all non-trainable."""
        if self._composite():
            trainable = non_trainable = 0
            for v in self._own_variables:
                n = math.prod(v.shape)
                if v.trainable:
                    trainable += n
                else:
                    non_trainable += n
            for sub in self._sublayers():
                if sub.built:
                    t, n = sub._weight_counts()
                    trainable, non_trainable = trainable + t, non_trainable + n
            return trainable, non_trainable
        total, state = self._core.param_count, self._core.non_trainable_param_count
        return (total - state, state) if self._trainable else (0, total)

    @property
    def built(self):
        """True once ``build`` has fixed the layer's input shape and created its weights."""
        if self._core is None:
            return bool(self.__dict__.get("_ff_built", False))
        return self._core.built

    @built.setter
    def built(self, value):
        # Custom layers set it in their build() (Keras's idiom); built-in layers know it.
        if self._core is None:
            self.__dict__["_ff_built"] = bool(value)

    @property
    def input_shape(self):
        """The input shape the layer was built for (batch dimension None), or None if unbuilt."""
        if self._core is None:
            return self.__dict__.get("_ff_input_shape")
        return self._core.input_shape if self._core.built else None

    @property
    def output_shape(self):
        """The layer's output shape (batch dimension None), or None while unbuilt. (A custom
        layer knows it once called on symbolic tensors.)"""
        if self._core is None:
            return self.__dict__.get("_ff_output_shape")
        return self._core.output_shape if self._core.built else None

    def count_params(self):
        """The number of weights of the built layer (trainable and non-trainable)."""
        if not self.built:
            raise ValueError(
                f'You tried to call `count_params` on layer "{self.name}", but the layer isn\'t '
                "built. You can build it manually via: `layer.build(input_shape)`."
            )
        if self._core is None:
            return sum(self._weight_counts())
        return self._core.param_count

    def build(self, input_shape):
        """Creates the weights for ``input_shape`` (a tuple with the batch dimension, which may be
        None); raises ValueError naming the layer when the shape does not fit it. The weights
        exist from then on (``get_weights``/``set_weights`` work on the layer alone), and a model
        the layer is added to starts from them. A custom layer overrides it to create its weights
        with ``add_weight`` (this base version only marks it built)."""
        if self._core is None:
            self.__dict__["_ff_built"] = True
            return
        self._core.build(tuple(input_shape))
        self._core.create_weights()

    def call(self, inputs, *args, **kwargs):
        """The layer's computation, for custom layers to define (with ``ff.ops`` and other
        layers). Built-in layers compute in C++."""
        raise NotImplementedError(
            f'Layer "{self.name}" ({type(self).__name__}) has no call(): a custom layer defines '
            "call(self, inputs) with ff.ops operations and other layers")

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape`` (batch dimension None). A custom layer gets it by
        tracing its call() on a symbolic input (nothing of that trace is kept)."""
        if self._core is not None:
            return tuple(self._core.build(tuple(input_shape)) if not self._core.built
                         else self._core.output_shape)
        return _custom.trace_output_shape(self, input_shape, Input)

    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True, autocast=True,
                   regularizer=None, constraint=None, aggregation="none", name=None):
        """Creates a weight of this custom layer (Keras 3's signature and defaults: shape ()
        when None, ``initializer`` "glorot_uniform" for float weights) and returns it as an
        ``ff.Variable``. It exists at once (``.numpy()``, ``.assign()``); in a model it is a
        parameter of the C++ graph: trained by the optimizer (``trainable=False``: kept as
        state, never updated), saved with the model, its ``regularizer``'s penalty added to the
        loss. Weights are float32; ``constraint`` is not supported."""
        return _custom.add_weight(self, shape, initializer, dtype, trainable, autocast,
                                  regularizer, constraint, aggregation, name)

    def add_loss(self, loss):
        """Adds a loss: inside ``call`` on symbolic tensors a tensor computed from the inputs
        and weights (its elements summed, as Keras 3 sums them, then added to the training loss
        in the C++ step; the ``loss`` fit reports includes it); on an eager call a value kept in
        ``layer.losses``."""
        _custom.add_loss(self, loss)

    @property
    def losses(self):
        """The losses of the last call on arrays (``add_loss`` values, of this layer and its
        sublayers; reset at each top-level call) and the regularization penalties of its
        trainable weights, computed from their current values."""
        return _custom.layer_losses(self)

    def __call__(self, inputs, *args, training=None, **kwargs):
        """Calls the layer on symbolic inputs (``ff.Input`` or another layer's output) to build a
        functional model; returns the symbolic output. Shapes are checked here, so a mismatch is
        reported while the model is being defined, naming the layers involved. On arrays the
        layer computes at once."""
        if self._composite():
            return _custom.call_composite(self, inputs, args, kwargs, training)
        if self._core is None:
            raise TypeError(f'Layer "{self.name}" ({type(self).__name__}) has no C++ layer and '
                            "no call(): did its __init__ call super().__init__(...) and create "
                            "its layer?")
        if len(args) == 1 and training is None and not kwargs:
            training, args = args[0], ()  # layer(x, training) positionally
        if args or kwargs:
            raise TypeError(f'Layer "{self.name}" ({type(self).__name__}) takes one argument '
                            "(its input or list of inputs) and `training`; received "
                            f"{len(args)} more positional and {sorted(kwargs)} keyword "
                            "arguments")
        if isinstance(inputs, KerasTensor):
            parents = [inputs]
        elif (isinstance(inputs, (list, tuple)) and inputs
              and all(isinstance(t, KerasTensor) for t in inputs)):
            parents = list(inputs)
        elif is_eager_input(inputs):
            return self._call_eagerly(inputs, training)
        else:
            raise TypeError(
                f'Layer "{self.name}" was called on {type(inputs).__name__}: forgeflow layers are '
                "called on symbolic inputs (ff.Input(...) or another layer's output) to define a "
                "model, or on arrays (NumPy arrays or numbers) to compute eagerly.")
        self._check_batched(parents)
        touch(self)
        if self._core.num_inputs == 1:
            if len(parents) != 1:
                raise ValueError(f'Layer "{self.name}" ({type(self).__name__}) takes one input, '
                                 f"but was called on {len(parents)} inputs")
            shape = self._core.build(parents[0].shape)
        else:
            self._check_merge_inputs(parents)
            shape = self._core.build_multi([p.shape for p in parents])
        node_index = self._calls
        self._calls += 1
        out = KerasTensor(shape, f"{self.name}_{node_index}" if node_index else self.name,
                          history=(self, parents, node_index))
        out._batched = bool(self._core.output_batched)
        # training=False pins the call to inference mode, also while the model trains (Keras's
        # base_model(x, training=False): BatchNormalization keeps its moving statistics).
        out._inference_only = training is False
        self.__dict__.setdefault("_inbound", []).append((parents, out))
        return out

    def _check_batched(self, parents):
        """Only ff.ops operations read values without a batch axis (a custom layer's weights, or
        what is computed from them alone, or a batch statistic)."""
        for p in parents:
            if not getattr(p, "_batched", True) and type(self).__name__ != "OpLayer":
                raise ValueError(
                    f'Layer "{self.name}" ({type(self).__name__}) was called on "{p.name}" of '
                    f"shape {p.shape}, which has no batch axis (a custom layer's weight, or "
                    "computed from weights alone or over the whole batch): layers take "
                    "per-sample inputs; compute with ff.ops on such values.")

    def _only_node(self, what):
        nodes = self.__dict__.get("_inbound", [])
        if not nodes:
            raise AttributeError(f'Layer "{self.name}" has never been called and thus has no '
                                 f"defined {what}.")
        if len(nodes) > 1:
            raise AttributeError(f'Layer "{self.name}" has multiple inbound nodes (it was called '
                                 f"{len(nodes)} times), hence the notion of \"layer {what}\" is "
                                 "ill-defined.")
        return nodes[0]

    @property
    def input(self):
        """The symbolic input the layer was called on (a list for a merge layer); a layer of a
        built Sequential model gets one when the model's ``inputs`` are first asked for."""
        parents, _ = self._only_node("input")
        return parents[0] if len(parents) == 1 else list(parents)

    @property
    def output(self):
        """The symbolic output of the layer's one call (see ``input``)."""
        out = self._only_node("output")[1]
        if isinstance(out, list):
            return out[0] if len(out) == 1 else list(out)
        return out

    def _call_eagerly(self, inputs, training):
        """``layer(x)`` on arrays: builds the layer for x's shape if needed (creating its
        weights), runs its forward pass once and returns an EagerTensor. A layer of a model uses
        that model's weights; a 16-bit layer reads and returns float32 arrays (not rounded to 16
        bits as between a model's layers)."""
        who = f'Layer "{self.name}" ({type(self).__name__})'
        xs = float32_inputs(inputs, self._core.num_inputs, who)
        stream = self.__dict__.get("_eager_stream", 0)
        self.__dict__["_eager_stream"] = stream + 1  # a new dropout mask per training call
        out = eager(self._core.call_eager(xs, bool(training), stream))
        if self.activity_regularizer is not None:
            self.__dict__.setdefault("_eager_losses", []).append(
                eager(np.asarray(self.activity_regularizer(out))))
        return out

    def _check_merge_inputs(self, parents):
        """Merge layers override this to name the layers behind mismatched inputs."""

    # ---- weights (for a custom layer: its add_weight weights, then its sublayers') ----
    def get_weights(self):
        """The layer's weights as a list of NumPy arrays (kernel, bias, ...)."""
        if self._core is None:
            return [v.numpy() for v in self.weights]
        return list(self._core.get_weights())

    def set_weights(self, weights):
        """Sets the weights from NumPy arrays of exactly the current shapes (nothing is cast
        from another shape; a failed call changes nothing)."""
        if self._core is None:
            _custom.set_weights(self, weights)
            return
        self._core.set_weights([np.asarray(w, dtype=np.float32, order="C") for w in weights])

    def _param_names(self):
        """The names of get_weights()'s arrays within the layer ("kernel"; a custom layer's
        sublayers' prefixed with their name: "dense/kernel")."""
        if self._core is None:
            return _custom.param_names(self)
        return list(self._core.param_names)

    def _param_shapes(self):
        if self._core is None:
            return [tuple(v.shape) for v in self.weights]
        return [tuple(s) for s in self._core.param_shapes]

    @property
    def weights(self):
        """The layer's weights as ``ff.Variable`` objects (``.numpy()``, ``.assign()``), in the
        layer's order (kernel, bias, ...; get_weights()'s)."""
        if self._core is None:
            return _custom.weights(self)
        return layer_variables(self)

    @property
    def trainable_weights(self):
        """The weights the optimizer trains (none while the layer is frozen)."""
        return [v for v in self.weights if v.trainable]

    @property
    def non_trainable_weights(self):
        """The other weights (moving statistics; all of a frozen layer's)."""
        return [v for v in self.weights if not v.trainable]

    @property
    def variables(self):
        """Keras's alias of ``weights``."""
        return self.weights

    @property
    def trainable_variables(self):
        """Keras's alias of ``trainable_weights``."""
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        """Keras's alias of ``non_trainable_weights``."""
        return self.non_trainable_weights

    def get_config(self):
        """The layer's constructor arguments as a JSON-serialisable dict (``from_config``'s
        input; the weights are not part of it). A custom layer that does not override it gets
        the arguments it was constructed with, when they are plain data (Keras 3's auto config);
        otherwise it must override get_config to be saved in a model."""
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": self._dtype_policy.name}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        if type(self).get_config is Layer.get_config and self._core is None:
            auto = self.__dict__.get("_auto_config")
            if auto is None:
                raise NotImplementedError(
                    f'Layer "{self.name}" ({type(self).__name__}) has constructor arguments '
                    "that are not plain data (numbers, strings, lists, dicts), so its config "
                    "cannot be captured automatically: override get_config() to return them "
                    "(and from_config() to rebuild the layer from them).")
            config.update(auto)
        return config

    @classmethod
    def from_config(cls, config):
        """A new layer from ``get_config()``'s output (the weights are not part of it)."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _activation_name(activation):
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        return activation
    name = getattr(activation, "__name__", None)
    if name and getattr(activation, "__module__", "").startswith("forgeflow"):
        return name
    raise TypeError(
        "activation must be one of the built-in activation names (e.g. 'relu') or a "
        f"forgeflow.activations function, received {activation!r}"
    )


def _initializer_name(init, what):
    if isinstance(init, str):
        return init
    name = getattr(init, "_keras_name", None)
    if name:
        return name
    raise TypeError(f"{what} must be an initializer name such as 'glorot_uniform', received {init!r}")


def _refuse_constraints(cls, **constraints):
    for arg, value in constraints.items():
        if value is not None:
            raise ValueError(f"{cls}: {arg} is not supported; leave it None (received "
                             f"{arg}={value!r})")


def _weight_regularizers(layer, **by_param):
    """Sets the layer's weight regularizers: ``by_param`` maps a C++ weight name ("kernel") to
    (argument name, value); each value goes through ff.regularizers.get, is kept as the
    attribute of its argument's name (and in get_config), and its factors go to the C++ layer,
    which adds the penalty to the loss in the training step."""
    layer.__dict__["_ff_regularizer_args"] = []
    for param, (arg, value) in by_param.items():
        reg = regularizers.get(value, arg)
        object.__setattr__(layer, arg, reg)
        layer.__dict__["_ff_regularizer_args"].append(arg)
        if param == "bias" and not getattr(layer, "use_bias", True):
            continue  # no bias to regularize (Keras leaves the argument unused too)
        if reg is not None:
            l1, l2 = reg.factors()
            layer._core.set_weight_regularizer(param, l1, l2)


def _regularizer_config(layer):
    return {arg: regularizers.serialize(getattr(layer, arg))
            for arg in layer.__dict__.get("_ff_regularizer_args", [])}


class Dense(Layer):
    """Densely connected layer: ``activation(dot(x, kernel) + bias)`` over the last axis.
    ``kernel_regularizer`` / ``bias_regularizer`` / ``activity_regularizer`` take
    ff.regularizers (their penalty is part of the C++ training step's loss)."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        _refuse_constraints("Dense", kernel_constraint=kernel_constraint,
                            bias_constraint=bias_constraint)
        if not isinstance(units, numbers.Integral) or isinstance(units, bool) or units <= 0:
            raise ValueError(
                "Received an invalid value for `units`, expected a positive integer. "
                f"Received: units={units!r}"
            )
        self.units = int(units)
        self.activation = _activation_name(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _initializer_name(kernel_initializer, "kernel_initializer")
        self.bias_initializer = _initializer_name(bias_initializer, "bias_initializer")
        self._core = _core.Dense(self.name, _seed(), self.units, self.activation, self.use_bias,
                                 self.kernel_initializer, self.bias_initializer)
        _weight_regularizers(self, kernel=("kernel_regularizer", kernel_regularizer),
                             bias=("bias_regularizer", bias_regularizer))

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "use_bias": self.use_bias, "kernel_initializer": self.kernel_initializer,
                "bias_initializer": self.bias_initializer, **_regularizer_config(self)}


class Activation(Layer):
    """Applies an activation function to its input."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = _activation_name(activation)
        self._core = _core.Activation(self.name, _seed(), self.activation)

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}


class Flatten(Layer):
    """Flattens every sample to one axis: (N, d1, d2, ...) -> (N, d1*d2*...). No copy."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"Flatten: only data_format='channels_last' is supported, received {data_format!r}")
        self._core = _core.Flatten(self.name, _seed())

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last"}


class Reshape(Layer):
    """Reshapes every sample to ``target_shape`` (one entry may be -1). No copy."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            self.target_shape = tuple(int(d) for d in target_shape)
        except (TypeError, ValueError):
            raise TypeError(f"Reshape target_shape must be a tuple of integers, received {target_shape!r}") from None
        self._core = _core.Reshape(self.name, _seed(), self.target_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Dropout(Layer):
    """Randomly zeroes inputs with probability ``rate`` during training (scaled by 1/(1-rate));
    the identity at inference. Seeded: ``seed=`` or the global seed (ff.utils.set_random_seed)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if noise_shape is not None:
            raise ValueError("Dropout: noise_shape is not supported yet; leave it None")
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
            raise ValueError(
                "Invalid value received for argument `rate`. Expected a float value between 0 "
                f"and 1. Received: rate={rate!r}"
            )
        self.rate = float(rate)
        self.seed = seed
        core_seed = _seed() if seed is None else int(seed) & 0xFFFFFFFFFFFFFFFF
        self._core = _core.Dropout(self.name, core_seed, self.rate)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class InputLayer:
    """Declares the model's input shape (first element of a Sequential model)."""

    def __init__(self, shape=None, batch_size=None, dtype=None, name=None, input_shape=None):
        if shape is None:
            shape = input_shape
        if shape is None:
            raise ValueError("InputLayer needs a `shape`, e.g. InputLayer(shape=(28, 28))")
        self.dtype = _input_dtype(dtype)
        if isinstance(shape, numbers.Integral):
            shape = (shape,)
        self.shape = (batch_size,) + _check_shape_tuple(shape, "Input shape")
        values = math.prod(d for d in self.shape[1:] if d is not None)
        if values > _core.MAX_SAMPLE_ELEMENTS:  # the core's per-sample limit (core/shape.h)
            raise ValueError(f"Input shape {tuple(shape)} has {values} values per sample; the "
                             f"limit is {_core.MAX_SAMPLE_ELEMENTS} (2^31 - 1)")
        self.name = name or unique_name("input_layer")
        self.output = KerasTensor(self.shape, self.name, input_layer=self, dtype=self.dtype)

    def get_config(self):
        """``{"batch_shape": [None, ...], "dtype": ..., "name": ...}``, as Keras 3 writes it."""
        return {"batch_shape": list(self.shape), "dtype": self.dtype, "name": self.name}

    @classmethod
    def from_config(cls, config):
        """An InputLayer from ``get_config()``'s output."""
        config = dict(config)
        batch_shape = list(config.pop("batch_shape"))
        return cls(shape=tuple(batch_shape[1:]), batch_size=batch_shape[0], **config)


# Input dtypes: float32 (the default) feeds any layer; "string", "int64" and "int32" columns are
# for lookup layers (StringLookup / IntegerLookup), which the model applies host-side.
_INPUT_DTYPES = {"float32": "float32", "string": "string", "str": "string", "object": "string",
                 "int64": "int64", "int32": "int32"}


def _input_dtype(dtype):
    if dtype is None:
        return "float32"
    key = dtype
    if not isinstance(dtype, str):
        try:
            key = np.dtype(dtype).name
        except TypeError:
            key = getattr(dtype, "name", repr(dtype))
        if key.startswith("str"):
            key = "string"
    if key not in _INPUT_DTYPES:
        raise ValueError(f"Input: dtype must be 'float32', 'string', 'int64' or 'int32', received "
                         f"{dtype!r}. (Other float types are converted to float32 when data is "
                         "fed; use float32 here.)")
    return _INPUT_DTYPES[key]


def Input(shape=None, batch_size=None, dtype=None, name=None):
    """``ff.Input(shape=(28, 28))``: a symbolic input for the first position of a Sequential."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name).output
