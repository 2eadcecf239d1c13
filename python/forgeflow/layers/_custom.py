"""The custom-layer half of ``ff.layers.Layer`` (docs/custom-layers.md): ``add_weight``,
``add_loss``, ``losses``, the weights of a layer made of its own weights and its sublayers', and
its calls, on symbolic tensors (traced into graph nodes, layers/_tracing.py) and on arrays
(``call`` run eagerly, as Keras's eager mode)."""
import inspect
import json
import math
import numbers
import threading

import numpy as np

from .. import _core, regularizers
from .._eager import eager
from .._keras_tensor import KerasTensor
from ..variables import Variable, weight_variable
from ._seeds import _seed
from ._tracing import (Trace, call_takes, current_trace, flatten, output_name, pack_like, touch,
                       trace_composite)

__all__ = ["add_weight", "add_loss", "layer_losses", "call_composite", "weights", "set_weights",
           "param_names", "trace_output_shape", "build_if_needed"]

# Attributes of Layer's own bookkeeping: never tracked as sublayers.
_UNTRACKED = frozenset({"_core", "_tracked", "_own_variables", "_eager_losses", "_inbound",
                        "_calls", "_auto_config", "_eager_stream"})


def _is_trackable(value):
    return getattr(type(value), "_ff_trackable", False)


def _track(owner, value, name):
    """Keras's attribute tracking: a layer (or model) assigned to an attribute of a layer, alone
    or in a list/tuple, becomes one of its sublayers (its weights are the outer layer's, saved
    under the attribute's name: "dense_proj/kernel", "blocks/0/kernel")."""
    listed = isinstance(value, (list, tuple))
    for i, item in enumerate(value if listed else (value,)):
        if _is_trackable(item) and item is not owner:
            tracked = owner.__dict__.setdefault("_tracked", [])
            if not any(t is item for t in tracked):
                tracked.append(item)
                owner.__dict__.setdefault("_tracked_keys", {})[id(item)] = (
                    f"{name}/{i}" if listed else name)


def sublayer_key(owner, layer):
    """The name a sublayer's weights are saved under: its attribute's (stable across a
    re-creation, where a layer's own auto-numbered name is not)."""
    return owner.__dict__.get("_tracked_keys", {}).get(id(layer), layer.name)


def _auto_config(cls, args, kwargs):
    """The constructor arguments as a JSON-serialisable dict (Keras 3's auto config), or None
    when they cannot be captured (positional varargs, objects)."""
    try:
        sig = inspect.signature(cls.__init__)
        bound = sig.bind_partial(None, *args, **kwargs)
    except (TypeError, ValueError):
        return None
    config = {}
    params = sig.parameters
    for name, value in list(bound.arguments.items())[1:]:
        kind = params[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                return None
        elif kind is inspect.Parameter.VAR_KEYWORD:
            config.update(value)
        else:
            config[name] = value
    try:
        json.dumps(config)
    except (TypeError, ValueError):
        return None
    return config


def _layer_base(layer):
    """ff.layers.Layer (found through the layer's classes: this module does not import it)."""
    return next(c for c in type(layer).__mro__ if c.__dict__.get("_ff_layer_base"))


_eager_state = threading.local()
_AGGREGATIONS = ("none", "mean", "sum", "only_first_replica")


# ---------------------------------------------------------------------------------- weights
def _weight_shape(shape, who):
    if shape is None:
        return ()
    try:
        dims = tuple(shape)
    except TypeError:
        dims = (shape,)
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (numbers.Integral, np.integer)) or d < 0:
            raise ValueError(f"{who}: a weight's shape must hold non-negative integers, received "
                             f"shape={shape!r}")
    return tuple(int(d) for d in dims)


