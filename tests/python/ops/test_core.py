"""ff.ops's core functions (python/forgeflow/ops/core.py): cast, convert_to_tensor,
stop_gradient and shape, eagerly and in a model."""
import numpy as np
import pytest

import forgeflow as ff
from forgeflow import ops

from _ops_helpers import close, in_model


def test_cast_on_arrays_gives_the_dtype_and_in_a_model_truncates_or_tests_nonzero():
    x = np.array([[-1.7, -0.2, 0.0, 0.6, 2.9]], dtype=np.float32)
    assert ops.cast(x, "int32").dtype == np.int32
    np.testing.assert_array_equal(ops.cast(x, "int32"), x.astype(np.int32))
    np.testing.assert_array_equal(ops.cast(x, bool), x != 0)
    assert ops.cast(x, "float16").dtype == np.float16
    close(in_model(lambda t: ops.cast(t, "int32"), x), np.trunc(x))
    close(in_model(lambda t: ops.cast(t, "bool"), x), (x != 0).astype(np.float32))
    t = ff.Input(shape=(5,))
    assert ops.cast(t, "float32") is t
    with pytest.raises(TypeError, match="cannot cast"):
        ops.cast(x, "str")


def test_convert_to_tensor_and_shape():
    t = ff.Input(shape=(3,))
    assert ops.convert_to_tensor(t) is t
    assert ops.convert_to_tensor([1.0, 2.0]).dtype == np.float32
    assert ops.convert_to_tensor([1, 2]).dtype.kind == "i"
    assert ops.convert_to_tensor(np.ones(2)).dtype == np.float64  # an array keeps its dtype
    assert ops.convert_to_tensor([1, 2], dtype="float32").dtype == np.float32
    assert ops.shape(np.ones((2, 3))) == (2, 3) and ops.shape(t) == (None, 3)


def test_stop_gradient_passes_values_and_blocks_training_through_it():
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    close(ops.stop_gradient(x), x)
    inputs = ff.Input(shape=(4,))
    frozen = ff.layers.Dense(1, name="frozen")
    out = ops.stop_gradient(frozen(inputs))
    head = ff.layers.Dense(1, name="head")
    model = ff.Model(inputs, ops.add(out, head(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    before = frozen.get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    for a, b in zip(before, frozen.get_weights()):
        np.testing.assert_array_equal(a, b)  # no gradient reached it
    assert not np.array_equal(head.get_weights()[0], np.zeros((4, 1)))


def test_ops_on_arrays_return_arrays_with_numpy():
    out = ff.ops.add(np.ones((2, 3), np.float32), 1.0)
    assert type(out.numpy()) is np.ndarray
    np.testing.assert_array_equal(out.numpy(), np.full((2, 3), 2.0, np.float32))
