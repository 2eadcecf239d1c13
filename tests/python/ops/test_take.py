"""ff.ops.take (python/forgeflow/ops/numpy.py, cpp/src/layers/ops/take_op.h): values against
NumPy on arrays and in a model (an axis, axis=None, negative and repeated indices), the gradient
through one SGD step against NumPy's scatter-add, save/load of a model holding constant indices,
symbolic indices (the embedding lookup of a custom layer's weight), and the errors: an index out
of range names it and the axis size, the batch axis is refused in a model."""
import numpy as np
import pytest

import forgeflow as ff
from forgeflow import ops

from _ops_helpers import close, in_model, rng


@pytest.mark.parametrize("shape, indices, axis", [
    ((4, 5), [3, 0, -1, 3], 1),
    ((2, 3, 4), [[1, -3], [2, 2]], 1),
    ((2, 3, 4), [0, 3, -4], -1),
    ((3, 4), [11, 0, -12], None),
    ((3, 4), 2, 0),
    ((3, 4), [], 1),
])
def test_take_on_arrays_matches_numpy(shape, indices, axis):
    x = rng(1).normal(size=shape).astype(np.float32)
    got = ops.take(x, indices, axis=axis)
    want = np.take(x, indices, axis=axis)
    assert got.shape == want.shape
    close(got, want)
    assert isinstance(got.numpy(), np.ndarray)


def test_take_on_arrays_with_array_indices():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    idx = np.array([[2, 0], [1, 1]], dtype=np.int32)
    close(ops.take(x, idx, axis=0), np.take(x, idx, axis=0))


def test_take_in_a_model_matches_numpy():
    x = rng(2).normal(size=(5, 3, 4)).astype(np.float32)
    got = in_model(lambda t: ops.take(t, [3, -1, 0, 3], axis=-1), x)
    close(got, np.take(x, [3, -1, 0, 3], axis=-1))
    got = in_model(lambda t: ops.take(t, np.array([[2, 0]]), axis=1), x)
    close(got, np.take(x, [[2, 0]], axis=1))


def test_the_gradient_of_take_through_one_sgd_step():
    x = rng(3).normal(size=(8, 6)).astype(np.float32)
    w0 = rng(4).normal(size=(6, 4)).astype(np.float32)
    idx = [3, 0, 3, -1]                          # repeated and negative: the gradients add up
    inputs = ff.Input(shape=(6,))
    h = ff.layers.Dense(4, use_bias=False, name="dense")(inputs)
    model = ff.Model(inputs, ops.take(h, idx, axis=1))
    model.get_layer("dense").set_weights([w0])
    model.compile(optimizer=ff.optimizers.SGD(0.1), loss="mse")
    y = np.zeros((8, 4), np.float32)
    model.train_on_batch(x, y)
    hx = x.astype(np.float64) @ w0
    out = np.take(hx, idx, axis=1)
    dout = 2.0 * out / out.size
    dh = np.zeros_like(hx)
    np.add.at(dh, (slice(None), np.array(idx) % 4), dout)
    close(model.get_layer("dense").get_weights()[0], w0 - 0.1 * (x.T @ dh), rtol=1e-4, atol=1e-6)


def test_a_model_with_take_saves_and_loads(tmp_path):
    inputs = ff.Input(shape=(5,))
    h = ff.layers.Dense(5)(inputs)
    model = ff.Model(inputs, ops.take(h, [4, 4, 0, -2], axis=1))
    x = rng(5).normal(size=(6, 5)).astype(np.float32)
    path = tmp_path / "take.ff"
    model.save(path)
    loaded = ff.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    layer = next(l for l in model.get_config()["layers"] if l["class_name"] == "OpLayer")
    assert layer["config"]["op"] == "take"
    assert layer["config"]["arguments"] == {"axis": 1}
    assert layer["config"]["operands"][1]["constant"] == [4, 4, 0, -2]


def test_take_with_symbolic_indices_is_an_embedding_lookup():
    table = rng(6).normal(size=(7, 3)).astype(np.float32)
    ids = ff.Input(shape=(4,), dtype="int32")
    model = ff.Model(ids, ops.take(table, ids, axis=0))
    data = np.array([[0, 6, -1, 2], [3, 3, 1, 0]], dtype=np.int32)
    got = model.predict(data, verbose=0)
    assert got.shape == (2, 4, 3)
    close(got, np.take(table, data, axis=0))
    with pytest.raises(ValueError, match=r"index 7 .*axis 0 with size 7"):
        model.predict(np.array([[0, 7, 1, 2]], dtype=np.int32), verbose=0)


def test_take_errors():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    with pytest.raises(ValueError, match=r"index 3 at position 1 .*axis 1 with size 3"):
        ops.take(x, [0, 3], axis=1)
    with pytest.raises(ValueError, match=r"index -7 .*axis None \(x flattened\) with size 6"):
        ops.take(x, [-7])
    with pytest.raises(TypeError, match="indices must be integers"):
        ops.take(x, [0.5], axis=1)
    with pytest.raises(TypeError, match="axis must be an integer or None"):
        ops.take(x, [0], axis=1.0)
    inputs = ff.Input(shape=(3,))
    with pytest.raises(ValueError, match=r"index 3 at position 0 .*axis 1 with size 3"):
        ops.take(inputs, [3], axis=1)
    with pytest.raises(ValueError, match="batch axis"):
        ops.take(inputs, [0], axis=0)
    with pytest.raises(ValueError, match="flatten"):
        ops.take(inputs, [0])


@pytest.mark.parametrize("shape, ishape, axis", [
    ((3, 4), (3, 2), 1), ((3, 4), (1, 5), 1), ((2, 3, 4), (2, 3, 1), -1), ((2, 3, 4), (2, 5, 4), 1),
    ((3, 1), (3, 4), 0), ((12,), (5,), None),
])
def test_take_along_axis_on_arrays_matches_numpy(shape, ishape, axis):
    r = rng(7)
    x = r.normal(size=shape).astype(np.float32)
    size = x.size if axis is None else shape[axis]
    idx = r.integers(-size, size, size=ishape)
    close(ops.take_along_axis(x, idx, axis=axis), np.take_along_axis(x, idx, axis=axis))


def test_take_along_axis_in_a_model_matches_numpy_and_trains():
    x = rng(8).normal(size=(4, 3, 5)).astype(np.float32)
    idx = np.array([[[4], [0], [-1]]])            # the same column per sample and row
    got = in_model(lambda t: ops.take_along_axis(t, idx, axis=2), x)
    close(got, np.take_along_axis(x, np.broadcast_to(idx, (4, 3, 1)), axis=2))
    with pytest.raises(ValueError, match="size 1 along the batch axis"):
        ops.take_along_axis(ff.Input(shape=(3, 5)), np.zeros((2, 3, 1), np.int64), axis=2)
    with pytest.raises(ValueError, match=r"index 5 .*axis 2 with size 5"):
        ops.take_along_axis(ff.Input(shape=(3, 5)), np.full((1, 3, 1), 5), axis=2)
