"""``plot_model`` and ``model_to_dot``: a model's layer graph drawn with Graphviz through
``pydot``, as ``keras.utils.plot_model`` / ``keras.utils.model_to_dot`` (same arguments, the same
HTML-table node labels). ``model_to_dot`` needs only pydot; ``plot_model`` also needs Graphviz's
``dot`` program, and writes the image atomically (a temporary file in the same directory,
renamed when complete).

The model is read through its small interface (``layers``, ``built``, and for functional models
the ``_nodes`` of the graph and ``_input_layers``), so this module does not import
``forgeflow.models``."""

import html
import os
import re
import shutil
import tempfile

__all__ = ["model_to_dot", "plot_model"]

_PYDOT_MISSING = ("You must install pydot (`pip install pydot`) for `{what}` to work (forgeflow "
                  "draws models with Graphviz through pydot, as Keras does).")
_GRAPHVIZ_MISSING = ("You must install Graphviz (`apt install graphviz` on Debian/Ubuntu, or see "
                     "https://graphviz.org/download/) for `plot_model` to work: its `dot` program "
                     "was not found on the PATH. pydot is installed; `ff.utils.model_to_dot` "
                     "(which needs no Graphviz) gives the graph as DOT text.")
_NODE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _import_pydot(what):
    try:
        import pydot
    except ImportError:
        raise ImportError(_PYDOT_MISSING.format(what=what)) from None
    return pydot


def _is_model(obj):
    return hasattr(obj, "layers") and hasattr(obj, "built") and hasattr(obj, "_core")


def _check_model(model, what):
    if not _is_model(model):
        raise TypeError(f"{what} expects a forgeflow model (ff.Sequential or ff.Model), received "
                        f"{type(model).__name__}")
    if not model.built:
        raise ValueError(f'The model "{model.name}" has not yet been built, so {what} cannot '
                         "show it. Build the model first by calling `build()` or by calling the "
                         "model on a batch of data.")


def _format_shape(shape):
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(_format_shape(s) for s in shape) + "]"
    return str(tuple(shape))


def _activation_name(layer):
    activation = getattr(layer, "activation", None)
    if activation is None or isinstance(activation, str):
        return activation
    return getattr(activation, "__name__", str(activation))


def _label(layer, class_name, input_shape, output_shape, dtype, show_shapes, show_dtype,
           show_layer_names, show_layer_activations, show_trainable):
    """Keras 3's HTML-table label (keras/src/utils/model_visualization.py, make_layer_label),
    with every text escaped."""
    esc = html.escape
    colspan = max(1, int(show_dtype) + int(show_trainable) + (2 if show_shapes else 0))
    title = (f"<b>{esc(layer.name)}</b> ({esc(class_name)})" if show_layer_names
             else f"<b>{esc(class_name)}</b>")
    table = ('<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">'
             f'<tr><td colspan="{colspan}" bgcolor="black">'
             f'<font point-size="16" color="white">{title}</font></td></tr>')
    activation = _activation_name(layer)
    if show_layer_activations and activation is not None:
        table += (f'<tr><td bgcolor="white" colspan="{colspan}"><font point-size="14">'
                  f"Activation: <b>{esc(activation)}</b></font></td></tr>")
    cols = []
    if show_shapes:
        if class_name != "InputLayer":
            cols.append('<td bgcolor="white"><font point-size="14">'
                        f"Input shape: <b>{esc(_format_shape(input_shape))}</b></font></td>")
        cols.append('<td bgcolor="white"><font point-size="14">'
                    f"Output shape: <b>{esc(_format_shape(output_shape))}</b></font></td>")
    if show_dtype:
        cols.append('<td bgcolor="white"><font point-size="14">'
                    f"Output dtype: <b>{esc(str(dtype or '?'))}</b></font></td>")
    if show_trainable and class_name != "InputLayer" and _has_weights(layer):
        if layer.trainable:
            cols.append('<td bgcolor="forestgreen"><font point-size="14" color="white">'
                        "<b>Trainable</b></font></td>")
        else:
            cols.append('<td bgcolor="firebrick"><font point-size="14" color="white">'
                        "<b>Non-trainable</b></font></td>")
    if cols:
        table += f"<tr>{''.join(cols)}</tr>"
    return table + "</table>>"


def _has_weights(layer):
    try:
        return layer.count_params() > 0
    except (AttributeError, ValueError):
        return False


def _output_dtype(layer):
    dtype = getattr(layer, "compute_dtype", None)
    return dtype if dtype is not None else getattr(layer, "dtype", None)


class _Graph:
    """The boxes (one per layer) and arrows of a model, in drawing order."""

    def __init__(self):
        self.nodes = []  # (node id, layer, class name, input shape, output shape, dtype)
        self.edges = []  # (source id, destination id)
        self._ids = {}
        self._used = set()

    def node_id(self, layer):
        key = id(layer)
        if key not in self._ids:
            name = layer.name if _NODE_ID.match(str(layer.name)) else f"layer_{len(self._ids)}"
            base, k = name, 1
            while name in self._used:  # two layers with one name: keep the boxes apart
                k += 1
                name = f"{base}_{k}"
            self._used.add(name)
            self._ids[key] = name
        return self._ids[key]

    def add_node(self, layer, class_name, input_shape, output_shape, dtype):
        self.nodes.append((self.node_id(layer), layer, class_name, input_shape, output_shape,
                           dtype))

    def add_edge(self, source, destination):
        edge = (self.node_id(source), self.node_id(destination))
        if edge not in self.edges:
            self.edges.append(edge)


