"""Tracing a custom layer's (or a model's) ``call`` into graph nodes (docs/custom-layers.md).

When a custom layer (a subclass of ``ff.layers.Layer`` with a ``call``) or a model is called on
symbolic tensors, its ``call`` runs once, in Python, on *placeholders* standing for those
tensors: every ``ff.ops`` operation and every layer it calls becomes a node, its weights
(``add_weight``) become graph values, ``add_loss`` records a loss tensor. The result is a
``CompositeCall``: one node of the outer model's Python graph (one row of its summary, one
entry of its saved config) that the C++ graph receives expanded (``forgeflow._graph``), so the
training step stays in C++ with no Python per step.

A ``call`` that takes a ``training`` argument may branch on it (``if training: x =
dropout(x)``): it is a Python value. So such a call is traced twice, with ``training=True`` and
``training=False``; when both traces build the same graph (the usual case: ``training`` is only
passed on to inner layers) one is kept, whose nodes behave per pass as every layer does;
otherwise both are kept and the model runs each in its own passes (C++ ``NodeMode`` and
``ModeSelect``). Everything the discarded trace did to the layers it called (their call
counters and inbound nodes) is undone.
"""
import inspect
import json
import threading

from .._keras_tensor import KerasTensor
from .._naming import unique_name

__all__ = ["Trace", "CompositeCall", "tracing", "current_trace", "touch", "call_takes",
           "trace_composite", "flatten", "pack_like"]

_state = threading.local()


def _stack():
    stack = getattr(_state, "stack", None)
    if stack is None:
        stack = _state.stack = []
    return stack


def tracing():
    """True while a call() is being traced (weights then read as graph values)."""
    return bool(_stack())


def current_trace():
    stack = _stack()
    return stack[-1] if stack else None


def touch(layer):
    """Records, in every trace being built, a layer's call counter and inbound nodes before a
    call changes them, so that a discarded trace can restore them."""
    for trace in _stack():
        if id(layer) not in trace.touched:
            inbound = layer.__dict__.get("_inbound")
            trace.touched[id(layer)] = (layer, layer.__dict__.get("_calls", 0),
                                        None if inbound is None else len(inbound))


class Trace:
    """One run of ``call`` on placeholders: its placeholders, flat outputs and their structure,
    the loss tensors it added (with the layer that added each), and the ``training`` value it
    ran with."""

    def __init__(self, training):
        self.training = training
        self.placeholders = []
        self.outputs = []
        self.structure = None
        self.losses = []  # (tensor, layer)
        self.touched = {}

    def __enter__(self):
        _stack().append(self)
        return self

    def __exit__(self, *exc):
        stack = _stack()
        stack.remove(self)
        return False

    def undo(self):
        """Restores the call counters and inbound nodes of the layers this trace called."""
        for layer, calls, inbound in self.touched.values():
            layer.__dict__["_calls"] = calls
            if inbound is None:
                layer.__dict__.pop("_inbound", None)
            else:
                del layer.__dict__["_inbound"][inbound:]


class CompositeCall:
    """One call of a composite (a custom layer, or a model used as a layer) on symbolic
    tensors: the outer ``parents``, and one trace (``traces[0]``: one graph for both kinds of
    pass) or two (``traces[0]`` for training passes, ``traces[1]`` for inference ones).
    ``pinned``: called with ``training=False`` (every pass runs it in inference mode)."""

    def __init__(self, owner, parents, pinned):
        self.owner = owner
        self.parents = parents
        self.pinned = pinned
        self.traces = []
        self.outputs = []  # the outer KerasTensors

    @property
    def paired(self):
        return len(self.traces) == 2


# ---------------------------------------------------------------------------------- structures
def flatten(struct):
    """The KerasTensors / values of a nested list or tuple, in order (a leaf is itself)."""
    if isinstance(struct, (list, tuple)):
        out = []
        for s in struct:
            out.extend(flatten(s))
        return out
    return [struct]


def pack_like(struct, flat):
    """``flat`` (an iterator or list) rebuilt in the nesting of ``struct``."""
    it = iter(flat)

    def build(s):
        if isinstance(s, (list, tuple)):
            return type(s)(build(x) for x in s) if not hasattr(s, "_fields") else \
                type(s)(*(build(x) for x in s))
        return next(it)
    return build(struct)


