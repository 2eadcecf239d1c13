"""Run ids (tracking/recorder.py, database.py): a UTC time prefix and 96 random bits, a new id
when one is taken anyway, and databases holding the older, shorter ids keep working."""
import re
import time
import types
import warnings

import numpy as np
import pytest

import forgeflow as ff
from forgeflow.tracking import recorder

from _tracking_helpers import make_database

ID = re.compile(r"^(\d{8}-\d{6})-([0-9a-f]{24})$")


def _fit(name="m"):
    x = np.zeros((8, 3), np.float32)
    model = ff.Sequential([ff.layers.Dense(1, input_shape=(3,))], name=name)
    model.compile("sgd", "mse")
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    return model._tracking_run_id


def test_ids_are_a_utc_time_prefix_and_96_random_bits():
    before = time.gmtime(time.time() - 1)
    ids = [_fit() for _ in range(3)]
    after = time.gmtime(time.time() + 1)
    prefixes = []
    for run_id in ids:
        match = ID.match(run_id)
        assert match, run_id
        prefixes.append(match.group(1))
    assert time.strftime("%Y%m%d-%H%M%S", before) <= min(prefixes)
    assert max(prefixes) <= time.strftime("%Y%m%d-%H%M%S", after)
    assert len(set(ids)) == 3


def test_a_taken_id_is_replaced_not_lost(monkeypatch):
    # Two fits in the same second drawing the same random part: before, the second one lost its
    # record to "UNIQUE constraint failed: runs.id" (8 writers for 30 s lost 3 of 38,051 runs).
    tokens = iter(["ab" * 12, "ab" * 12, "cd" * 12, "ef" * 12])
    fixed = time.gmtime(1_700_000_000)
    monkeypatch.setattr(recorder, "secrets", types.SimpleNamespace(
        token_hex=lambda n: next(tokens)))
    monkeypatch.setattr(recorder, "time", types.SimpleNamespace(
        time=time.time, strftime=time.strftime, gmtime=lambda *a: fixed))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Run tracking is off for this fit"
        first, second = _fit("first"), _fit("second")
    assert first == "20231114-221320-" + "ab" * 12
    assert second == "20231114-221320-" + "cd" * 12
    runs = ff.tracking.list_runs()
    assert sorted((r["id"], r["model_name"]) for r in runs) == [(first, "first"),
                                                                (second, "second")]


def test_older_short_ids_live_beside_new_ones(_tracking_database):
    old = make_database(_tracking_database, 2)  # ids like 20231114-000000-000000
    new = _fit("new")
    runs = ff.tracking.list_runs()
    assert [r["id"] for r in runs] == [new, old[1], old[0]]  # newest first
    assert ff.tracking.get_run(old[1])["model_name"] == "model-0001"
    assert ff.tracking.get_run(new[:20])["model_name"] == "new"  # a prefix of a new id
    with pytest.raises(ff.tracking.RunNotFoundError, match="ambiguous"):
        ff.tracking.get_run("20231114-")
