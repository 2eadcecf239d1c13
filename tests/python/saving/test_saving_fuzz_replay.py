"""Replays the loader fuzzer's seed corpus (tests/fuzz/corpus/load_model) and each file with its
checksums repaired, as the harness does: every input must load or raise a typed
ff.saving.SavedModelError, opening no file. Runs without atheris."""
import functools
import importlib.util
import os
import sys
import types

import pytest

import forgeflow as ff

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus", "load_model")


@functools.lru_cache(maxsize=None)  # once: importing it installs its audit hook
def _harness():
    """The fuzzer module, with a stand-in for atheris (only its import hook is used at import)."""
    fake = types.ModuleType("atheris")
    fake.instrument_imports = lambda **kw: _NullContext()
    saved = sys.modules.get("atheris")
    sys.modules["atheris"] = fake
    try:
        spec = importlib.util.spec_from_file_location(
            "load_model_fuzzer", os.path.join(ROOT, "tests", "fuzz", "load_model_fuzzer.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        if saved is None:
            del sys.modules["atheris"]
        else:
            sys.modules["atheris"] = saved


class _NullContext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


FILES = sorted(os.listdir(CORPUS))


def test_corpus_is_small_and_present():
    assert len(FILES) >= 5
    assert sum(os.path.getsize(os.path.join(CORPUS, f)) for f in FILES) < 256 * 1024


@pytest.mark.parametrize("name", FILES)
def test_corpus_file_loads_or_raises_a_typed_error(name):
    harness = _harness()
    with open(os.path.join(CORPUS, name), "rb") as f:
        data = f.read()
    for variant in (data, harness.repair(data)):
        if variant is not None:
            harness._load(variant)  # raises on any other error, and on a file opened


def test_the_harness_finds_a_file_opened_during_a_load(monkeypatch):
    harness = _harness()
    with open(os.path.join(CORPUS, "sequential_sgd.ff"), "rb") as f:
        data = f.read()

    def peeking_load(data):
        with open(os.path.join(CORPUS, "empty.ff"), "rb"):
            pass

    monkeypatch.setattr(harness, "load_model_from_bytes", peeking_load)
    with pytest.raises(harness.FileAccessDuringLoad, match="empty.ff"):
        harness._load(data)
    with open(os.path.join(CORPUS, "empty.ff"), "rb"):  # outside a load: allowed
        pass


def test_the_corpus_has_the_vocabulary_cases():
    for name in ("lookup_vocabulary.ff", "lookup_vocabulary_path.ff", "user_csv_schema.ff",
                 "user_image_settings.ff"):
        assert name in FILES
    harness = _harness()
    with open(os.path.join(CORPUS, "lookup_vocabulary_path.ff"), "rb") as f:
        with pytest.raises(ff.saving.ConfigError, match="not a file path"):
            harness.load_model_from_bytes(f.read())


# Seeds of tests/fuzz/make_load_model_corpus.py's shape_overflow_seeds(): configs whose integers
# are each in range but whose shape arithmetic overflows or passes the per-sample limit. They
# loaded before (and crashed later, or at once); each must be a ConfigError naming the limit.
SHAPE_SEEDS = [f for f in FILES if f.startswith("shape_")]


def test_shape_overflow_seeds_are_present():
    assert len(SHAPE_SEEDS) >= 6


@pytest.mark.parametrize("name", SHAPE_SEEDS)
def test_shape_overflow_seed_is_a_config_error(name):
    harness = _harness()
    with open(os.path.join(CORPUS, name), "rb") as f:
        data = f.read()
    with pytest.raises(ff.saving.ConfigError, match=r"2147483647 \(2\^31 - 1\)"):
        harness.load_model_from_bytes(data)