def call_takes(fn, name):
    """Whether ``fn`` accepts the keyword ``name`` (explicitly)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params


# ---------------------------------------------------------------------------------- signatures
def _op_key(layer):
    cfg = layer.get_config()
    return json.dumps({"op": cfg.get("op"), "arguments": cfg.get("arguments"),
                       "operands": cfg.get("operands")}, sort_keys=True, default=str)


def signature(trace, entries=None, flags=None):
    """The trace's graph as comparable entries (layers by identity, ops by configuration,
    weights by identity, inputs by position) and the inference flags of its nodes (kept apart:
    a node pinned only in the inference trace behaves the same as an unpinned one)."""
    entries = [] if entries is None else entries
    flags = [] if flags is None else flags
    index = {id(p): ("placeholder", i) for i, p in enumerate(trace.placeholders)}
    roots = list(trace.outputs) + [t for t, _ in trace.losses]
    order, seen = [], set(index)
    stack = [(t, False) for t in reversed(roots)]
    while stack:
        t, expanded = stack.pop()
        if id(t) in seen:
            continue
        history = getattr(t, "_history", None)
        if history is None or expanded:
            seen.add(id(t))
            order.append(t)
            continue
        stack.append((t, True))
        for p in reversed(history[1]):
            if id(p) not in seen:
                stack.append((p, False))
    for t in order:
        history = getattr(t, "_history", None)
        weight = getattr(t, "_weight", None)
        if weight is not None:
            key = ("weight", id(weight))
        elif history is None:
            key = ("outside", id(t))
        else:
            layer, parents, _ = history
            call = getattr(t, "_call", None)
            refs = tuple(index[id(p)] for p in parents)
            if call is not None:
                sub_entries = []
                flags.append(call.pinned)
                for sub in call.traces:
                    signature(sub, sub_entries, flags)
                key = ("composite", id(layer), refs, len(call.traces), tuple(sub_entries),
                       getattr(t, "_output_index", 0))
            elif type(layer).__name__ == "OpLayer":
                key = ("op", _op_key(layer), refs)
                flags.append(getattr(t, "_inference_only", False))
            else:
                key = ("layer", id(layer), refs)
                flags.append(getattr(t, "_inference_only", False))
        index[id(t)] = ("node", len(entries))
        entries.append(key)
    entries.append(("outputs", tuple(index[id(t)] for t in trace.outputs)))
    entries.append(("losses", tuple((index[id(t)], id(l)) for t, l in trace.losses)))
    return entries, flags


def equivalent(train, infer):
    """True when the two traces build the same graph, the inference one pinning at most the
    nodes the training one leaves to the pass (so the training trace serves both)."""
    e1, f1 = signature(train)
    e2, f2 = signature(infer)
    return e1 == e2 and len(f1) == len(f2) and all(b or not a for a, b in zip(f1, f2))


# ---------------------------------------------------------------------------------- tracing
def _placeholders(parents, trace, record):
    out = []
    for i, p in enumerate(parents):
        ph = KerasTensor(p.shape, f"{record.owner.name}/input_{i}", dtype=p.dtype)
        ph._batched = getattr(p, "_batched", True)
        ph._outer = p
        ph._call = record
        out.append(ph)
    trace.placeholders = out
    return out


def _run(record, inputs, flat_parents, run_call, training, pass_training):
    trace = Trace(training)
    with trace:
        placeholders = _placeholders(flat_parents, trace, record)
        args = pack_like(inputs, placeholders)
        result = run_call(args, training)
    flat = flatten(result) if isinstance(result, (list, tuple)) else [result]
    for k, t in enumerate(flat):
        if not isinstance(t, KerasTensor):
            raise TypeError(
                f'Layer "{record.owner.name}" ({type(record.owner).__name__}): call() returned '
                f"{type(t).__name__} as output {k} when called on symbolic tensors; it must "
                "return tensors computed from its inputs (and weights) with ff.ops and layers")
    trace.outputs = flat
    trace.structure = result
    return trace


def trace_composite(owner, inputs, flat_parents, training, run_call, branches):
    """Traces ``run_call(args, training)`` for the composite ``owner`` called on
    ``flat_parents`` (the KerasTensors of ``inputs``): once when ``training`` is False (pinned)
    or when ``branches`` is False (the call cannot see ``training``), else twice (see the
    module docstring). Returns the CompositeCall (its outer outputs not yet made)."""
    record = CompositeCall(owner, list(flat_parents), training is False)
    if training is False or not branches:
        record.traces = [_run(record, inputs, flat_parents, run_call,
                              False if training is False else None, branches)]
        return record
    train = _run(record, inputs, flat_parents, run_call, True, True)
    try:
        infer = _run(record, inputs, flat_parents, run_call, False, True)
    except Exception:
        train.undo()
        raise
    if equivalent(train, infer):
        infer.undo()
        record.traces = [train]
    else:
        shapes = [tuple(t.shape) for t in train.outputs], [tuple(t.shape) for t in infer.outputs]
        if shapes[0] != shapes[1]:
            infer.undo()
            train.undo()
            raise ValueError(
                f'Layer "{owner.name}" ({type(owner).__name__}): call() returns outputs of '
                f"shapes {shapes[0]} with training=True but {shapes[1]} with training=False; "
                "both modes must give the same shapes")
        record.traces = [train, infer]
    return record


def output_name(owner, node_index, k, count):
    base = owner.name if node_index == 0 else f"{owner.name}_{node_index}"
    return base if count == 1 else f"{base}_{k}" if k else base


def select_name(owner):
    return unique_name(f"{owner.name}_mode_select")