def add_weight(layer, shape, initializer, dtype, trainable, autocast, regularizer, constraint,
               aggregation, name):
    cls = type(layer).__name__
    if not layer.__dict__.get("_ff_init_done"):
        raise RuntimeError(f"You forgot to call `super().__init__()` as the first statement in "
                           f"the `__init__()` method of {cls}: add_weight needs it.")
    who = f'Layer "{layer.name}" ({cls}).add_weight'
    if layer._core is not None:
        raise TypeError(f"{who}: a built-in layer's weights are made in C++; add_weight is for "
                        "custom layers (subclasses of ff.layers.Layer that define call())")
    shape = _weight_shape(shape, who)
    if dtype is not None and str(getattr(dtype, "name", dtype)) != "float32":
        raise ValueError(f"{who}: forgeflow's weights are float32, received dtype={dtype!r} "
                         "(a mixed-precision layer computes with float32 weights too)")
    if initializer is None:
        initializer = "glorot_uniform"  # Keras 3's default for float weights
    if isinstance(initializer, str):
        init_name = initializer
    else:
        init_name = getattr(initializer, "_keras_name", None)
        if init_name is None:
            raise TypeError(f"{who}: initializer must be a Keras initializer name such as "
                            f"'glorot_uniform', 'zeros', 'random_normal'; received "
                            f"{initializer!r} (a value can be set afterwards with "
                            "variable.assign(...))")
    if constraint is not None:
        raise ValueError(f"{who}: constraint is not supported; leave it None (received "
                         f"constraint={constraint!r})")
    if aggregation not in _AGGREGATIONS:
        raise ValueError(f"{who}: aggregation must be one of {_AGGREGATIONS}, received "
                         f"{aggregation!r}")
    own = layer.__dict__.setdefault("_own_variables", [])
    taken = {v.name for v in own}
    if name is None:
        name, k = "variable", 0
        while name in taken:
            k += 1
            name = f"variable_{k}"
    elif not isinstance(name, str) or not name or "/" in name:
        raise ValueError(f"{who}: name must be a non-empty string without '/', received "
                         f"{name!r}")
    elif name in taken:
        raise ValueError(f'{who}: the layer already has a weight named "{name}"; weight names '
                         "are unique within a layer (they key its saved values)")
    reg = regularizers.get(regularizer, "regularizer")
    l1, l2 = reg.factors() if reg is not None else (0.0, 0.0)
    core = _core.Weight(f"{layer.name}/{name}", _seed(), name, shape, init_name,
                        bool(trainable), l1, l2)
    core.trainable = layer.trainable
    core.create_weights()
    variable = weight_variable(layer, core, name, shape, bool(trainable), reg)
    own.append(variable)
    return variable


def weights(layer):
    """A custom layer's weights in Keras 3's order: its own trainable ones, its own
    non-trainable ones (each in creation order), then its sublayers'."""
    own = layer.__dict__.get("_own_variables", [])
    out = [v for v in own if v._trainable] + [v for v in own if not v._trainable]
    for sub in layer._sublayers():
        out.extend(sub.weights)
    return out


def param_names(layer):
    own = layer.__dict__.get("_own_variables", [])
    names = [v.name for v in own if v._trainable] + [v.name for v in own if not v._trainable]
    for sub in layer._sublayers():
        key = sublayer_key(layer, sub)
        names.extend(f"{key}/{n}" for n in sub._param_names())
    return names


def set_weights(layer, arrays):
    """Sets every weight (get_weights()'s order), every shape checked before anything
    changes."""
    arrays = list(arrays)
    expected = layer._param_shapes()
    if len(arrays) != len(expected):
        raise ValueError(f'Layer "{layer.name}" expects {len(expected)} weights, but the given '
                         f"list has {len(arrays)} elements")
    arrays = [np.asarray(a, dtype=np.float32) for a in arrays]
    for i, (a, shape) in enumerate(zip(arrays, expected)):
        if a.shape != tuple(shape):
            raise ValueError(f'Layer "{layer.name}" weight {i} ({layer._param_names()[i]}) has '
                             f"shape {tuple(shape)}; received shape {a.shape}")
    own = layer.__dict__.get("_own_variables", [])
    ordered = [v for v in own if v._trainable] + [v for v in own if not v._trainable]
    for v, a in zip(ordered, arrays):
        v.assign(a)
    pos = len(ordered)
    for sub in layer._sublayers():
        n = len(sub._param_shapes())
        if n:
            sub.set_weights(arrays[pos:pos + n])
        pos += n


# ---------------------------------------------------------------------------------- losses
def add_loss(layer, loss):
    trace = current_trace()
    if isinstance(loss, Variable) and loss._tracing():
        loss = loss._symbolic()
    if isinstance(loss, KerasTensor):
        if trace is None:
            raise ValueError(
                f'Layer "{layer.name}": add_loss received the symbolic tensor {loss.name} '
                "outside a call(). Add losses from inside a custom layer's (or a subclassed "
                "model's) call(), where they become part of the model's training loss.")
        trace.losses.append((loss, layer))
        return
    if trace is not None:
        raise TypeError(
            f'Layer "{layer.name}": add_loss in a call() traced on symbolic tensors takes a tensor '
            f"computed with ff.ops from the inputs or weights; received {type(loss).__name__} "
            "(a constant adds nothing to learn from)")
    if callable(loss):
        raise TypeError(f'Layer "{layer.name}": add_loss takes a value, not a callable '
                        "(Keras 3 dropped zero-argument loss functions)")
    value = np.asarray(loss)
    if value.dtype.kind not in "biuf":
        raise TypeError(f'Layer "{layer.name}": add_loss takes numbers, received a value of '
                        f"dtype {value.dtype}")
    layer.__dict__.setdefault("_eager_losses", []).append(eager(value.astype(np.float32)))


