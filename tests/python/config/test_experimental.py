"""ff.config.experimental as tf.config.experimental: get_memory_info's {'current', 'peak'} bytes
from the device's counters (growing with a model's weights and batch buffers, falling when they
are freed), reset_memory_stats, and clear errors for device names that do not parse or name no
device."""
import gc

import numpy as np
import pytest

import forgeflow as ff

exp = ff.config.experimental


def test_cpu_memory_info_follows_a_models_buffers():
    before = exp.get_memory_info("CPU:0")
    assert set(before) == {"current", "peak"}
    assert isinstance(before["current"], int) and before["peak"] >= before["current"] >= 0
    model = ff.Sequential([ff.Input(shape=(1000,)), ff.layers.Dense(1000)])
    if model._core.device != "cpu":
        pytest.skip("the model is on a GPU here (tests/python/config/test_gpu.py)")
    weights = exp.get_memory_info("CPU:0")
    assert weights["current"] - before["current"] >= 1000 * 1000 * 4  # the kernel at least
    model.predict(np.zeros((256, 1000), np.float32), batch_size=256, verbose=0)
    buffers = exp.get_memory_info("CPU:0")
    assert buffers["current"] - weights["current"] >= 256 * 1000 * 4 * 2  # input and output
    assert buffers["peak"] >= buffers["current"]
    del model
    gc.collect()
    assert exp.get_memory_info("CPU:0")["current"] <= before["current"]


def test_reset_memory_stats_restarts_the_peak_from_what_is_in_use():
    model = ff.Sequential([ff.Input(shape=(100,)), ff.layers.Dense(100)])
    device = "CPU:0" if model._core.device == "cpu" else "GPU:0"
    model.predict(np.zeros((4096, 100), np.float32), batch_size=4096, verbose=0)
    del model
    gc.collect()
    info = exp.get_memory_info(device)
    assert info["peak"] > info["current"]
    exp.reset_memory_stats(device)
    info = exp.get_memory_info(device)
    assert info["peak"] == info["current"]


@pytest.mark.parametrize("name", ["CPU:0", "cpu:0", "/device:CPU:0", "/CPU:0",
                                  "/physical_device:CPU:0", "cpu"])
def test_cpu_names_as_tensorflow_writes_them(name):
    assert set(exp.get_memory_info(name)) == {"current", "peak"}


def test_bad_device_names_are_clear_errors():
    with pytest.raises(ValueError, match="Failed parsing device name: 'TPU:0'; expected a device "
                                         "name like 'GPU:0'"):
        exp.get_memory_info("TPU:0")
    with pytest.raises(ValueError, match="No matching devices found for 'CPU:1': the visible "
                                         "devices are CPU:0"):
        exp.get_memory_info("CPU:1")
    n = len(ff.config.get_visible_devices("GPU"))
    with pytest.raises(ValueError, match=f"No matching devices found for 'GPU:{n}'"):
        exp.get_memory_info(f"GPU:{n}")
    with pytest.raises(ValueError, match=f"No matching devices found for 'GPU:{n}'"):
        exp.reset_memory_stats(f"GPU:{n}")
    with pytest.raises(TypeError, match="device must be a device name like 'GPU:0'"):
        exp.get_memory_info(0)
