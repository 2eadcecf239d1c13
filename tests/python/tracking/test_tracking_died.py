"""A fit whose process ended without recording an end (SIGKILL, power loss) reads as "died"
(tracking/process.py, database.py): its row says "running", but on this host the machine has
rebooted since, or the process with the stored pid is gone, a zombie, or another process that
got the same pid. Runs of other hosts or other pid namespaces cannot be checked and stay
"running"."""
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import forgeflow as ff
from forgeflow.tracking import process
from forgeflow.tracking.database import Database

from _tracking_helpers import T0, make_database, python_env

SCRIPT = textwrap.dedent("""
    import sys, time
    import numpy as np
    import forgeflow as ff

    def hold(epoch, logs):
        open(sys.argv[1], "w").close()
        time.sleep(600)

    model = ff.Sequential([ff.layers.Dense(1, input_shape=(3,))], name="doomed")
    model.compile("sgd", "mse")
    x = np.zeros((8, 3), np.float32)
    model.fit(x, x[:, :1], epochs=3, verbose=0,
              callbacks=[ff.callbacks.LambdaCallback(on_epoch_end=hold)])
""")


@pytest.mark.skipif(not hasattr(os, "waitid"), reason="needs os.waitid (POSIX)")
def test_a_sigkilled_fit_reads_as_died(_tracking_database, tmp_path):
    marker = tmp_path / "in_fit"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(marker)],
                            env=dict(python_env(), FORGEFLOW_TRACKING=str(_tracking_database)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the fit did not start"
            time.sleep(0.05)
        (run,) = ff.tracking.list_runs()
        assert run["model_name"] == "doomed" and run["pid"] == proc.pid
        assert run["status"] == "running"  # alive: not mistaken for dead
        os.kill(proc.pid, signal.SIGKILL)
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # a zombie, not reaped yet
        assert ff.tracking.list_runs()[0]["status"] == "died"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stderr.close()
    run = ff.tracking.get_run(run["id"])
    assert run["status"] == "died" and run["ended_at"] is None
    assert run["error"] == (f"the process (pid {proc.pid} on {socket.gethostname()}) ended "
                            "without recording the end of the fit")
    assert [r["id"] for r in ff.tracking.list_runs(status="died")] == [run["id"]]
    assert ff.tracking.list_runs(status="running") == []
    # the row itself still says "running": died is what a reader concludes
    conn = Database(str(_tracking_database), create=False)
    assert conn._read("SELECT status FROM runs")[0][0] == "running"
    conn.close()


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process start times: /proc")
def test_pid_reuse_reboots_namespaces_old_rows_and_other_hosts(_tracking_database):
    here, me = socket.gethostname(), os.getpid()
    mine = process.process_start(me)
    boot, namespace, ticks = mine.split(":")  # boot id : pid namespace : start in clock ticks
    assert mine == process.process_start()
    db = Database(str(_tracking_database))
    dead = _dead_pid()
    rows = {
        "alive": (here, me, mine),
        "reused-pid": (here, me, f"{boot}:{namespace}:{int(ticks) - 1}"),  # now another process
        "rebooted": (here, me, f"another-boot:{namespace}:{ticks}"),
        "in-a-container": (here, dead, f"{boot}:1:{ticks}"),  # another pid namespace's pid
        "dead": (here, dead, None),  # a row from before process_start was stored
        "elsewhere": ("some-other-host.example", dead, None),  # cannot be checked here
        "no-pid": (here, None, None),
    }
    for i, (name, (host, pid, start)) in enumerate(rows.items()):
        db.insert_run({"id": f"20231114-000000-{i:024x}", "started_at": T0 + i,
                       "status": "running", "model_name": name, "hostname": host, "pid": pid,
                       "process_start": start})
    db.close()
    status = {r["model_name"]: r["status"] for r in ff.tracking.list_runs()}
    assert status == {"alive": "running", "reused-pid": "died", "rebooted": "died",
                      "in-a-container": "running", "dead": "died", "elsewhere": "running",
                      "no-pid": "running"}


def test_a_database_without_the_process_start_column_still_works(_tracking_database):
    # a file written before process_start was stored: read as it is, the column added by the
    # first writer
    ids = make_database(_tracking_database, 2)
    conn = sqlite3.connect(_tracking_database)
    conn.execute("ALTER TABLE runs DROP COLUMN process_start")
    conn.execute("UPDATE runs SET status = 'running', hostname = ?, pid = ? WHERE id = ?",
                 (socket.gethostname(), _dead_pid(), ids[0]))
    conn.commit()
    conn.close()
    assert [r["status"] for r in ff.tracking.list_runs()] == ["finished", "died"]
    x = np.zeros((8, 3), np.float32)
    model = ff.Sequential([ff.layers.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    run = ff.tracking.get_run(model._tracking_run_id)
    assert run["status"] == "finished" and run["process_start"] == process.process_start()
    assert [r["status"] for r in ff.tracking.list_runs()] == ["finished", "finished", "died"]


def test_a_database_without_the_workers_column_gets_it(_tracking_database):
    # a file written before ff.distribute's workers column: its runs read None, the column is
    # added by the first writer, and a fit alone records 1 worker
    make_database(_tracking_database, 1)
    conn = sqlite3.connect(_tracking_database)
    conn.execute("ALTER TABLE runs DROP COLUMN workers")
    conn.commit()
    conn.close()
    assert [r["workers"] for r in ff.tracking.list_runs()] == [None]
    x = np.zeros((8, 3), np.float32)
    model = ff.Sequential([ff.layers.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    assert ff.tracking.get_run(model._tracking_run_id)["workers"] == 1
