"""ff.ops's neural-network functions (python/forgeflow/ops/nn.py) against NumPy, eagerly and in
a model: activations, softmax and log_softmax along any non-batch axis, one_hot (stricter than
Keras: a bad index is an error)."""
import math

import numpy as np
import pytest

import forgeflow as ff
from forgeflow import ops

from _ops_helpers import close, in_model, rng

_erf = np.vectorize(math.erf)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


ACTIVATIONS = [
    ("relu", lambda x: np.maximum(x, 0)),
    ("sigmoid", _sigmoid),
    ("tanh", np.tanh),
    ("silu", lambda x: x * _sigmoid(x)),
    ("swish", lambda x: x * _sigmoid(x)),
    ("leaky_relu", lambda x: np.where(x > 0, x, 0.2 * x)),
    ("elu", lambda x: np.where(x > 0, x, np.expm1(x))),
]


@pytest.mark.parametrize("name,ref", ACTIVATIONS)
def test_activations_match_numpy(name, ref):
    x = rng(1).uniform(-3, 3, (5, 4)).astype(np.float32)
    fn = getattr(ops, name)
    close(fn(x), ref(x.astype(np.float64)), rtol=1e-5, atol=1e-6)
    close(in_model(fn, x), ref(x.astype(np.float64)), rtol=1e-5, atol=1e-6)


def test_activation_arguments_and_gelu_forms():
    x = rng(2).uniform(-3, 3, (5, 4)).astype(np.float32)
    xd = x.astype(np.float64)
    close(ops.leaky_relu(x, negative_slope=0.1), np.where(x > 0, x, 0.1 * x), rtol=1e-6)
    close(ops.elu(x, alpha=0.5), np.where(x > 0, x, 0.5 * np.expm1(xd)), rtol=1e-5, atol=1e-6)
    exact = 0.5 * xd * (1 + _erf(xd / math.sqrt(2)))
    tanh_form = 0.5 * xd * (1 + np.tanh(math.sqrt(2 / math.pi) * (xd + 0.044715 * xd ** 3)))
    close(ops.gelu(x, approximate=False), exact, rtol=1e-5, atol=1e-6)
    close(ops.gelu(x), tanh_form, rtol=1e-5, atol=1e-6)  # Keras's default for the op
    close(in_model(ops.gelu, x), tanh_form, rtol=1e-5, atol=1e-6)
    close(in_model(lambda t: ops.gelu(t, approximate=False), x), exact, rtol=1e-5, atol=1e-6)


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [-1, 1, 2])
def test_softmax_and_log_softmax_along_an_axis(axis):
    x = rng(3).normal(size=(4, 3, 5)).astype(np.float64)
    xf = x.astype(np.float32)
    close(ops.softmax(xf, axis=axis), _softmax(x, axis), rtol=1e-5, atol=1e-7)
    close(ops.log_softmax(xf, axis=axis), np.log(_softmax(x, axis)), rtol=1e-5, atol=1e-6)
    close(in_model(lambda t: ops.softmax(t, axis=axis), xf), _softmax(x, axis), rtol=1e-5,
          atol=1e-7)
    close(in_model(lambda t: ops.log_softmax(t, axis=axis), xf), np.log(_softmax(x, axis)),
          rtol=1e-5, atol=1e-6)
    close(ops.softmax(xf, axis=0), _softmax(x, 0), rtol=1e-5, atol=1e-7)  # arrays: any axis
    with pytest.raises(ValueError, match="batch axis"):
        ops.softmax(ff.Input(shape=(3, 5)), axis=0)


def test_one_hot():
    x = np.array([[0, 2], [1, 1]], dtype=np.int64)
    close(ops.one_hot(x, 3), np.eye(3, dtype=np.float32)[x])
    assert ops.one_hot(x, 3, dtype="int32").dtype == np.int32
    close(in_model(lambda t: ops.one_hot(t, 3), x.astype(np.float32)), np.eye(3)[x])
    with pytest.raises(ValueError, match=r"not a class index.*\[0, 3\)"):
        ops.one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="axis=-1"):
        ops.one_hot(x, 3, axis=0)
    inputs = ff.Input(shape=(2,))
    model = ff.Model(inputs, ops.one_hot(inputs, 3))
    with pytest.raises(ValueError, match="ff.ops.one_hot"):
        model.predict(np.array([[0, 5]], dtype=np.float32), verbose=0)
