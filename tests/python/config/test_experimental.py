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


# ---- fit's NumPy arrays kept on the GPU: the share of free memory they may take ----
@pytest.fixture
def restore_resident_fraction():
    saved = ff.config.experimental.get_resident_array_fraction()
    yield
    ff.config.experimental.set_resident_array_fraction(saved)


def test_resident_array_fraction_defaults_to_a_quarter_and_takes_0_to_1(restore_resident_fraction):
    exp = ff.config.experimental
    assert exp.get_resident_array_fraction() == 0.25
    for value in (0, 0.5, 1, np.float32(0.75)):
        exp.set_resident_array_fraction(value)
        assert exp.get_resident_array_fraction() == float(value)


@pytest.mark.parametrize("bad, error, message", [
    (True, TypeError, "received bool True"),
    ("0.5", TypeError, "received str '0.5'"),
    (None, TypeError, "received NoneType None"),
    (-0.1, ValueError, "received -0.1"),
    (1.5, ValueError, "received 1.5"),
    (float("nan"), ValueError, "received nan"),
])
def test_resident_array_fraction_refuses_what_is_not_a_share(bad, error, message,
                                                            restore_resident_fraction):
    with pytest.raises(error, match=message.replace("(", r"\(")):
        ff.config.experimental.set_resident_array_fraction(bad)
    assert ff.config.experimental.get_resident_array_fraction() == 0.25


def test_fit_offers_its_train_and_validation_arrays_for_the_device(monkeypatch,
                                                                  restore_resident_fraction):
    """fit asks to keep its arrays on the device with the configured share; on the CPU nothing is
    uploaded (the arrays are host memory) and the batches are gathered from the host arrays."""
    from forgeflow import _data_adapters
    calls = []
    original = _data_adapters.ArrayAdapter.keep_on_device

    def spy(self, model):
        calls.append(self.rows)
        return original(self, model)

    monkeypatch.setattr(_data_adapters.ArrayAdapter, "keep_on_device", spy)
    ff.config.experimental.set_resident_array_fraction(0.5)
    model = ff.Sequential([ff.Input(shape=(3,)), ff.layers.Dense(2)])
    model.compile("sgd", "mse")
    x, y = np.ones((40, 3), np.float32), np.zeros((40, 2), np.float32)
    model.fit(x, y, epochs=2, batch_size=8, validation_split=0.25, verbose=0)
    assert calls == [30, 10]
    assert model._core.make_resident([x], [y], 0.5) is None  # the CPU
    assert model._core.input_stats is None
