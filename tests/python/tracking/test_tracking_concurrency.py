"""Two processes training at once into one tracking database both get complete records
(WAL, busy timeout, retries: tracking/database.py)."""
import os
import subprocess
import sys
import textwrap
import time

import forgeflow as ff

SCRIPT = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    import forgeflow as ff
    tag, go = sys.argv[1], sys.argv[2]
    ff.utils.set_random_seed(int(tag))
    x = np.random.rand(64, 4).astype("float32")
    y = np.random.rand(64, 1).astype("float32")
    model = ff.Sequential([ff.layers.Dense(4, input_shape=(4,)), ff.layers.Dense(1)],
                          name="model_" + tag)
    model.compile(optimizer="sgd", loss="mse")
    other = os.path.join(os.path.dirname(go), "started_" + ("2" if tag == "1" else "1"))
    def artifact(epoch, logs):
        ff.tracking.log_artifact(f"/tmp/ckpt_{tag}_{epoch}.ff", "checkpoint")
        if epoch == 0:  # both fits are inside fit() together before either goes on
            open(os.path.join(os.path.dirname(go), "started_" + tag), "w").close()
            deadline = time.time() + 120
            while not os.path.exists(other) and time.time() < deadline:
                time.sleep(0.01)
    while not os.path.exists(go):   # start both fits together
        time.sleep(0.01)
    model.fit(x, y, batch_size=4, epochs=40, verbose=0,
              callbacks=[ff.callbacks.LambdaCallback(on_epoch_end=artifact)])
    print("done", tag, flush=True)
""")


def test_two_processes_training_at_once(_tracking_database, tmp_path):
    go = tmp_path / "go"
    env = dict(os.environ, FORGEFLOW_TRACKING=str(_tracking_database),
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, tag, str(go)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for tag in ("1", "2")]
    try:
        time.sleep(0.5)
        go.write_text("go")
        outs = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert "RuntimeWarning" not in err, err  # no "tracking is off for this fit"
    runs = ff.tracking.list_runs()
    assert sorted(r["model_name"] for r in runs) == ["model_1", "model_2"]
    for summary in runs:
        run = ff.tracking.get_run(summary["id"])
        assert run["status"] == "finished"
        assert [m["epoch"] for m in run["epoch_metrics"]] == list(range(40))
        assert len(run["artifacts"]) == 40
    # the two fits overlapped (each waited inside fit for the other to start)
    (a, b) = sorted(runs, key=lambda r: r["started_at"])
    assert b["started_at"] < a["ended_at"]
