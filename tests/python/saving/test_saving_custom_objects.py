"""Custom classes load only through what the caller gives (custom_objects, custom_object_scope,
@ff.saving.register_serializable), and a name in a file is never turned into code: "os.system",
"builtins.eval" and the like are unknown-class errors, and loading imports nothing."""
import json
import sys

import numpy as np
import pytest

import forgeflow as ff
from _saving_helpers import assert_same_arrays, replace_section, section

L = ff.layers


class ScaledDense(L.Dense):
    """A custom layer with an extra config entry (the scale is folded into the kernel init)."""

    def __init__(self, units, scale=1.0, **kwargs):
        super().__init__(units, **kwargs)
        self.scale = float(scale)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


class HalfMSE(ff.losses.Loss):
    """A custom loss built on a core loss, with its own config."""
    _core_name = "mean_squared_error"

    def __init__(self, factor=0.5, name="half_mse"):
        super().__init__(False, name)
        self.factor = factor

    def get_config(self):
        return {"name": self.name, "factor": self.factor}


@ff.saving.register_serializable(package="tests")
class RegisteredDense(L.Dense):
    pass


def _model(layer_cls=ScaledDense, **kwargs):
    model = ff.Sequential([ff.Input(shape=(4,)), layer_cls(3, name="custom", **kwargs),
                           L.Dense(1)])
    model.compile(optimizer="sgd", loss=HalfMSE(factor=0.25))
    return model


def test_custom_objects_argument(tmp_path):
    model = _model(scale=3.0)
    model.save(tmp_path / "m.ff")
    loaded = ff.models.load_model(tmp_path / "m.ff", custom_objects={
        "ScaledDense": ScaledDense, "HalfMSE": HalfMSE})
    assert type(loaded.layers[0]) is ScaledDense and loaded.layers[0].scale == 3.0
    assert type(loaded.loss) is HalfMSE and loaded.loss.factor == 0.25
    x = np.ones((2, 4), "float32")
    assert_same_arrays(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_custom_object_scope(tmp_path):
    _model().save(tmp_path / "m.ff")
    with ff.saving.custom_object_scope({"ScaledDense": ScaledDense}, {"HalfMSE": HalfMSE}):
        loaded = ff.models.load_model(tmp_path / "m.ff")
    assert type(loaded.layers[0]) is ScaledDense
    with pytest.raises(ff.saving.UnknownObjectError):  # the scope ended
        ff.models.load_model(tmp_path / "m.ff")


def test_registration_decorator(tmp_path):
    model = _model(RegisteredDense)
    model.save(tmp_path / "m.ff")
    arch = json.loads(section((tmp_path / "m.ff").read_bytes(), b"ARCH"))
    assert arch["config"]["layers"][1]["registered_name"] == "tests>RegisteredDense"
    loaded = ff.models.load_model(tmp_path / "m.ff", custom_objects={"HalfMSE": HalfMSE})
    assert type(loaded.layers[0]) is RegisteredDense
    assert ff.saving.get_registered_name(RegisteredDense) == "tests>RegisteredDense"
    assert ff.saving.get_registered_object("tests>RegisteredDense") is RegisteredDense


def test_registered_name_never_falls_back_to_a_builtin(tmp_path):
    """A file saying "Dense" registered as "other>Dense" must not silently load ff's Dense."""
    path = tmp_path / "m.ff"
    _model(RegisteredDense).save(path)
    data = path.read_bytes()
    arch = json.loads(section(data, b"ARCH"))
    arch["config"]["layers"][1]["class_name"] = "Dense"
    arch["config"]["layers"][1]["registered_name"] = "other>Dense"
    path.write_bytes(replace_section(data, b"ARCH", json.dumps(arch).encode()))
    with pytest.raises(ff.saving.UnknownObjectError, match="other>Dense"):
        ff.models.load_model(path, custom_objects={"HalfMSE": HalfMSE})


def test_missing_custom_class_says_which_and_how_to_register(tmp_path):
    _model().save(tmp_path / "m.ff")
    with pytest.raises(ff.saving.UnknownObjectError) as info:
        ff.models.load_model(tmp_path / "m.ff")
    message = str(info.value)
    assert '"ScaledDense"' in message and "custom_objects" in message
    assert "register_serializable" in message


def test_custom_object_of_the_wrong_kind_is_refused(tmp_path):
    _model().save(tmp_path / "m.ff")
    with pytest.raises(ff.saving.ConfigError, match="not a subclass"):
        ff.models.load_model(tmp_path / "m.ff", custom_objects={"ScaledDense": HalfMSE,
                                                                "HalfMSE": HalfMSE})


UNSAFE_NAMES = ["os.system", "builtins.eval", "eval", "exec", "__import__", "subprocess.Popen",
                "posix.system", "forgeflow.saving.model_io.load_model", "numpy.load",
                "pickle.loads", "forgeflow.layers.Dense.__init__", "..", "Dense\x00os.system"]


def _with_names(data, where, name):
    """The file with one class name replaced (where: layer / loss / optimizer / metric /
    registered / schedule)."""
    arch = json.loads(section(data, b"ARCH"))
    comp = json.loads(section(data, b"COMP"))
    if where == "layer":
        arch["config"]["layers"][1]["class_name"] = name
    elif where == "registered":
        arch["config"]["layers"][1]["registered_name"] = name
    elif where == "loss":
        comp["loss"][0]["class_name"] = name
    elif where == "optimizer":
        comp["optimizer"]["class_name"] = name
    elif where == "metric":
        comp["metrics"][0] = [{"class_name": name, "config": {}}]
    elif where == "schedule":
        comp["optimizer"]["config"]["learning_rate"] = {"class_name": name, "config": {}}
    data = replace_section(data, b"ARCH", json.dumps(arch).encode())
    return replace_section(data, b"COMP", json.dumps(comp).encode())


@pytest.mark.parametrize("where", ["layer", "registered", "loss", "optimizer", "metric",
                                   "schedule"])
def test_unsafe_names_are_unknown_classes_and_import_nothing(where, tmp_path, monkeypatch):
    model = ff.Sequential([ff.Input(shape=(4,)), L.Dense(3), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.save(tmp_path / "m.ff")
    data = (tmp_path / "m.ff").read_bytes()
    calls = []
    import os
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a) or 0)
    for name in UNSAFE_NAMES:
        path = tmp_path / "bad.ff"
        path.write_bytes(_with_names(data, where, name))
        modules = set(sys.modules)
        with pytest.raises(ff.saving.UnknownObjectError, match="unknown"):
            ff.models.load_model(path)
        assert set(sys.modules) == modules, f"loading {name!r} imported a module"
    assert calls == []


def test_registering_needs_a_class_with_get_config():
    with pytest.raises(TypeError):
        ff.saving.register_serializable()(lambda x: x)
    with pytest.raises(ValueError):
        ff.saving.register_serializable(package="a>b")
