"""ff.utils.model_to_dot / plot_model: the DOT graph of Sequential and functional models (boxes,
arrows, Keras 3's labels with shapes, dtypes, activations and trainability) checked without
Graphviz; the ImportError naming what to install when pydot or Graphviz's `dot` is missing
(simulated); and, where Graphviz is installed, a rendered image written atomically."""
import os
import shutil
import sys

import pydot  # a test dependency (pyproject's "test" extra, scripts/setup.sh)
import pytest

import forgeflow as ff
from forgeflow.utils import model_plot


def _functional():
    ff.utils.clear_session()
    inputs = ff.Input(shape=(4,), name="features")
    h = ff.layers.Dense(8, activation="relu")(inputs)
    skip = ff.layers.Dense(8)(h)
    merged = ff.layers.Add()([h, skip])
    outputs = ff.layers.Dense(1, activation="sigmoid")(merged)
    return ff.Model(inputs, outputs)


def _sequential():
    ff.utils.clear_session()
    return ff.Sequential([ff.Input(shape=(28, 28)), ff.layers.Flatten(),
                          ff.layers.Dense(16, activation="relu"), ff.layers.Dense(10)])


def _edges(dot):
    return [(e.get_source(), e.get_destination()) for e in dot.get_edges()]


def _labels(dot):
    return {n.get_name(): n.get("label") for n in dot.get_nodes() if n.get("label")}


def test_sequential_boxes_and_arrows_in_order():
    dot = ff.utils.model_to_dot(_sequential())
    assert list(_labels(dot)) == ["flatten", "dense", "dense_1"]  # no InputLayer box (as Keras)
    assert _edges(dot) == [("flatten", "dense"), ("dense", "dense_1")]
    labels = _labels(dot)
    assert "<b>dense</b> (Dense)" in labels["dense"]  # model_to_dot shows names by default
    assert "shape" not in labels["dense"]
    src = dot.to_string()
    assert "rankdir=TB;" in src and "dpi=200;" in src and "splines=ortho;" in src


def test_functional_graph_with_input_box_merge_and_shapes():
    dot = ff.utils.model_to_dot(_functional(), show_shapes=True)
    assert list(_labels(dot)) == ["features", "dense", "dense_1", "add", "dense_2"]
    assert sorted(_edges(dot)) == sorted([("features", "dense"), ("dense", "dense_1"),
                                          ("dense", "add"), ("dense_1", "add"),
                                          ("add", "dense_2")])
    labels = _labels(dot)
    assert "(InputLayer)" in labels["features"]
    assert "Output shape: <b>(None, 4)</b>" in labels["features"]
    assert "Input shape" not in labels["features"]
    assert "Input shape: <b>[(None, 8), (None, 8)]</b>" in labels["add"]
    assert "Input shape: <b>(None, 8)</b>" in labels["dense_2"]
    assert "Output shape: <b>(None, 1)</b>" in labels["dense_2"]


def test_label_options_activation_dtype_trainable_and_no_names():
    model = _functional()
    model.get_layer("dense_1").trainable = False
    dot = ff.utils.model_to_dot(model, show_dtype=True, show_layer_activations=True,
                                show_trainable=True, show_layer_names=False, rankdir="LR")
    labels = _labels(dot)
    assert "<b>Dense</b>" in labels["dense"] and "<b>dense</b>" not in labels["dense"]
    assert "Activation: <b>relu</b>" in labels["dense"]
    assert "Activation: <b>sigmoid</b>" in labels["dense_2"]
    assert "Activation" not in labels["add"]
    assert "Output dtype: <b>float32</b>" in labels["dense"]
    assert "<b>Trainable</b>" in labels["dense"]
    assert "<b>Non-trainable</b>" in labels["dense_1"]
    assert "rainable" not in labels["add"]  # no weights: no trainability cell, as Keras
    assert "rankdir=LR;" in dot.to_string()


def test_a_shared_layer_is_one_box_with_arrows_from_each_call():
    ff.utils.clear_session()
    a, b = ff.Input(shape=(3,), name="a"), ff.Input(shape=(3,), name="b")
    shared = ff.layers.Dense(2, name="shared")
    out = ff.layers.Add()([shared(a), shared(b)])
    dot = ff.utils.model_to_dot(ff.Model([a, b], out))
    assert list(_labels(dot)) == ["a", "b", "shared", "add"]
    assert sorted(_edges(dot)) == [("a", "shared"), ("b", "shared"), ("shared", "add")]


