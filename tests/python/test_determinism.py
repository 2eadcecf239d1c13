"""ff.utils.set_random_seed makes CPU training bit-for-bit reproducible (initializers, dropout,
shuffling), in one process and across processes; another seed gives other weights."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import forgeflow as ff

PYTHON_DIR = Path(ff.__file__).resolve().parents[1]


def _train(seed):
    ff.utils.set_random_seed(seed)
    rng = np.random.default_rng(0)  # the data is fixed; only the seed varies
    x = rng.normal(size=(96, 6)).astype(np.float32)
    y = (x[:, 0] - x[:, 1] > 0).astype(np.int64)
    model = ff.Sequential([
        ff.layers.Dense(16, activation="relu", input_shape=(6,)),
        ff.layers.Dropout(0.3),
        ff.layers.Dense(2),
    ])
    model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=16, shuffle=True, validation_split=0.25, verbose=0)
    return model.get_weights(), history.history


def test_same_seed_same_process_is_bit_identical():
    w1, h1 = _train(123)
    w2, h2 = _train(123)
    assert len(w1) == len(w2) == 4
    for a, b in zip(w1, w2):
        assert np.array_equal(a, b)
    assert h1 == h2


def test_different_seed_gives_different_weights():
    w1, _ = _train(123)
    w2, _ = _train(124)
    for a, b in zip(w1, w2):
        if a.ndim == 2:  # kernels (biases start at zero but move too)
            assert not np.array_equal(a, b)


def test_seed_also_controls_numpy_and_python_random():
    import random
    ff.utils.set_random_seed(7)
    a = (random.random(), np.random.rand())
    ff.utils.set_random_seed(7)
    assert (random.random(), np.random.rand()) == a


@pytest.mark.parametrize("seed", [-1, 1.5, True, "1"])
def test_invalid_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        ff.utils.set_random_seed(seed)


_SCRIPT = r"""
import sys
import numpy as np
import forgeflow as ff
ff.utils.set_random_seed(2024)
rng = np.random.default_rng(0)
x = rng.normal(size=(96, 6)).astype(np.float32)
y = (x[:, 0] - x[:, 1] > 0).astype(np.int64)
model = ff.Sequential([ff.layers.Dense(16, activation="relu", input_shape=(6,)),
                       ff.layers.Dropout(0.3), ff.layers.Dense(2)])
model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(x, y, epochs=3, batch_size=16, shuffle=True, verbose=0)
for i, w in enumerate(model.get_weights()):
    np.save(sys.argv[1] + f"_{i}.npy", w)
"""


def test_two_processes_produce_bit_identical_weights(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PYTHON_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    prefixes = []
    for run in ("a", "b"):
        prefix = str(tmp_path / run)
        result = subprocess.run([sys.executable, "-c", _SCRIPT, prefix], env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        prefixes.append(prefix)
    for i in range(4):
        a = np.load(f"{prefixes[0]}_{i}.npy")
        b = np.load(f"{prefixes[1]}_{i}.npy")
        assert a.dtype == np.float32
        assert a.tobytes() == b.tobytes()
    # and a run in this process with the same script agrees with them
    namespace = {}
    prefix_here = str(tmp_path / "here")
    old_argv = sys.argv
    sys.argv = ["-c", prefix_here]
    try:
        exec(compile(_SCRIPT, "<determinism>", "exec"), namespace)
    finally:
        sys.argv = old_argv
    for i in range(4):
        assert np.load(f"{prefixes[0]}_{i}.npy").tobytes() == np.load(f"{prefix_here}_{i}.npy").tobytes()
