"""A damaged tracking database (tracking/database.py, recorder.py): a malformed page loses only
the runs on it (the others are listed, with a TrackingDatabaseWarning), a row with bad JSON or
bad text is listed with its bad fields marked, what cannot be read at all is a
TrackingDatabaseError (never an sqlite3 error), and a fit refuses to write into a damaged file:
it warns and trains."""
import sqlite3
import warnings

import numpy as np
import pytest

import forgeflow as ff

from _tracking_helpers import cells, damage_page, leaf_pages, make_database

N = 150


def _on_page(path, number, names):
    """The names (model names, run ids) found in the rows on page ``number``."""
    rows = cells(path, number)
    return {name for name in names if any(name.encode() in row for row in rows)}


def _names(runs):
    return [r["model_name"] for r in runs]


def test_a_malformed_page_of_runs_loses_only_its_runs(tmp_path):
    path = tmp_path / "runs.db"
    ids = make_database(path, N)
    names = [f"model-{i:04d}" for i in range(N)]
    leaves = leaf_pages(path, "runs")
    assert len(leaves) >= 5
    victim_page = leaves[len(leaves) // 2]  # neither the first nor the last
    lost = _on_page(path, victim_page, names)
    assert 0 < len(lost) < N // 4
    damage_page(path, victim_page)

    with pytest.warns(ff.tracking.TrackingDatabaseWarning,
                      match=rf"{path} is damaged.*{len(lost)} runs? could not be read"):
        runs = ff.tracking.list_runs(database=path)
    expected = [name for name in reversed(names) if name not in lost]
    assert _names(runs) == expected
    assert all(r["epochs_completed"] == 2 and r["unreadable"] == {} for r in runs)
    assert runs[-1]["final_metrics"] == {"loss": 0.5}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ff.tracking.TrackingDatabaseWarning)
        assert _names(ff.tracking.list_runs(limit=7, database=path)) == expected[:7]
        assert ff.tracking.list_runs(status="failed", database=path) == []
    # a readable run is shown whole; a lost one is a typed, one-line error
    readable = ids[names.index(expected[0])]
    run = ff.tracking.get_run(readable, database=path)
    assert run["model_name"] == expected[0] and len(run["epoch_metrics"]) == 2
    victim = ids[names.index(sorted(lost)[0])]
    with pytest.raises(ff.tracking.TrackingDatabaseError,
                       match=rf"^Run {victim} in {path} cannot be read: .*malformed"):
        ff.tracking.get_run(victim, database=path)


def test_a_malformed_page_of_epoch_metrics_marks_those_runs(tmp_path):
    path = tmp_path / "runs.db"
    ids = make_database(path, N)
    victim_page = leaf_pages(path, "epoch_metrics")[2]
    hit = _on_page(path, victim_page, ids)
    assert hit
    damage_page(path, victim_page)
    with pytest.warns(ff.tracking.TrackingDatabaseWarning, match="epoch metrics of"):
        runs = ff.tracking.list_runs(database=path)
    assert len(runs) == N
    for run in runs:
        if run["id"] in hit:
            assert set(run["unreadable"]) == {"epoch_metrics"}
            assert "malformed" in run["unreadable"]["epoch_metrics"]
            assert run["epochs_completed"] is None and run["final_metrics"] == {}
        else:
            assert run["unreadable"] == {} and run["epochs_completed"] == 2
    run = ff.tracking.get_run(sorted(hit)[0], database=path)
    assert run["epoch_metrics"] == [] and "epoch_metrics" in run["unreadable"]