def _regularization_losses(layer, out):
    own = layer.__dict__.get("_own_variables", [])
    for v in own:
        if v.regularizer is not None and v.trainable:
            out.append(eager(np.asarray(v.regularizer(v.numpy()), dtype=np.float32)))
    core = layer._core if hasattr(type(layer), "_core") else None
    if core is not None and core.built and layer.trainable:
        factors = core.param_regularizers
        if any(l1 or l2 for l1, l2 in factors):
            arrays = layer.get_weights()
            trainable = core.param_trainable
            for (l1, l2), a, t in zip(factors, arrays, trainable):
                if (l1 or l2) and t:
                    reg = regularizers.L1L2(l1=l1, l2=l2)
                    out.append(eager(np.asarray(reg(a), dtype=np.float32)))


def layer_losses(layer):
    out = []
    seen = set()

    def visit(l):
        if id(l) in seen:
            return
        seen.add(id(l))
        out.extend(l.__dict__.get("_eager_losses", []))
        _regularization_losses(l, out)
        for sub in l._sublayers():
            visit(sub)
    visit(layer)
    return out


def _clear_losses(layer, seen=None):
    seen = set() if seen is None else seen
    if id(layer) in seen:
        return
    seen.add(id(layer))
    layer.__dict__["_eager_losses"] = []
    for sub in layer._sublayers():
        _clear_losses(sub, seen)


# ---------------------------------------------------------------------------------- calls
def _shape_struct(value):
    if isinstance(value, (list, tuple)):
        return type(value)(_shape_struct(v) for v in value) if not hasattr(value, "_fields") \
            else [_shape_struct(v) for v in value]
    shape = getattr(value, "shape", None)
    if shape is not None:
        return tuple(shape)
    return tuple(np.shape(value))


def build_if_needed(layer, shapes):
    """Keras's first-call build: ``layer.build(input_shape)`` (the shape with its batch
    dimension; a list of shapes for a list of inputs), then the layer counts as built."""
    if layer.built:
        return
    if type(layer).build is not _layer_base(layer).build:
        layer.build(shapes)
    layer.__dict__["_ff_built"] = True
    layer.__dict__["_ff_input_shape"] = shapes


def _is_array_leaf(value):
    """A leaf of an eager call's inputs: an array or a number, or a nested list of numbers
    (array data), as opposed to a list of arrays (several inputs)."""
    if isinstance(value, (np.ndarray, numbers.Number, Variable)):
        return True
    if isinstance(value, (list, tuple)) and value:
        return all(isinstance(v, numbers.Number) or
                   (isinstance(v, (list, tuple)) and _is_array_leaf(v)) for v in value)
    return False


def _eager_inputs(value, who):
    if _is_array_leaf(value):
        if isinstance(value, Variable):
            return value
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{who} was called on a value of dtype {array.dtype}; expected "
                            "numbers")
        return array.astype(np.float32) if array.dtype == np.float64 else array
    if isinstance(value, (list, tuple)):
        return type(value)(_eager_inputs(v, who) for v in value)
    raise TypeError(f"{who} was called on {type(value).__name__}: call a layer on symbolic "
                    "tensors (ff.Input or another layer's output) to define a model, or on "
                    "arrays to compute at once")


def _eagerize(value):
    if isinstance(value, np.ndarray):
        return eager(value)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_eagerize(v) for v in value)
    if isinstance(value, numbers.Number):
        return eager(np.asarray(value, dtype=np.float32))
    return value


def _call_eager(layer, inputs, args, kwargs, training):
    who = f'Layer "{layer.name}" ({type(layer).__name__})'
    inputs = _eager_inputs(inputs, who)
    build_if_needed(layer, _shape_struct(inputs))
    depth = getattr(_eager_state, "depth", 0)
    if depth == 0:  # losses are those of the last top-level call (Keras)
        _clear_losses(layer)
    kw = dict(kwargs)
    if training is not None and call_takes(layer.call, "training"):
        kw["training"] = training
    _eager_state.depth = depth + 1
    try:
        out = layer.call(inputs, *args, **kw)
    finally:
        _eager_state.depth = depth
    if layer.activity_regularizer is not None:
        for leaf in flatten(out) if isinstance(out, (list, tuple)) else [out]:
            layer.__dict__.setdefault("_eager_losses", []).append(
                eager(np.asarray(layer.activity_regularizer(np.asarray(leaf)), np.float32)))
    return _eagerize(out)


