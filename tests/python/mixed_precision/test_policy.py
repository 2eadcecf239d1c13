"""ff.mixed_precision policies: names and dtypes as Keras's, the global policy taken by layers at
creation, dtype= overrides, refusals with the reason, the CPU note, and the policy saved with
the layer config."""
import warnings

import numpy as np
import pytest

import forgeflow as ff
from forgeflow.mixed_precision import policy as policy_mod


@pytest.mark.parametrize("name, compute", [("float32", "float32"),
                                           ("mixed_float16", "float16"),
                                           ("mixed_bfloat16", "bfloat16")])
def test_policy_dtypes(name, compute):
    p = ff.mixed_precision.Policy(name)
    assert (p.name, p.compute_dtype, p.variable_dtype) == (name, compute, "float32")
    assert repr(p) == f'<DTypePolicy "{name}">'
    assert p == ff.mixed_precision.DTypePolicy(name)


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float64"])
def test_16_bit_weights_are_refused_with_the_reason(name):
    with pytest.raises(ValueError, match="weights and optimizer state in float32.*mixed_float16"):
        ff.mixed_precision.Policy(name)


def test_unknown_policy_lists_the_known_ones():
    with pytest.raises(ValueError, match="Unknown dtype policy 'mixed_int8'.*'mixed_bfloat16'"):
        ff.mixed_precision.set_global_policy("mixed_int8")
    assert ff.mixed_precision.global_policy().name == "float32"  # unchanged by the failure


def test_the_cpu_notice_is_not_given_where_a_gpu_runs_the_models(monkeypatch):
    monkeypatch.setattr(policy_mod, "_warned_cpu", False)
    monkeypatch.setattr(policy_mod, "_gpu_visible", lambda: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ff.mixed_precision.set_global_policy("mixed_bfloat16")
    ff.mixed_precision.set_global_policy(None)


def test_layers_take_the_global_policy_when_created(monkeypatch):
    monkeypatch.setattr(policy_mod, "_warned_cpu", False)
    monkeypatch.setattr(policy_mod, "_gpu_visible", lambda: False)
    before = ff.layers.Dense(2)
    with pytest.warns(UserWarning, match="on the CPU backend: values are rounded to bfloat16 "
                                         "at every layer boundary; Conv2D, Conv1D and Dense run "
                                         "bfloat16 kernels"):
        ff.mixed_precision.set_global_policy("mixed_bfloat16")
    assert ff.mixed_precision.global_policy() == ff.mixed_precision.Policy("mixed_bfloat16")
    after = ff.layers.Dense(2)
    head = ff.layers.Dense(2, dtype="float32")
    conv = ff.layers.Conv2D(4, 3, dtype=ff.mixed_precision.Policy("mixed_float16"))
    assert before.compute_dtype == "float32"
    assert after.compute_dtype == "bfloat16" and after.dtype == "float32"
    assert after.variable_dtype == "float32"
    assert after.dtype_policy.name == "mixed_bfloat16"
    assert after._core.compute_dtype == "bfloat16"
    assert head.compute_dtype == "float32"
    assert conv.compute_dtype == "float16"
    assert ff.layers.Dense(2, dtype=np.float32).compute_dtype == "float32"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once per process
        ff.mixed_precision.set_global_policy("mixed_float16")
    ff.mixed_precision.set_global_policy(None)
    assert ff.layers.Dense(2).compute_dtype == "float32"


def test_layer_dtype_argument_is_checked():
    with pytest.raises(ValueError, match="Unknown dtype policy 'int8'"):
        ff.layers.Dense(2, dtype="int8")
    with pytest.raises(TypeError, match="dtype must be"):
        ff.layers.Dense(2, dtype=object())


def test_the_policy_is_part_of_the_layer_config():
    layer = ff.layers.Dense(3, dtype="mixed_bfloat16")
    config = layer.get_config()
    assert config["dtype"] == "mixed_bfloat16"
    clone = ff.layers.Dense.from_config(config)
    assert clone.compute_dtype == "bfloat16"
    assert ff.layers.Dense.from_config(ff.layers.Dense(3).get_config()).compute_dtype == "float32"
