"""The C++ graph of a model from its symbolic tensors: every layer call a node, every composite
call (a custom layer, or a model used as a layer; layers/_tracing.py) expanded into the nodes of
its traced call, its weights added once each as graph values, its ``add_loss`` tensors and the
layers' activity regularizers added as loss terms of the C++ step.

A composite traced once for each kind of pass (its call branches on ``training``) puts the
training trace's nodes in training passes only, the inference trace's in inference passes
only, and joins each output with a ``ModeSelect`` node; nested inside one trace of an outer such
call, only the inner trace of the same kind is emitted.

The walk is iterative (no Python recursion limit on deep graphs) and emits each tensor once:
nodes are added to the core in a topological order, the order that fixes the layout of the
model's parameter buffer (the same graph always gives the same order)."""
from . import _core
from .layers._tracing import select_name

__all__ = ["GraphEmitter", "ALWAYS", "TRAIN", "INFER"]

ALWAYS, TRAIN, INFER = "always", "train", "infer"


def _combine(outer, inner):
    """The passes a node of mode `inner` inside a context of mode `outer` runs in (None:
    never)."""
    if outer == ALWAYS:
        return inner
    if inner in (ALWAYS, outer):
        return outer
    return None


class GraphEmitter:
    """Adds the graph behind symbolic tensors to a C++ model (``_core.Model``), once per
    tensor; ``inputs`` are the model's input tensors (added first, in order)."""

    def __init__(self, core, inputs):
        self.core = core
        self.values = {}
        self._keep = []  # the emitted tensors (their ids key `values`)
        for t in inputs:
            self.values[id(t)] = core.add_input(t.shape)
            self._keep.append(t)
        self._weights = {}       # id(C++ Weight) -> value
        self._call_modes = {}    # id(CompositeCall) -> the mode of the context it expanded in
        self._pending = []       # expanded calls whose losses are still to add
        self.loss_terms = 0

    # ------------------------------------------------------------------ public
    def emit(self, outputs):
        """The values of `outputs` (a list of tensors), with every loss term their graph
        carries."""
        values = [self.value(t, ALWAYS) for t in outputs]
        self.flush_losses()
        return values

    def value(self, root, mode=ALWAYS, pinned=False):
        """The value of `root`, emitted in passes of `mode`; `pinned`: inside a call made with
        training=False, so every node runs in inference mode (as Keras's call context passes
        training=False to every layer inside)."""
        stack = [(root, (mode, pinned), False)]
        while stack:
            t, ctx, ready = stack.pop()
            if id(t) in self.values:
                continue
            deps = self._deps(t, ctx)
            missing = [(d, dc) for d, dc in deps if id(d) not in self.values]
            if missing and not ready:
                stack.append((t, ctx, True))
                stack.extend((d, dc, False) for d, dc in reversed(missing))
                continue
            self.values[id(t)] = self._make(t, ctx, deps)
            self._keep.append(t)
        return self.values[id(root)]

    def flush_losses(self):
        """Adds the loss terms of every composite call expanded so far (which may expand more)."""
        while self._pending:
            call, (mode, pinned) = self._pending.pop(0)
            for trace, trace_mode in self._trace_modes(call, mode, pinned):
                for tensor, _ in trace.losses:
                    v = self.value(tensor, trace_mode, pinned or call.pinned)
                    self.core.add_loss_term(v, 1.0, 0.0, 0.0, trace_mode)
                    self.loss_terms += 1

    # ------------------------------------------------------------------ the walk
    def _trace_modes(self, call, mode, pinned=False):
        if not call.paired:
            return [(call.traces[0], mode)]
        if pinned:  # inside a training=False call: the inference trace, in every pass
            return [(call.traces[1], mode)]
        out = []
        for trace, kind in ((call.traces[0], TRAIN), (call.traces[1], INFER)):
            m = _combine(mode, kind)
            if m is not None:
                out.append((trace, m))
        return out

    def _deps(self, t, ctx):
        mode, pinned = ctx
        if t._weight is not None:
            return []
        if t._outer is not None:  # a placeholder: the outer tensor it stands for
            return [(t._outer, self._call_modes[id(t._call)])]
        history = t._history
        if history is None:
            raise ValueError(
                f'Graph disconnected: cannot obtain the value of tensor "{t.name}" {t.shape}: it '
                "is not one of the model inputs (pass it in `inputs`), nor computed from them.")
        call = t._call
        if call is not None:
            if id(call) not in self._call_modes:
                self._call_modes[id(call)] = ctx
                self._pending.append((call, ctx))
            k = t._output_index
            inner = pinned or call.pinned
            return [(trace.outputs[k], (m, inner))
                    for trace, m in self._trace_modes(call, mode, pinned)]
        return [(p, ctx) for p in history[1]]

    def _make(self, t, ctx, deps):
        mode, pinned = ctx
        if t._weight is not None:
            key = id(t._weight)
            if key not in self._weights:
                self._weights[key] = self.core.add_weight(t._weight)
                self._keep.append(t._weight)
            return self._weights[key]
        values = [self.values[id(d)] for d, _ in deps]
        if t._outer is not None:
            return values[0]
        layer = t._history[0]
        call = t._call
        if call is not None:
            if len(values) == 1:
                v = values[0]
            else:  # the two traces' results, each computed in its own passes
                select = _core.ModeSelect(select_name(layer), 0, bool(t._batched))
                self._keep.append(select)
                v = self.core.add_node(select, values, False, mode)
        else:
            v = self.core.add_node(layer._core, values, bool(t._inference_only) or pinned, mode)
        reg = getattr(layer, "activity_regularizer", None)
        if reg is not None:  # Keras 3: l1 * sum|y| + l2 * sum y^2 over the batch's outputs
            l1, l2 = reg.factors()
            if l1 or l2:
                self.core.add_loss_term(v, 0.0, l1, l2, mode)
                self.loss_terms += 1
        return v
