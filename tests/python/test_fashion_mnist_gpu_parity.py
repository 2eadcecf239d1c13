"""The GPU trains like the CPU (marked `gpu`; scripts/gpu-check.sh runs it on a GPU machine):
three epochs of the MLP 784-512-512-10 (Adam, batch 128, float32, the same seed) on
Fashion-MNIST end with weights within 1e-4 of the CPU run's, with TF32 off (its default is on).
Each run is its own process (FORGEFLOW_DEVICE=cpu / cuda), since a process places every model
on one device."""
import os
import subprocess
import sys

import numpy as np
import pytest

import forgeflow as ff

pytestmark = pytest.mark.gpu

_TRAIN = r"""
import sys
import numpy as np
import forgeflow as ff
ff.config.experimental.enable_tensor_float_32_execution(False)  # float32 exactly, as the CPU
(x, y), _ = ff.datasets.fashion_mnist.load_data()
x = (x.reshape(-1, 784) / 255.0).astype(np.float32)
ff.utils.set_random_seed(7)
model = ff.Sequential([ff.Input(shape=(784,)), ff.layers.Dense(512, activation="relu"),
                       ff.layers.Dense(512, activation="relu"), ff.layers.Dense(10)])
model.compile(optimizer="adam",
              loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
history = model.fit(x, y, batch_size=128, epochs=3, verbose=0)
np.savez(sys.argv[1], *model.get_weights(), device=model._core.device,
         loss=np.array(history.history["loss"]))
"""


def _train_on(device, path):
    env = dict(os.environ, FORGEFLOW_DEVICE=device)
    done = subprocess.run([sys.executable, "-c", _TRAIN, str(path)], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"training on {device} failed:\n{done.stderr[-3000:]}"
    return np.load(path)


def test_three_mlp_epochs_on_the_gpu_end_within_1e_4_of_the_cpu(tmp_path):
    try:
        ff.datasets.fashion_mnist.load_data()
    except FileNotFoundError as e:
        pytest.skip(str(e).splitlines()[0])
    cpu = _train_on("cpu", tmp_path / "cpu.npz")
    gpu = _train_on("cuda", tmp_path / "gpu.npz")
    assert str(cpu["device"]) == "cpu" and str(gpu["device"]) == "cuda:0"
    weights = sorted(k for k in cpu.files if k.startswith("arr_"))
    assert len(weights) == 6
    for key in weights:
        np.testing.assert_allclose(gpu[key], cpu[key], rtol=0, atol=1e-4,
                                   err_msg=f"weight {key} differs between GPU and CPU")
    np.testing.assert_allclose(gpu["loss"], cpu["loss"], rtol=1e-4)