def test_layer_names_are_escaped_in_the_html_label():
    ff.utils.clear_session()
    model = ff.Sequential([ff.Input(shape=(2,)), ff.layers.Dense(1, name="a<b>&c:d")])
    dot = ff.utils.model_to_dot(model)
    (name, label), = _labels(dot).items()
    assert name == "layer_0"  # not a DOT identifier (":" would be read as a port)
    assert "<b>a&lt;b&gt;&amp;c:d</b>" in label


def test_subgraph_gives_a_cluster_and_bad_arguments_raise():
    cluster = ff.utils.model_to_dot(_sequential(), subgraph=True)
    assert isinstance(cluster, pydot.Cluster)
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        ff.utils.model_to_dot(_sequential(), show_shape=True)
    with pytest.raises(ValueError, match="`layer_range` is no longer supported"):
        ff.utils.model_to_dot(_sequential(), layer_range=["a", "b"])
    with pytest.raises(TypeError, match="expects a forgeflow model .* received Dense"):
        ff.utils.model_to_dot(ff.layers.Dense(2))


def test_unbuilt_model_is_an_error():
    model = ff.Sequential([ff.layers.Dense(2)])
    with pytest.raises(ValueError, match=r'"sequential.*" has not yet been built.*build\(\)'):
        ff.utils.model_to_dot(model)
    with pytest.raises(ValueError, match="has not yet been built"):
        ff.utils.plot_model(model)


def test_missing_pydot_names_the_pip_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pydot", None)  # `import pydot` raises ImportError
    with pytest.raises(ImportError, match=r"install pydot \(`pip install pydot`\) for "
                                          r"`model_to_dot`"):
        ff.utils.model_to_dot(_sequential())
    with pytest.raises(ImportError, match=r"`pip install pydot`"):
        ff.utils.plot_model(_sequential(), to_file=tmp_path / "m.png")
    assert os.listdir(tmp_path) == []


def test_missing_graphviz_names_the_apt_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no `dot` anywhere on the PATH
    with pytest.raises(ImportError, match=r"install Graphviz \(`apt install graphviz`"):
        ff.utils.plot_model(_sequential(), to_file=tmp_path / "m.png")
    assert os.listdir(tmp_path) == []


def test_unknown_image_format_is_an_error(tmp_path):
    with pytest.raises(ValueError, match=r"'bogus' is not an image format Graphviz writes; use "
                                         r"one of .*png"):
        ff.utils.plot_model(_sequential(), to_file=tmp_path / "m.bogus")
    assert os.listdir(tmp_path) == []


def _fake_graphviz(monkeypatch, image=b"\x89PNG fake image"):
    """Graphviz stood in for: `dot` "found", and rendering returns fixed bytes."""
    calls = []
    monkeypatch.setattr(model_plot, "_graphviz_dot", lambda: "/usr/bin/dot")

    def create(self, prog=None, format=None, encoding=None):
        calls.append((prog, format, self.to_string()))
        return image
    monkeypatch.setattr(pydot.Dot, "create", create)
    return calls


def test_plot_model_writes_what_graphviz_renders_in_the_suffix_format(monkeypatch, tmp_path):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"></svg>'
    calls = _fake_graphviz(monkeypatch, svg)
    ff.utils.plot_model(_functional(), to_file=tmp_path / "graph.svg", show_shapes=True)
    (prog, fmt, source), = calls
    assert (prog, fmt) == ("/usr/bin/dot", "svg")
    assert "features -> dense" in source and "Output shape" in source
    assert "<b>dense</b>" not in source  # plot_model's default: no layer names (Keras 3)
    assert (tmp_path / "graph.svg").read_bytes() == svg
    ff.utils.plot_model(_functional(), to_file=tmp_path / "noext")
    assert calls[-1][1] == "png"  # no suffix: PNG, as Keras
    assert sorted(os.listdir(tmp_path)) == ["graph.svg", "noext"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(monkeypatch, tmp_path):
    _fake_graphviz(monkeypatch)
    (tmp_path / "m.png").write_bytes(b"old")

    def boom(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(model_plot.os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        ff.utils.plot_model(_sequential(), to_file=tmp_path / "m.png")
    assert os.listdir(tmp_path) == ["m.png"] and (tmp_path / "m.png").read_bytes() == b"old"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
def test_plot_model_renders_png_and_svg(tmp_path):
    model = _functional()
    png = tmp_path / "model.png"
    image = ff.utils.plot_model(model, to_file=png, show_shapes=True, show_layer_names=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert image is None or hasattr(image, "data")
    svg = tmp_path / "model.svg"
    ff.utils.plot_model(model, to_file=str(svg), show_layer_names=True)
    text = svg.read_text()
    assert "<svg" in text and "dense_2" in text
    assert sorted(os.listdir(tmp_path)) == ["model.png", "model.svg"]  # no temporary left