def test_bad_json_and_bad_text_mark_the_field_not_the_table(tmp_path):
    path = tmp_path / "runs.db"
    ids = make_database(path, 4)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE runs SET model_config = '{\"layers\": [' WHERE id = ?", (ids[1],))
    conn.execute("UPDATE runs SET optimizer_config = 'not json', model_name = CAST(X'6dff6d' AS "
                 "TEXT), started_at = 'yesterday' WHERE id = ?", (ids[2],))
    conn.commit()
    conn.close()
    runs = {r["id"]: r for r in ff.tracking.list_runs(database=path)}
    assert len(runs) == 4
    assert runs[ids[0]]["unreadable"] == {} and runs[ids[3]]["unreadable"] == {}
    bad = runs[ids[1]]
    assert bad["model_config"] is None
    assert list(bad["unreadable"]) == ["model_config"]
    assert bad["unreadable"]["model_config"].startswith("not valid JSON")
    assert bad["model_name"] == "model-0001" and bad["epochs_completed"] == 2
    worse = runs[ids[2]]
    assert sorted(worse["unreadable"]) == ["model_name", "optimizer_config", "started_at"]
    assert worse["started_at"] is None and worse["optimizer_config"] is None
    assert worse["model_name"] == "m\ufffdm"  # what is readable of it
    assert "not valid UTF-8" in worse["unreadable"]["model_name"]
    assert "not a number" in worse["unreadable"]["started_at"]
    assert ff.tracking.get_run(ids[2], database=path)["unreadable"] == worse["unreadable"]


@pytest.mark.parametrize("damage", ["not a database", "schema page"])
def test_an_unreadable_file_is_a_typed_error(tmp_path, damage):
    path = tmp_path / "runs.db"
    make_database(path, 20)
    if damage == "not a database":
        path.write_bytes(b"these are not the runs you are looking for" * 100)
    else:
        damage_page(path, 1)  # sqlite_master: nothing can be found
    with pytest.raises(ff.tracking.TrackingDatabaseError, match=str(path)) as info:
        ff.tracking.list_runs(database=path)
    assert "\n" not in str(info.value)
    assert not isinstance(info.value, sqlite3.Error)


def test_a_fit_does_not_write_into_a_damaged_database(_tracking_database):
    make_database(_tracking_database, N)
    leaves = leaf_pages(_tracking_database, "runs")
    damage_page(_tracking_database, leaves[len(leaves) // 2])
    before = _tracking_database.read_bytes()
    x = np.zeros((16, 3), np.float32)
    model = ff.Sequential([ff.layers.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    with pytest.warns(ff.tracking.TrackingDatabaseWarning,
                      match=r"Run tracking is off for this fit.*is damaged"):
        history = model.fit(x, x[:, :1], epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert getattr(model, "_tracking_run_id", None) is None
    assert _tracking_database.read_bytes() == before  # nothing written into it
    # saving the model afterwards is not stopped by the record either
    model.save(_tracking_database.parent / "m.ff")
    assert (_tracking_database.parent / "m.ff").exists()


def test_fits_into_a_healthy_database_record_without_a_warning(_tracking_database):
    make_database(_tracking_database, 3)
    x = np.zeros((16, 3), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):
            model = ff.Sequential([ff.layers.Dense(1, input_shape=(3,))])
            model.compile("sgd", "mse")
            model.fit(x, x[:, :1], epochs=1, verbose=0)
    assert len(ff.tracking.list_runs()) == 5


def test_saving_a_model_whose_record_cannot_be_written_warns(_tracking_database, tmp_path):
    x = np.zeros((16, 3), np.float32)
    model = ff.Sequential([ff.layers.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    model.fit(x, x[:, :1], epochs=1, verbose=0)  # recorded in the healthy database
    assert model._tracking_run_id is not None
    damaged = tmp_path / "damaged.db"
    make_database(damaged, N)
    damage_page(damaged, leaf_pages(damaged, "runs")[3])
    ff.tracking.set_database(damaged)
    with pytest.warns(ff.tracking.TrackingDatabaseWarning,
                      match=r"m\.ff is saved but not listed in the run-tracking record: .*damaged"):
        model.save(tmp_path / "m.ff")
    assert ff.models.load_model(tmp_path / "m.ff").count_params() == model.count_params()
