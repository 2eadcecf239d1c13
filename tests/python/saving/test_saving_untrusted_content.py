"""Well-formed files whose content must still be refused at load, because the model it would make
misbehaves later: a lookup vocabulary naming a file (the load must touch no file but its own), an
optimizer step count about to overflow, a lone surrogate escape that a later save cannot encode.
Also: loading and saving take time linear in the number of layers."""
import contextlib
import json
import os
import struct
import sys

import numpy as np
import pytest

import forgeflow as ff
from _saving_helpers import (build_tensor_table, parse_tensor_table, replace_section, section)
from forgeflow.saving.model_io import load_model_from_bytes

L = ff.layers
S = ff.saving

# ---------------------------------------------------------------------------------- file access
_opened = None  # while recording: the paths that were opened


def _audit(event, args):
    if _opened is not None and event == "open" and args and isinstance(args[0], (str, bytes)):
        path = os.fsdecode(args[0])
        if not path.endswith((".py", ".pyc", ".so")):  # a module imported for the first time
            _opened.append(path)


sys.addaudithook(_audit)  # PEP 578 hooks stay for the process; this one is idle unless recording


@contextlib.contextmanager
def _recording_opens():
    global _opened
    _opened = []
    try:
        yield _opened
    finally:
        _opened = None


def _lookup_model_bytes(tmp_path, kind):
    name = "kind" if kind == "StringLookup" else "code"
    inp = ff.Input(shape=(1,), name=name, dtype="string" if kind == "StringLookup" else "int64")
    vocabulary = ["a", "b"] if kind == "StringLookup" else [3, 5]
    lookup = getattr(L, kind)(vocabulary=vocabulary, output_mode="one_hot", name="lookup")
    model = ff.Model(inp, L.Dense(2)(lookup(inp)))
    path = tmp_path / f"{kind}.ff"
    model.save(path)
    return path.read_bytes()


def _with_vocabulary(data, vocabulary):
    arch = json.loads(section(data, b"ARCH"))
    entry = next(e for e in arch["config"]["layers"] if e["name"] == "lookup")
    entry["config"]["vocabulary"] = vocabulary
    return replace_section(data, b"ARCH", json.dumps(arch).encode())


@pytest.mark.parametrize("kind", ["StringLookup", "IntegerLookup"])
def test_a_vocabulary_path_in_a_file_is_refused_without_touching_it(tmp_path, kind):
    data = _lookup_model_bytes(tmp_path, kind)
    load_model_from_bytes(data)  # loads, and imports what a load needs
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it would hang the load
    (tmp_path / "vocab.txt").write_text("a\nb\nc\n")
    paths = ["/etc/passwd", "/proc/self/environ", "/dev/zero", str(fifo),
             str(tmp_path / "vocab.txt"), str(tmp_path / "missing.txt")]
    for path in paths:
        with _recording_opens() as opened:
            with pytest.raises(S.ConfigError) as e:
                load_model_from_bytes(_with_vocabulary(data, path))
        assert opened == []
        # the same message for every path: nothing tells whether the file exists
        message = str(e.value).replace(repr(path), "PATH")
        assert message == (f'<bytes>: architecture (Functional).layers[1]: cannot create layer '
                           f'{kind} from its saved config: ValueError: {kind} "lookup": a saved '
                           "config holds its vocabulary as a list of terms, not a file path; "
                           "received vocabulary=PATH (a vocabulary file is read only when you "
                           f"pass its path yourself: {kind}(vocabulary=path) or "
                           "set_vocabulary(path))")


def test_loading_opens_only_the_model_file(tmp_path):
    data = _lookup_model_bytes(tmp_path, "StringLookup")
    path = tmp_path / "copy.ff"
    path.write_bytes(data)
    ff.models.load_model(path)
    with _recording_opens() as opened:
        model = ff.models.load_model(path)
    assert opened == [str(path)]
    assert model.get_layer("lookup").get_vocabulary() == ["[UNK]", "a", "b"]


def test_a_model_built_from_a_vocabulary_file_saves_the_terms(tmp_path):
    path = tmp_path / "secret_vocabulary_path.txt"
    path.write_text("red\ngreen\nblue\n")
    inp = ff.Input(shape=(2,), name="color", dtype="string")
    model = ff.Model(inp, L.Dense(2)(L.StringLookup(vocabulary=str(path),
                                                    output_mode="multi_hot")(inp)))
    model.save(tmp_path / "m.ff")
    data = (tmp_path / "m.ff").read_bytes()
    assert b"secret_vocabulary_path" not in data and b"green" in data
    path.unlink()  # the saved model needs no file but its own
    loaded = load_model_from_bytes(data)
    x = np.array([["blue", "red"], ["pink", "green"]], dtype=object)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_custom_from_config_cannot_make_the_loader_read_a_vocabulary_file(tmp_path):
    """A subclass whose from_config skips the check: the loader's own guard refuses the path."""
    class PlainLookup(L.StringLookup):
        @classmethod
        def from_config(cls, config):
            return cls(**config)

    data = _with_vocabulary(_lookup_model_bytes(tmp_path, "StringLookup"), "/etc/passwd")
    arch = json.loads(section(data, b"ARCH"))
    next(e for e in arch["config"]["layers"] if e["name"] == "lookup")["class_name"] = "PlainLookup"
    data = replace_section(data, b"ARCH", json.dumps(arch).encode())
    with _recording_opens() as opened:
        with pytest.raises(S.ConfigError, match='PlainLookup "lookup": a saved config holds its '
                                                "vocabulary as a list of terms"):
            load_model_from_bytes(data, custom_objects={"PlainLookup": PlainLookup})
    assert opened == []
    path = tmp_path / "vocab.txt"
    path.write_text("x\ny\n")
    assert PlainLookup(vocabulary=str(path)).vocabulary_size() == 3  # outside a load: read


