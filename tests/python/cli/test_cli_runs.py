"""The command line (python/forgeflow/cli): ``python -m forgeflow runs list | show | compare``
run through subprocess against a database filled by real fits."""
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import forgeflow as ff


def _cli(*args, database=None, env_db=None):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    if env_db is not None:
        env["FORGEFLOW_TRACKING"] = str(env_db)
    cmd = [sys.executable, "-m", "forgeflow"]
    if database is not None:
        cmd += ["--database", str(database)]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def two_runs(_tracking_database, tmp_path):
    ff.utils.clear_session()
    ff.utils.set_random_seed(2)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True).astype(np.float32)
    ids = []
    for lr, epochs in ((0.01, 2), (0.05, 3)):
        model = ff.Sequential([ff.layers.Dense(1, input_shape=(3,))], name=f"lin_{epochs}")
        model.compile(ff.optimizers.SGD(learning_rate=lr), "mse")
        model.fit(x, y, epochs=epochs, validation_split=0.25, verbose=0)
        ids.append(model._tracking_run_id)
    ff.tracking.log_artifact(tmp_path / "best.ff", "checkpoint", run_id=ids[1])
    return _tracking_database, ids


def test_runs_list(two_runs):
    db, (a, b) = two_runs
    r = _cli("runs", "list", env_db=db)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ID", "STARTED", "DURATION", "STATUS", "MODEL", "PARAMS",
                                "EPOCHS", "LOSS", "VAL_LOSS"]
    assert lines[2].startswith(b) and lines[3].startswith(a)  # newest first
    assert "finished" in lines[2] and "lin_3" in lines[2] and "3/3" in lines[2]
    final = ff.tracking.get_run(b)["epoch_metrics"][-1]
    assert f"{final['loss']:.4f}" in lines[2] and f"{final['val_loss']:.4f}" in lines[2]
    assert _cli("runs", "list", "--limit", "1", env_db=db).stdout.count("finished") == 1
    # --database reads another file than FORGEFLOW_TRACKING
    r = _cli("runs", "list", database=db, env_db=os.path.join(os.path.dirname(db), "none.db"))
    assert b in r.stdout


def test_runs_show(two_runs):
    db, (a, b) = two_runs
    r = _cli("runs", "show", b[:-1], env_db=db)  # a unique prefix is enough
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert f"ID:" in out and b in out
    assert "Status:          finished" in out
    assert "sgd (learning_rate=0.0500)" in out
    assert "MeanSquaredError" in out and "Epochs:          3/3" in out
    run = ff.tracking.get_run(b)
    assert run["data_fingerprint"] in out
    header = [line for line in out.splitlines() if line.startswith("EPOCH")][0]
    assert header.split() == ["EPOCH", "loss", "val_loss"]
    assert "checkpoint" in out and "best.ff" in out
    r = _cli("runs", "show", b, "--json", env_db=db)
    import json
    assert json.loads(r.stdout)["epoch_metrics"] == run["epoch_metrics"]


def test_runs_compare(two_runs):
    db, (a, b) = two_runs
    r = _cli("runs", "compare", a, b, env_db=db)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    optimizer = [line for line in lines if line.startswith("Optimizer")][0]
    assert "0.0100" in optimizer and "0.0500" in optimizer and optimizer.rstrip().endswith("*")
    data = [line for line in lines if line.startswith("Data ")][0]
    assert not data.rstrip().endswith("*")  # same training data
    assert any(line.startswith("Architecture") and "identical" in line for line in lines)
    assert "Final epoch metrics" in r.stdout and "Per epoch (A | B)" in r.stdout
    ra, rb = ff.tracking.get_run(a), ff.tracking.get_run(b)
    delta = rb["epoch_metrics"][-1]["loss"] - ra["epoch_metrics"][-1]["loss"]
    assert f"{delta:+.4g}" in r.stdout


@pytest.mark.parametrize("args", [("runs", "show", "nope"), ("runs", "compare", "nope", "x")])
def test_bad_id_is_one_line_and_exit_1(two_runs, args):
    db, _ = two_runs
    r = _cli(*args, env_db=db)
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        f"forgeflow: error: No run with id 'nope' in {os.path.abspath(db)}"]


