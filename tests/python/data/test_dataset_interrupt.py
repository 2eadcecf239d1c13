"""Ctrl-C during fit on a dataset with worker threads (a parallel Python map and a prefetch
thread): KeyboardInterrupt reaches Python, the pipeline's threads are stopped and joined, and
fit runs again on the same dataset afterwards."""
import os
import signal
import subprocess
import sys
import textwrap
import time

SCRIPT = textwrap.dedent("""
    import os, warnings
    import numpy as np
    import forgeflow as ff
    warnings.simplefilter("ignore")
    x = np.random.rand(20000, 32).astype("float32")
    y = np.random.rand(20000, 1).astype("float32")
    ds = (ff.data.Dataset.from_tensor_slices((x, y)).shuffle(1000, seed=1)
          .map(lambda a, b: (a, b), num_parallel_calls=2).batch(32).prefetch(4))
    model = ff.Sequential([ff.layers.Dense(64, activation="relu", input_shape=(32,)), ff.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x[:64], y[:64], verbose=0)  # starts the compute thread pool
    threads = len(os.listdir("/proc/self/task"))
    print("training", flush=True)
    try:
        model.fit(ds.repeat(), epochs=1000, steps_per_epoch=1000, verbose=0)
        print("finished without interruption", flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    # Once the exception (and the frames its traceback holds) is gone, so are the threads.
    print("threads back", len(os.listdir("/proc/self/task")) == threads, flush=True)
    model.fit(ds.take(5), epochs=1, verbose=0)
    print("trained again", flush=True)
""")


def test_ctrl_c_during_a_dataset_fit_stops_the_pipeline_threads():
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert proc.stdout.readline().strip() == "training"
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "interrupted" in out, err
    assert "threads back True" in out, out
    assert "trained again" in out, err