# ---------------------------------------------------------------------------------- optimizer steps
def _trained_bytes(tmp_path):
    ff.utils.set_random_seed(4)
    model = ff.Sequential([ff.Input(shape=(3,)), L.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "trained.ff"
    model.save(path)
    return path.read_bytes(), x, y


def _with_iterations(data, value):
    entries = parse_tensor_table(section(data, b"OPTS"))
    it = next(e for e in entries if e["name"] == "iterations")
    it["data"] = struct.pack("<q", value)
    return replace_section(data, b"OPTS", build_tensor_table(entries))


def test_an_optimizer_step_count_near_int64_overflow_is_refused(tmp_path):
    data, x, y = _trained_bytes(tmp_path)
    for value in (2**63 - 1, 2**63 - 2, 2**62, 2**53 + 1):
        with pytest.raises(S.ConfigError, match=r"optimizer state: iterations must be from 0 to "
                                                rf"{2**53} \(2\^53\), found {value}"):
            load_model_from_bytes(_with_iterations(data, value))
    model = load_model_from_bytes(_with_iterations(data, 2**53))  # the largest accepted count
    model.fit(x, y, epochs=2, verbose=0)
    assert model.optimizer.iterations == 2**53 + 2
    assert all(np.isfinite(w).all() for w in model.get_weights())


# ---------------------------------------------------------------------------------- lone surrogates
def _json_text_of(data, tag, old, new):
    text = bytes(section(data, tag)).decode()
    assert old in text
    return replace_section(data, tag, text.replace(old, new, 1).encode())


def test_a_lone_surrogate_escape_is_refused(tmp_path):
    data, _, _ = _trained_bytes(tmp_path)
    name = json.loads(section(data, b"ARCH"))["config"]["name"]
    for escape in ("\\ud800", "\\uDFFF", "x\\udc00y", "\\ude00\\ud83d"):  # low before high: lone
        bad = _json_text_of(data, b"ARCH", f'"name":"{name}"', f'"name":"{escape}"')
        with pytest.raises(S.CorruptFileError, match=r"section \"ARCH\" \(architecture\) holds a "
                                                     r"lone surrogate escape .* in "
                                                     r"\['config'\]\['name'\]"):
            load_model_from_bytes(bad)
    bad = replace_section(data, b"TPOS", b'{"epoch":{"\\ud800":1}}')
    with pytest.raises(S.CorruptFileError, match="lone surrogate escape .* in a key of "
                                                 r"\['epoch'\]"):
        load_model_from_bytes(bad)
    # a pair is one character (U+1F600), which loads and saves again
    good = _json_text_of(data, b"ARCH", f'"name":"{name}"', '"name":"m\\ud83d\\ude00"')
    model = load_model_from_bytes(good)
    assert model.name == "m\U0001F600"
    model.save(tmp_path / "again.ff")
    assert ff.models.load_model(tmp_path / "again.ff").name == "m\U0001F600"


# ---------------------------------------------------------------------------------- linear time
def _chain_bytes(tmp_path, n):
    inp = ff.Input(shape=(2,), name="x")
    h = inp
    for _ in range(n):
        h = L.Activation("linear")(h)
    path = tmp_path / f"chain{n}.ff"
    ff.Model(inp, h).save(path)
    return path.read_bytes()


def _python_lines(fn):
    """Python lines executed by fn() inside forgeflow's package: a count of the work done that
    does not depend on the machine's speed."""
    package = os.path.dirname(ff.__file__)
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def trace(frame, event, arg):
        if frame.f_code.co_filename.startswith(package):
            return local
        return None

    sys.settrace(trace)
    try:
        fn()
    finally:
        sys.settrace(None)
    return count


def test_loading_and_saving_work_grows_linearly_with_the_layers(tmp_path):
    """A functional model of n chained layers: the Python work of load_model and of save grows
    as n (the graph walk once listed each layer by scanning the list so far: n^2 / 2 steps,
    34 s for 40,000 layers)."""
    small, large = _chain_bytes(tmp_path, 300), _chain_bytes(tmp_path, 1200)
    models = {}
    load = {n: _python_lines(lambda n=n, d=d: models.__setitem__(n, load_model_from_bytes(d)))
            for n, d in ((300, small), (1200, large))}
    save = {n: _python_lines(lambda n=n: models[n].save(tmp_path / f"again{n}.ff"))
            for n in (300, 1200)}
    assert len(models[1200].layers) == 1201  # the InputLayer too
    assert load[1200] < 4.4 * load[300]  # 4 times the layers: about 4 times the work
    assert save[1200] < 4.4 * save[300]
