"""docs/keras-compatibility.md is generated from the package (scripts/gen_keras_compat.py) and the
Keras names checked in as data (scripts/keras_api_names.json): these tests fail when the page
is stale, and check how a name's status is found (missing, partial, stricter, same)."""
import importlib.util
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PAGE = os.path.join(ROOT, "docs", "keras-compatibility.md")


def _load_generator():
    spec = importlib.util.spec_from_file_location(
        "gen_keras_compat", os.path.join(ROOT, "scripts", "gen_keras_compat.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


@pytest.fixture(scope="module")
def page():
    return gen.generate()


def _row(page, keras_name):
    match = re.search(r"^\| `" + re.escape(keras_name) + r"` \| ([^|]*) \| (\w+) \| (.*) \|$",
                      page, re.M)
    assert match, keras_name
    return match.group(2), match.group(3)


def test_committed_page_is_up_to_date(page):
    with open(PAGE, encoding="utf-8") as f:
        committed = f.read()
    assert committed == page, ("docs/keras-compatibility.md is out of date; regenerate it with "
                               f"`{gen.REGENERATE}` (from the repository root) and commit it")


def test_check_flag_reports_a_stale_page(tmp_path, capsys):
    stale = tmp_path / "page.md"
    stale.write_text("# old\n")
    assert gen.main(["--check", "--out", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert gen.main(["--out", str(stale)]) == 0
    assert gen.main(["--check", "--out", str(stale)]) == 0


def test_the_keras_names_are_data_with_their_version():
    data = gen.load_data()
    assert re.fullmatch(r"3\.\d+\.\d+", data["keras_version"])
    for space in ("keras", "keras.layers", "keras.losses", "keras.metrics", "keras.optimizers",
                  "keras.optimizers.schedules", "keras.callbacks", "keras.activations",
                  "keras.initializers", "keras.regularizers", "keras.ops", "keras.utils",
                  "keras.applications", "keras.datasets", "keras.models", "keras.Model",
                  "keras.Sequential", "keras.layers.Layer"):
        assert data["namespaces"][space], space
    assert data["namespaces"]["keras.Model"]["fit"]["args"][:3] == ["x", "y", "batch_size"]


def test_the_page_counts_every_name_once_per_namespace(page):
    data = gen.load_data()
    total = sum(len(entries) for entries in data["namespaces"].values())
    match = re.search(r"^\| \*\*all\*\* \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$", page, re.M)
    assert match and int(match.group(1)) == total
    assert sum(int(match.group(i)) for i in range(2, 6)) == total
    assert len(re.findall(r"^\| `keras\.", page, re.M)) == total
    assert f"Keras {data['keras_version']}" in page


def test_statuses_come_from_the_package(page):
    assert _row(page, "keras.applications.EfficientNetB0")[0] == "same"
    assert _row(page, "keras.applications.ResNet50")[0] == "same"
    status, note = _row(page, "keras.layers.Multiply")
    assert status == "stricter" and "both would grow" in note
    assert _row(page, "keras.utils.to_categorical")[0] == "stricter"
    assert _row(page, "keras.ops.add")[0] == "stricter"
    assert _row(page, "keras.Model.fit")[0] in ("same", "stricter")
    assert _row(page, "keras.layers.Conv3D")[0] == "missing"
    status, note = _row(page, "keras.Sequential.add")
    assert status == "partial" and "`rebuild`" in note


def test_classification_rules():
    class Base:
        def __init__(self, name=None, dtype=None):
            pass

    class Strict(Base):
        _keras_stricter = "raises on odd input"

        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)

    class Inherits(Strict):
        pass

    def function(x, axis=None):
        pass

    def anything(x, **kwargs):
        pass

    entry = {"kind": "class", "args": ["units", "name"]}
    assert gen.classify(entry, gen._ABSENT) == ("missing", "")
    # arguments are followed through **kwargs to the base's __init__
    assert gen.classify(entry, Strict) == ("stricter", "stricter: raises on odd input")
    assert gen.classify(entry, Inherits)[0] == "stricter"
    status, note = gen.classify({"kind": "class", "args": ["units", "use_bias"]}, Strict)
    assert status == "partial" and note.endswith("lacks `use_bias`")
    assert gen.classify({"kind": "function", "args": ["x", "axis"]}, function) == ("same", "")
    assert gen.classify({"kind": "function", "args": ["x", "keepdims"]}, function)[0] == "partial"
    assert gen.classify({"kind": "function", "args": ["x", "keepdims"]}, anything)[0] == "same"
    assert gen.classify({"kind": "constant"}, 3) == ("same", "")


def test_names_not_in_forgeflow_yet_are_missing_without_error():
    import forgeflow as ff
    data = {"keras_version": "3.0.0", "namespaces": {
        "keras.nowhere": {"Thing": {"kind": "class", "args": []}},
        "keras.layers": {"Dense": {"kind": "class", "args": ["units"]},
                         "core": {"kind": "function", "args": []}},  # ff.layers.core: a module
        "keras.Model": {"fit": {"kind": "method", "args": ["x"]},
                        "no_such_method": {"kind": "method", "args": []}}}}
    table = gen.collect(data, ff)
    assert table["keras.nowhere"] == [("keras.nowhere.Thing", "ff.nowhere.Thing", "missing", "")]
    assert [r[2] for r in table["keras.layers"]] == ["same", "missing"]
    assert [r[2] for r in table["keras.Model"]][1] == "missing"
    text = gen.render(data, table)
    assert "| [`keras.nowhere`](#kerasnowhere) | 1 | 0 | 0 | 0 | 1 |" in text
