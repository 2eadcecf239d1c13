"""The symbolic tensor of the functional API (``ff.Input`` and what layers, ops and traced calls
make of it). A module of its own at the bottom of the package: layers, ops, variables and the
tracing of custom layers all use it. Its operators and its refusals (a symbolic tensor in an
``if``, ``float()``, iteration) are attached by ``forgeflow.ops``."""

__all__ = ["KerasTensor"]


class KerasTensor:
    """A symbolic tensor of the functional API: a shape (batch dimension None), a name and where
    it comes from: ``history`` is (layer, parent tensors, node index) for a layer's output, None
    for a model input made by ``ff.Input``.

    Tensors met while a custom layer's call() is traced (layers/_tracing.py) also have: no batch
    axis (``_batched`` False: a weight, what is computed from weights alone, or a statistic over
    the batch), a weight (``_weight``: its C++ Weight), a placeholder's outer tensor
    (``_outer``), or the composite call that made them (``_call``, with ``_output_index``)."""

    _batched = True
    _weight = None
    _outer = None
    _call = None
    _output_index = 0
    _inference_only = False

    def __init__(self, shape, name, history=None, input_layer=None, dtype="float32"):
        self.shape = tuple(shape)
        self.name = name
        # "float32", or for a model input "string"/"int64"/"int32" (columns that a lookup layer
        # turns into indices at the model boundary; see layers/lookup.py).
        self.dtype = dtype
        self._history = history
        self._input_layer = input_layer

    @property
    def producer_name(self):
        """Name of the layer that produced this tensor (the input layer for model inputs)."""
        return self._history[0].name if self._history else self.name

    def connection(self):
        """Keras's "Connected to" notation: layer_name[node_index][0]."""
        node = self._history[2] if self._history else 0
        return f"{self.producer_name}[{node}][0]"

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"