def test_empty_and_missing_database(tmp_path):
    r = _cli("runs", "list", env_db=tmp_path / "absent.db")
    assert r.returncode == 0 and "No runs recorded yet" in r.stdout
    assert not (tmp_path / "absent.db").exists()
    r = _cli("runs", "show", "x", env_db=tmp_path / "absent.db")
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1
    r = _cli("runs", env_db=tmp_path / "absent.db")
    assert r.returncode == 2


def _tracking_helpers():
    """tests/python/tracking/_tracking_helpers.py (a database of runs, damaged pages)."""
    import importlib.util
    path = os.path.join(os.path.dirname(os.path.dirname(__file__)), "tracking",
                        "_tracking_helpers.py")
    spec = importlib.util.spec_from_file_location("_tracking_helpers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_damaged_database_lists_the_readable_runs_and_exits_1(tmp_path):
    helpers = _tracking_helpers()
    db = tmp_path / "runs.db"
    ids = helpers.make_database(db, 150)
    leaves = helpers.leaf_pages(db, "runs")
    rows = helpers.cells(db, leaves[len(leaves) // 2])
    lost = [i for n, i in enumerate(ids) if any(f"model-{n:04d}".encode() in r for r in rows)]
    helpers.damage_page(db, leaves[len(leaves) // 2])
    r = _cli("runs", "list", env_db=db)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert r.stderr.splitlines() == [
        f"forgeflow: error: {db} is damaged (database disk image is malformed): {len(lost)} runs "
        "could not be read; the readable ones are listed"]
    listed = [line.split()[0] for line in r.stdout.splitlines()[2:]]
    assert listed == [i for i in reversed(ids) if i not in lost]
    r = _cli("runs", "show", lost[0], env_db=db)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.splitlines() == [
        f"forgeflow: error: Run {lost[0]} in {db} cannot be read: database disk image is "
        "malformed"]


def test_a_row_with_bad_json_is_listed_and_shown_with_the_field_marked(tmp_path):
    import sqlite3
    helpers = _tracking_helpers()
    db = tmp_path / "runs.db"
    ids = helpers.make_database(db, 3)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE runs SET optimizer_config = '{oops' WHERE id = ?", (ids[1],))
    conn.commit()
    conn.close()
    r = _cli("runs", "list", env_db=db)
    assert r.returncode == 0, r.stderr
    assert [line.split()[0] for line in r.stdout.splitlines()[2:]] == ids[::-1]
    assert r.stderr.splitlines() == [
        f"forgeflow: warning: run {ids[1]} has unreadable fields: optimizer_config"]
    r = _cli("runs", "show", ids[1], env_db=db)
    assert r.returncode == 0, r.stderr
    optimizer = [line for line in r.stdout.splitlines() if line.startswith("Optimizer:")]
    assert optimizer == ["Optimizer:       ? (unreadable: not valid JSON: Expecting property "
                         "name enclosed in double quotes: line 1 column 2 (char 1))"]
    assert "Model:           model-0001 (Sequential, 4 layers)" in r.stdout
    r = _cli("runs", "compare", ids[0], ids[1], env_db=db)
    assert r.returncode == 0, r.stderr
    assert "unreadable" in [line for line in r.stdout.splitlines()
                            if line.startswith("Optimizer")][0]


def test_a_died_run_is_listed_as_died(tmp_path):
    helpers = _tracking_helpers()
    from forgeflow.tracking.database import Database
    db = tmp_path / "runs.db"
    ids = helpers.make_database(db, 1)
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True)
    conn = Database(str(db))
    conn.insert_run({"id": "20231114-000001-" + "0" * 24, "started_at": helpers.T0 + 5,
                     "status": "running", "model_name": "gone", "hostname": socket.gethostname(),
                     "pid": int(child.stdout)})
    conn.close()
    r = _cli("runs", "list", env_db=db)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[2].split()[4:6] == ["died", "gone"] and "finished" in lines[3]
    r = _cli("runs", "list", "--status", "died", env_db=db)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 3 and "gone" in r.stdout
    r = _cli("runs", "list", "--status", "running", env_db=db)
    assert r.returncode == 0 and r.stdout.startswith("No runs")
    r = _cli("runs", "show", "20231114-000001", env_db=db)
    assert f"Status:          died: the process (pid {int(child.stdout)}" in r.stdout
    assert ids[0] in _cli("runs", "list", "--status", "finished", env_db=db).stdout
