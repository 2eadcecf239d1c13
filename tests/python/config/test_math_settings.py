"""ff.config.experimental's GPU math settings, as TensorFlow's: TF32 (on by default, as
tf.config.experimental.tensor_float_32_execution_enabled()) and op determinism (on by default in
forgeflow; enable_op_determinism() takes no argument as in TensorFlow, and forgeflow's
enable_op_determinism(False) turns it off). The settings round-trip and refuse non-booleans."""
import numpy as np
import pytest

import forgeflow as ff

exp = ff.config.experimental


@pytest.fixture(autouse=True)
def restore_settings():
    tf32, determinism = exp.tensor_float_32_execution_enabled(), exp.op_determinism_enabled()
    yield
    exp.enable_tensor_float_32_execution(tf32)
    exp.enable_op_determinism(determinism)


def test_defaults_follow_tensorflow_for_tf32_and_forgeflow_for_determinism():
    # A fresh process: nothing else has touched the settings.
    import subprocess
    import sys
    out = subprocess.run(
        [sys.executable, "-c",
         "import forgeflow as ff; e = ff.config.experimental; "
         "print(e.tensor_float_32_execution_enabled(), e.op_determinism_enabled())"],
        capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]


def test_tf32_round_trips():
    exp.enable_tensor_float_32_execution(False)
    assert exp.tensor_float_32_execution_enabled() is False
    exp.enable_tensor_float_32_execution(True)
    assert exp.tensor_float_32_execution_enabled() is True
    exp.enable_tensor_float_32_execution(np.bool_(False))
    assert exp.tensor_float_32_execution_enabled() is False


def test_op_determinism_round_trips_with_tensorflows_spelling_and_forgeflows_argument():
    exp.enable_op_determinism(False)
    assert exp.op_determinism_enabled() is False
    exp.enable_op_determinism()  # TensorFlow's call: no argument
    assert exp.op_determinism_enabled() is True
    exp.enable_op_determinism(enabled=False)
    assert exp.op_determinism_enabled() is False
    exp.enable_op_determinism(True)
    assert exp.op_determinism_enabled() is True


def test_the_settings_are_independent():
    exp.enable_tensor_float_32_execution(False)
    exp.enable_op_determinism(False)
    exp.enable_tensor_float_32_execution(True)
    assert exp.op_determinism_enabled() is False
    exp.enable_op_determinism(True)
    assert exp.tensor_float_32_execution_enabled() is True


@pytest.mark.parametrize("value", [1, 0, None, "False", 1.0])
def test_non_booleans_are_refused_and_change_nothing(value):
    exp.enable_tensor_float_32_execution(True)
    exp.enable_op_determinism(True)
    with pytest.raises(TypeError, match=r"enable_tensor_float_32_execution: enabled must be "
                                        r"True or False; received"):
        exp.enable_tensor_float_32_execution(value)
    with pytest.raises(TypeError, match=r"enable_op_determinism: enabled must be True or False; "
                                        r"received"):
        exp.enable_op_determinism(value)
    assert exp.tensor_float_32_execution_enabled() is True
    assert exp.op_determinism_enabled() is True


def test_tensor_float_32_execution_needs_its_argument():
    with pytest.raises(TypeError):
        exp.enable_tensor_float_32_execution()  # as in TensorFlow: enabled is required


def test_the_cpu_results_do_not_depend_on_the_settings():
    x = np.random.default_rng(0).random((16, 8, 8, 3), dtype=np.float32)

    def predict():
        ff.utils.set_random_seed(3)
        model = ff.Sequential([ff.Input(shape=(8, 8, 3)), ff.layers.Conv2D(4, 3),
                               ff.layers.Flatten(), ff.layers.Dense(2)])
        return model.predict(x, verbose=0)

    exp.enable_tensor_float_32_execution(False)
    exp.enable_op_determinism(True)
    exact = predict()
    exp.enable_tensor_float_32_execution(True)
    exp.enable_op_determinism(False)
    assert np.array_equal(predict(), exact)
