"""Convolutional networks on the GPU (marked `gpu`; scripts/gpu-check.sh runs them on a GPU
machine): the TF-tutorial CNN (the CI-sized run of test_tf_tutorial_cnn.py) reaches the CPU's
test accuracy within 0.005, float32 with TF32 off; and a small CNN under mixed_bfloat16 on the
GPU lands within 0.02 of its float32 accuracy, with its activations in 16-bit buffers (training's
peak memory well below float32's). Each device's run is its own process
(FORGEFLOW_DEVICE=cpu / cuda), since a process places every model on one device."""
import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.gpu

_TUTORIAL = r"""
import json
import numpy as np
import forgeflow as ff
from forgeflow.examples.tf_tutorial_cnn import tutorial_cnn
ff.config.experimental.enable_tensor_float_32_execution(False)
ff.utils.set_random_seed(0)
(x, y), (xt, yt) = ff.datasets.fashion_mnist_small.load_data()
x = (x / 255.0).astype("float32")[..., None]
xt = (xt / 255.0).astype("float32")[..., None]
model = tutorial_cnn()
model.compile(optimizer="adam", loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
model.fit(x, y, batch_size=64, epochs=2, verbose=0)
loss, accuracy = model.evaluate(xt, yt, verbose=0)
print(json.dumps({"device": model._core.device, "accuracy": accuracy, "loss": loss}))
"""

_BF16 = r"""
import json
import numpy as np
import forgeflow as ff
(x, y), (xt, yt) = ff.datasets.fashion_mnist_small.load_data()
x = (x / 255.0).astype("float32")[..., None]
xt = (xt / 255.0).astype("float32")[..., None]
result = {}
for policy in ("float32", "mixed_bfloat16"):
    ff.mixed_precision.set_global_policy(policy)
    ff.utils.set_random_seed(0)
    model = ff.Sequential([
        ff.Input(shape=(28, 28, 1)),
        ff.layers.Conv2D(32, 3, activation="relu"), ff.layers.MaxPooling2D(),
        ff.layers.Conv2D(64, 3, activation="relu"), ff.layers.MaxPooling2D(),
        ff.layers.Flatten(), ff.layers.Dense(128, activation="relu"),
        ff.layers.Dense(10, dtype="float32")])
    model.compile(optimizer="adam",
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    device = "GPU:0" if model._core.device.startswith("cuda") else "CPU:0"
    ff.config.experimental.reset_memory_stats(device)
    before = ff.config.experimental.get_memory_info(device)["current"]
    model.fit(x, y, batch_size=128, epochs=3, verbose=0)
    # what training added at its peak: the batch's values and gradients, mostly
    result[policy + "_bytes"] = ff.config.experimental.get_memory_info(device)["peak"] - before
    result[policy] = model.evaluate(xt, yt, verbose=0)[1]
    result["device"] = model._core.device
    del model
ff.mixed_precision.set_global_policy("float32")
print(json.dumps(result))
"""


def _run(script, device):
    env = dict(os.environ, FORGEFLOW_DEVICE=device)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, f"the run on {device} failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_tutorial_cnn_on_the_gpu_reaches_the_cpu_accuracy_within_0_005():
    cpu = _run(_TUTORIAL, "cpu")
    gpu = _run(_TUTORIAL, "cuda")
    assert cpu["device"] == "cpu" and gpu["device"] == "cuda:0"
    assert abs(gpu["accuracy"] - cpu["accuracy"]) <= 0.005, (cpu, gpu)


def test_a_bfloat16_cnn_on_the_gpu_is_within_0_02_of_float32():
    result = _run(_BF16, "cuda")
    assert result["device"] == "cuda:0"
    assert result["float32"] >= 0.70, result  # it learned (chance is 0.10; 0.788 on the CPU)
    assert abs(result["mixed_bfloat16"] - result["float32"]) <= 0.02, result
    # 16-bit buffers: the activations and their gradients take half the bytes (the weights,
    # their float32 gradients and Adam's slots do not shrink)
    assert result["mixed_bfloat16_bytes"] < 0.7 * result["float32_bytes"], result
