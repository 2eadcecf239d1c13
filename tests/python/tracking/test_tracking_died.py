"""A fit whose process ended without recording an end (SIGKILL, power loss) reads as "died"
(tracking/process.py, database.py): its row says "running", but the process with the stored pid
on this host is gone, a zombie, or another process that got the same pid. Runs of other hosts
cannot be checked and stay "running"."""
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

import forgeflow as ff
from forgeflow.tracking import process
from forgeflow.tracking.database import Database

from _tracking_helpers import T0, python_env

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
def test_pid_reuse_old_rows_and_other_hosts(_tracking_database):
    here, me = socket.gethostname(), os.getpid()
    mine = process.process_start(me)
    assert mine and mine.count(":") == 1  # boot id : start time in clock ticks
    db = Database(str(_tracking_database))
    dead = _dead_pid()
    rows = {
        "alive": (here, me, mine),
        "reused-pid": (here, me, "another-boot:12345"),  # this pid now is another process
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
    assert status == {"alive": "running", "reused-pid": "died", "dead": "died",
                      "elsewhere": "running", "no-pid": "running"}