def _sequential_graph(model):
    graph = _Graph()
    layers = model.layers
    for layer in layers:
        graph.add_node(layer, type(layer).__name__, layer.input_shape, layer.output_shape,
                       _output_dtype(layer))
    for a, b in zip(layers, layers[1:]):
        graph.add_edge(a, b)
    return graph


def _functional_graph(model):
    graph = _Graph()
    producers = {}  # id(input tensor) -> its InputLayer
    for t in model.inputs:
        layer = t._input_layer
        if layer is not None:
            producers[id(t)] = layer
            graph.add_node(layer, "InputLayer", None, t.shape, getattr(layer, "dtype", None))
    first_call = {}
    for t in model._nodes:
        layer, parents, _ = t._history
        if id(layer) not in first_call:
            first_call[id(layer)] = (layer, parents, t)
    for layer, parents, out in first_call.values():
        shapes = [p.shape for p in parents]
        graph.add_node(layer, type(layer).__name__, shapes[0] if len(shapes) == 1 else shapes,
                       out.shape, _output_dtype(layer))
    for t in model._nodes:
        layer, parents, _ = t._history
        for p in parents:
            source = p._history[0] if p._history is not None else producers.get(id(p))
            if source is not None:
                graph.add_edge(source, layer)
    return graph


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
                 expand_nested=False, dpi=200, subgraph=False, show_layer_activations=False,
                 show_trainable=False, splines="ortho", **kwargs):
    """Converts a model to a ``pydot.Dot`` graph (Keras's ``keras.utils.model_to_dot``): one box
    per layer (functional models also show their InputLayers, as Keras does), an arrow per
    connection. ``dot.to_string()`` gives the DOT source. Needs pydot (``pip install pydot``),
    not Graphviz.

    Args:
        model: a built ``ff.Sequential`` or functional ``ff.Model``.
        show_shapes: show each layer's input and output shapes.
        show_dtype: show each layer's output dtype.
        show_layer_names: show layer names (else only the class names).
        rankdir: ``"TB"`` (vertical) or ``"LR"`` (horizontal), Graphviz's ``rankdir``.
        expand_nested: accepted for Keras compatibility; forgeflow models do not nest yet, so
            there is nothing to expand.
        dpi: image resolution in dots per inch.
        subgraph: return a ``pydot.Cluster`` (for drawing inside another graph).
        show_layer_activations: show the activation of layers that have one.
        show_trainable: show whether each layer with weights is trainable.
        splines: how Graphviz draws the arrows (``"ortho"``, ``"curved"``, ``"polyline"``,
            ``"spline"``, ``"line"``).

    Returns:
        A ``pydot.Dot`` (a ``pydot.Cluster`` with ``subgraph=True``).
    """
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    _check_model(model, "model_to_dot")
    pydot = _import_pydot("model_to_dot")
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot()
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set("splines", splines)
        dot.set_node_defaults(shape="record")
    graph = _functional_graph(model) if hasattr(model, "_nodes") else _sequential_graph(model)
    options = dict(show_shapes=show_shapes, show_dtype=show_dtype,
                   show_layer_names=show_layer_names,
                   show_layer_activations=show_layer_activations, show_trainable=show_trainable)
    for node_id, layer, class_name, in_shape, out_shape, dtype in graph.nodes:
        node = pydot.Node(node_id, label=_label(layer, class_name, in_shape, out_shape, dtype,
                                                **options))
        node.set("fontname", "Helvetica")
        node.set("border", "0")
        node.set("margin", "0")
        dot.add_node(node)
    for source, destination in graph.edges:
        edge = pydot.Edge(source, destination)
        edge.set("penwidth", "2")
        dot.add_edge(edge)
    return dot


def _graphviz_dot():
    """The path of Graphviz's ``dot`` program, or None."""
    return shutil.which("dot")


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=False, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, splines="ortho", **kwargs):
    """Draws the model's layer graph into an image file with Graphviz (Keras's
    ``keras.utils.plot_model``; the defaults are Keras 3's, so layer names are off unless
    ``show_layer_names=True``).

    The format comes from the suffix of ``to_file`` (``.png``, ``.svg``, ``.pdf``, ``.dot``...;
    none gives PNG). The file is written atomically: a failure leaves no partial file.

    Needs pydot (``pip install pydot``) and Graphviz's ``dot`` program (``apt install
    graphviz``); without them it raises ImportError saying what to install. The other
    arguments are :func:`model_to_dot`'s.

    Returns:
        An ``IPython.display.Image`` (or ``SVG``) of the file where IPython is installed, so a
        notebook shows it inline; otherwise None.
    """
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    _check_model(model, "plot_model")
    pydot = _import_pydot("plot_model")
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:].lower() or "png"
    formats = getattr(pydot.Dot(), "formats", None)
    if formats and extension not in formats:
        raise ValueError(f"plot_model cannot write {to_file!r}: {extension!r} is not an image "
                         f"format Graphviz writes; use one of {', '.join(sorted(formats))}")
    program = _graphviz_dot()
    if program is None:
        raise ImportError(_GRAPHVIZ_MISSING)
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir,
                       expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable, splines=splines)
    image = dot.create(prog=program, format=extension)
    _write_atomically(to_file, image)
    return _notebook_image(to_file, extension)


def _write_atomically(path, data):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None:
            os.unlink(tmp)


def _notebook_image(path, extension):
    """An IPython display object of the written file (a notebook shows it inline), or None
    where IPython is missing or cannot show that format."""
    try:
        from IPython import display
    except ImportError:
        return None
    if extension == "svg":
        return display.SVG(filename=path)
    image_format = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "jpe": "jpeg",
                    "gif": "gif"}.get(extension)
    if image_format is None:
        return None
    return display.Image(filename=path, format=image_format)
