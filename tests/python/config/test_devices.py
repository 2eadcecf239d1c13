"""ff.config's devices as tf.config: list_physical_devices (TensorFlow's names and reprs, the CPU
first), get/set_visible_devices (unknown devices, lower-case types, the CPU that cannot be hidden;
hiding the GPUs keeps new models on the CPU), list_logical_devices, and the one-line notice when
a build with the CUDA backend falls back to the CPU: once per process, at the first model, never
for a CPU-only build or an explicit choice of the CPU. Placement in fresh processes, since the
visible devices are fixed once the first model of a process was placed (as in TensorFlow)."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import forgeflow as ff
from forgeflow import _core

PYTHON_DIR = Path(ff.__file__).resolve().parents[1]
NOTICE = "forgeflow: no GPU will be used, running on the CPU: "


def _run(code, env_update=None, unset=("FORGEFLOW_DEVICE",)):
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env["PYTHONPATH"] = str(PYTHON_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_update or {})
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc


def _gpus():
    return ff.config.list_physical_devices("GPU")


def test_physical_devices_have_tensorflows_names_and_reprs():
    devices = ff.config.list_physical_devices()
    assert devices[0] == ff.config.PhysicalDevice(name="/physical_device:CPU:0", device_type="CPU")
    assert repr(devices[0]) == "PhysicalDevice(name='/physical_device:CPU:0', device_type='CPU')"
    assert ff.config.list_physical_devices("CPU") == devices[:1]
    gpus = ff.config.list_physical_devices("GPU")
    assert devices[1:] == gpus
    assert [g.name for g in gpus] == [f"/physical_device:GPU:{i}" for i in range(len(gpus))]
    assert all(g.device_type == "GPU" for g in gpus)
    # A type this machine has none of: empty, as in TensorFlow (portable TPU checks).
    assert ff.config.list_physical_devices("TPU") == []
    assert ff.config.experimental.list_physical_devices is ff.config.list_physical_devices


def test_device_type_arguments_are_checked():
    with pytest.raises(ValueError, match="device types are upper case, as in TensorFlow: use "
                                         "'GPU', not 'gpu'"):
        ff.config.list_physical_devices("gpu")
    with pytest.raises(TypeError, match="device_type must be a str"):
        ff.config.get_visible_devices(0)


def test_set_visible_devices_refuses_what_is_not_a_physical_device():
    cpu = ff.config.list_physical_devices("CPU")[0]
    ghost = ff.config.PhysicalDevice("/physical_device:GPU:7", "GPU")
    with pytest.raises(ValueError, match=r"Unrecognized device: PhysicalDevice\(name='/physical_"
                                         r"device:GPU:7', device_type='GPU'\)"):
        ff.config.set_visible_devices([ghost], "GPU")
    with pytest.raises(ValueError, match="Unrecognized device"):
        ff.config.set_visible_devices([cpu], "GPU")  # not of device_type
    with pytest.raises(ValueError, match="Unrecognized device: '/physical_device:CPU:0'"):
        ff.config.set_visible_devices(["/physical_device:CPU:0"])
    with pytest.raises(TypeError, match="devices must be a PhysicalDevice or a list"):
        ff.config.set_visible_devices("CPU")
    with pytest.raises(ValueError, match="The CPU cannot be hidden"):
        ff.config.set_visible_devices([], "CPU")
    assert ff.config.get_visible_devices("CPU") == [cpu]


def test_visible_and_logical_devices_in_this_process():
    # Whatever earlier tests placed: setting the visible devices to what they are is no change,
    # allowed at any time (TensorFlow's rule).
    visible = ff.config.get_visible_devices()
    ff.config.set_visible_devices(visible)
    ff.config.set_visible_devices(ff.config.get_visible_devices("GPU"), "GPU")
    assert ff.config.get_visible_devices() == visible
    logical = ff.config.list_logical_devices()
    assert logical[0] == ff.config.LogicalDevice(name="/device:CPU:0", device_type="CPU")
    assert [d.name for d in ff.config.list_logical_devices("GPU")] == [
        f"/device:GPU:{i}" for i in range(len(ff.config.get_visible_devices("GPU")))]


def test_placement_in_a_fresh_process_with_the_notice_once():
    proc = _run("""
        import forgeflow as ff
        from forgeflow import _core
        a = ff.Sequential([ff.Input(shape=(3,)), ff.layers.Dense(2)])
        b = ff.Sequential([ff.Input(shape=(3,)), ff.layers.Dense(2)])
        print(a._core.device, b._core.device)
        print(repr(_core.placement_notice()))
    """)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("forgeflow: ")]
    out = proc.stdout.splitlines()
    if _gpus():
        assert out[0] == "cuda:0 cuda:0"
        assert lines == []
    elif _core.built_with_cuda():
        # This build has the CUDA backend but no GPU can be used: one line, saying why.
        assert out[0] == "cpu cpu"
        assert len(lines) == 1, proc.stderr
        assert lines[0].startswith(NOTICE)
        assert _core.why_no_gpu().splitlines()[0].rstrip(" :") in lines[0]
        assert eval(out[1]) == lines[0]
    else:
        # A CPU-only build: nothing GPU was expected, nothing is said.
        assert out[0] == "cpu cpu"
        assert lines == [] and eval(out[1]) == ""


@pytest.mark.parametrize("how", ["env", "hidden"])
def test_an_explicit_cpu_choice_gives_no_notice(how):
    code = """
        import forgeflow as ff
        from forgeflow import _core
        {hide}
        m = ff.Sequential([ff.Input(shape=(3,)), ff.layers.Dense(2)])
        print(m._core.device, repr(_core.placement_notice()))
        print(len(ff.config.get_visible_devices("GPU")))
    """.format(hide='ff.config.set_visible_devices([], "GPU")' if how == "hidden" else "")
    proc = _run(code, {"FORGEFLOW_DEVICE": "cpu"} if how == "env" else None)
    assert proc.stdout.splitlines()[0] == "cpu ''"
    assert NOTICE not in proc.stderr
    assert proc.stdout.splitlines()[1] == ("0" if how == "hidden" else str(len(_gpus())))


def test_visible_devices_cannot_change_after_the_first_model_on_a_gpu():
    code = """
        import forgeflow as ff
        gpus = ff.config.list_physical_devices("GPU")
        m = ff.Sequential([ff.Input(shape=(3,)), ff.layers.Dense(2)])
        try:
            ff.config.set_visible_devices([], "GPU")
            print("changed" if gpus else "no change")
        except RuntimeError as e:
            print("RuntimeError:", e)
    """
    out = _run(code).stdout.strip()
    if _gpus():
        assert out.startswith("RuntimeError: Visible devices cannot be modified after being "
                              "initialized")
    else:
        assert out == "no change"  # no GPU: hiding them all changes nothing


def test_forgeflow_device_cuda_without_a_gpu_is_a_clear_error():
    if _gpus():
        pytest.skip("this machine has a GPU: FORGEFLOW_DEVICE=cuda places there (gpu tests)")
    proc = subprocess.run(
        [sys.executable, "-c", "import forgeflow as ff\n"
                               "ff.Sequential([ff.Input(shape=(3,)), ff.layers.Dense(2)])"],
        env={**os.environ, "FORGEFLOW_DEVICE": "cuda",
             "PYTHONPATH": str(PYTHON_DIR) + os.pathsep + os.environ.get("PYTHONPATH", "")},
        capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "ValueError: FORGEFLOW_DEVICE=cuda but no GPU can be used: " in proc.stderr