def _check_output_shape(layer, input_shapes, outputs):
    """A custom layer's own compute_output_shape must agree with the traced call's shapes."""
    if type(layer).compute_output_shape is _layer_base(layer).compute_output_shape:
        return
    declared = layer.compute_output_shape(input_shapes)
    shapes = [tuple(t.shape) for t in outputs]
    if isinstance(declared, tuple) and all(d is None or isinstance(d, numbers.Integral)
                                           for d in declared):
        declared = [declared]
    elif isinstance(declared, (list, tuple)) and all(isinstance(d, (list, tuple))
                                                     for d in declared):
        declared = [tuple(d) for d in declared]
    else:
        return  # not a shape we can compare (a dict, a spec object): not checked
    ok = len(declared) == len(shapes) and all(
        len(d) == len(s) and all(a is None or b is None or a == b for a, b in zip(d, s))
        for d, s in zip(declared, shapes))
    if not ok:
        raise ValueError(
            f'Layer "{layer.name}" ({type(layer).__name__}): compute_output_shape returns '
            f"{declared if len(declared) > 1 else declared[0]} for input shape {input_shapes}, "
            f"but call() computes {shapes if len(shapes) > 1 else shapes[0]}; they must agree")


def _call_symbolic(layer, inputs, flat, args, kwargs, training):
    touch(layer)
    shapes = _shape_struct(inputs)
    build_if_needed(layer, shapes)
    branches = call_takes(layer.call, "training")

    def run_call(structured, tr):
        kw = dict(kwargs)
        if branches:
            kw["training"] = tr
        return layer.call(structured, *args, **kw)

    record = trace_composite(layer, inputs, flat, training, run_call, branches)
    inner = record.traces[0].outputs
    _check_output_shape(layer, shapes, inner)
    node_index = layer.__dict__.get("_calls", 0)
    layer.__dict__["_calls"] = node_index + 1
    outs = []
    for k, t in enumerate(inner):
        o = KerasTensor(t.shape, output_name(layer, node_index, k, len(inner)),
                        history=(layer, list(flat), node_index), dtype=t.dtype)
        o._batched = t._batched
        o._call = record
        o._output_index = k
        o._inference_only = training is False
        outs.append(o)
    record.outputs = outs
    layer.__dict__.setdefault("_inbound", []).append(
        (list(flat), outs[0] if len(outs) == 1 else list(outs)))
    if "_ff_output_shape" not in layer.__dict__:
        layer.__dict__["_ff_output_shape"] = (tuple(outs[0].shape) if len(outs) == 1
                                              else [tuple(o.shape) for o in outs])
    return pack_like(record.traces[0].structure, outs)


def call_composite(layer, inputs, args, kwargs, training):
    flat = flatten(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    flat = [v._symbolic() if isinstance(v, Variable) and v._tracing() else v for v in flat]
    symbolic = [isinstance(t, KerasTensor) for t in flat]
    if any(symbolic):
        if not all(symbolic):
            bad = next(type(t).__name__ for t, s in zip(flat, symbolic) if not s)
            raise TypeError(f'Layer "{layer.name}" ({type(layer).__name__}) was called on '
                            f"symbolic tensors mixed with {bad}: every input of a call on "
                            "symbolic tensors must be one (compute constants with ff.ops inside "
                            "call())")
        inputs = pack_like(inputs, flat) if isinstance(inputs, (list, tuple)) else flat[0]
        return _call_symbolic(layer, inputs, flat, args, kwargs, training)
    return _call_eager(layer, inputs, args, kwargs, training)


def trace_output_shape(layer, input_shape, Input):
    """A custom layer's output shape for ``input_shape``, from a trace nothing is kept of
    (``Input``: ff.Input)."""
    shape = tuple(input_shape)
    with Trace(None) as scratch:
        x = Input(shape=shape[1:], batch_size=shape[0])
        out = layer(x)
    scratch.undo()
    flat = flatten(out) if isinstance(out, (list, tuple)) else [out]
    return tuple(flat[0].shape) if len(flat) == 1 else [tuple(t.shape) for t in flat]


def count(shape):
    return math.prod(shape)
