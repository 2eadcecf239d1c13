"""ff.config.threading: TensorFlow's get/set_intra_op_parallelism_threads (argument checks, 0 for
automatic), OMP_NUM_THREADS read as a fixed count, the automatic count bounded by the CPUs the
process may use (a process pinned to one CPU runs one thread), training bits that do not depend
on the thread count, and the OpenMP spin setting kept out of the environment children see."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import forgeflow as ff

threading = ff.config.threading
PYTHON_DIR = Path(ff.__file__).resolve().parents[1]


@pytest.fixture
def automatic_afterwards():
    yield
    threading.set_intra_op_parallelism_threads(0)


def _run(code, env_update=None, pin_to=None):
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "GOMP_SPINCOUNT")}
    env["PYTHONPATH"] = str(PYTHON_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_update or {})
    preexec = (lambda: os.sched_setaffinity(0, {pin_to})) if pin_to is not None else None
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120, preexec_fn=preexec)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_set_and_get_follow_tensorflow(automatic_afterwards):
    threading.set_intra_op_parallelism_threads(3)
    assert threading.get_intra_op_parallelism_threads() == 3
    assert threading.current_intra_op_threads() == 3  # fixed: whatever the machine's load
    threading.set_intra_op_parallelism_threads(np.int64(1))
    assert threading.get_intra_op_parallelism_threads() == 1
    threading.set_intra_op_parallelism_threads(0)
    assert threading.get_intra_op_parallelism_threads() == 0
    assert 1 <= threading.current_intra_op_threads() <= threading.usable_cpu_count()
    assert threading.usable_cpu_count() <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize("bad", ["4", 2.0, True, None])
def test_set_rejects_what_is_not_an_int(bad, automatic_afterwards):
    with pytest.raises(TypeError, match=r"expected an int \(0 for automatic\), received"):
        threading.set_intra_op_parallelism_threads(bad)
    assert threading.get_intra_op_parallelism_threads() == 0


def test_set_rejects_a_negative_count(automatic_afterwards):
    with pytest.raises(ValueError, match="expected 0 \\(automatic\\) or a positive thread count, "
                                         "received -2"):
        threading.set_intra_op_parallelism_threads(-2)


def test_a_process_pinned_to_one_cpu_uses_one_thread():
    cpu = min(os.sched_getaffinity(0))
    out = _run("import forgeflow as ff; t = ff.config.threading\n"
               "print(t.usable_cpu_count(), t.current_intra_op_threads(),"
               " t.get_intra_op_parallelism_threads())", pin_to=cpu)
    assert out == ["1", "1", "0"]


@pytest.mark.parametrize("value, fixed", [("3", "3"), ("2,1", "2"), (" 5 ", "5"),
                                          ("abc", "0"), ("0", "0"), ("-1", "0")])
def test_omp_num_threads_fixes_the_count(value, fixed):
    out = _run("import forgeflow as ff; t = ff.config.threading\n"
               "print(t.get_intra_op_parallelism_threads(), t.current_intra_op_threads())",
               {"OMP_NUM_THREADS": value})
    assert out[0] == fixed
    if fixed != "0":
        assert out[1] == fixed


def test_the_spin_setting_stays_out_of_the_environment():
    # forgeflow shortens libgomp's spin for itself only; a user's own setting is left alone.
    assert _run("import os, forgeflow; print(os.environ.get('GOMP_SPINCOUNT', 'unset'))") == ["unset"]
    assert _run("import os, forgeflow; print(os.environ.get('GOMP_SPINCOUNT'))",
                {"GOMP_SPINCOUNT": "123"}) == ["123"]


def _train_weights():
    ff.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(256, 784)).astype(np.float32)
    y = rng.integers(0, 10, 256)
    model = ff.Sequential([ff.layers.Dense(512, activation="relu", input_shape=(784,)),
                           ff.layers.Dense(10)])
    model.compile(ff.optimizers.Adam(1e-3), ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=128, epochs=1, shuffle=False, verbose=0)
    return model.get_weights() + [model.predict(x[:1], verbose=0)]


def test_training_bits_do_not_depend_on_the_thread_count(automatic_afterwards):
    # 8 threads made oneDNN's own sgemm split this layer's 784-long sums (and 2 threads a
    # single-row product): the GEMM now runs in tiles fixed by the shape.
    results = []
    for n in (1, 2, 8):
        threading.set_intra_op_parallelism_threads(n)
        results.append(_train_weights())
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert a.tobytes() == b.tobytes()
