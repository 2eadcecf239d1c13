"""ff.ops's NumPy-style operations (python/forgeflow/ops/numpy.py) against NumPy: eagerly on
arrays and inside a model (the same C++ op as a graph node), with broadcasting, scalars and
constants; the broadcasting refusal when both operands would grow; the batch-axis rules."""
import numpy as np
import pytest

import forgeflow as ff
from forgeflow import ops

from _ops_helpers import close, in_model, rng

BINARY = [
    ("add", np.add), ("subtract", np.subtract), ("multiply", np.multiply),
    ("divide", np.divide), ("power", np.power), ("maximum", np.maximum),
    ("minimum", np.minimum), ("equal", np.equal), ("not_equal", np.not_equal),
    ("less", np.less), ("less_equal", np.less_equal), ("greater", np.greater),
    ("greater_equal", np.greater_equal),
]
SHAPES = [((4, 3), (4, 3)), ((4, 3), (3,)), ((4, 3), (1, 3)), ((4, 2, 3), (2, 1))]


def _operands(name, sa, sb, seed=0):
    r = rng(seed)
    a = r.uniform(-2, 2, sa).astype(np.float32)
    b = r.uniform(-2, 2, sb).astype(np.float32)
    if name == "power":
        a = np.abs(a) + 0.5
    if name == "divide":
        b = np.where(np.abs(b) < 0.3, 1.0, b).astype(np.float32)
    if name in ("equal", "not_equal", "less_equal", "greater_equal"):
        b = np.round(b)
        a = np.round(a)
    return a, b


@pytest.mark.parametrize("name,ref", BINARY)
@pytest.mark.parametrize("sa,sb", SHAPES)
def test_binary_ops_match_numpy_eagerly_and_in_a_model(name, ref, sa, sb):
    a, b = _operands(name, sa, sb)
    want = ref(a, b).astype(np.float32)
    fn = getattr(ops, name)
    out = fn(a, b)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == want.shape
    close(out, want, rtol=2e-6)
    if sb[0] == sa[0]:  # both batch-major: both are model inputs
        close(in_model(fn, a, b), want, rtol=2e-6)
    else:  # a constant operand next to a symbolic one, on either side
        close(in_model(lambda x: fn(x, b), a), want, rtol=2e-6)
        with np.errstate(invalid="ignore"):  # power of a negative base: NaN on both sides
            want_left = ref(b, a).astype(np.float32)
        close(in_model(lambda x: fn(b, x), a), want_left, rtol=2e-6)


@pytest.mark.parametrize("name,ref", BINARY[:7])
def test_binary_ops_take_python_scalars_on_either_side(name, ref):
    a = rng(1).uniform(0.5, 2, (5, 3)).astype(np.float32)
    fn = getattr(ops, name)
    close(fn(a, 2.0), ref(a, np.float32(2.0)), rtol=2e-6)
    close(fn(3, a), ref(np.float32(3.0), a), rtol=2e-6)
    close(in_model(lambda x: fn(x, 2.0), a), ref(a, np.float32(2.0)), rtol=2e-6)
    close(in_model(lambda x: fn(3, x), a), ref(np.float32(3.0), a), rtol=2e-6)
    assert np.asarray(fn(2.0, 3.0)).shape == ()


UNARY = [
    ("negative", np.negative, False), ("exp", np.exp, False), ("log", np.log, True),
    ("sqrt", np.sqrt, True), ("square", np.square, False), ("abs", np.abs, False),
    ("absolute", np.abs, False), ("sign", np.sign, False),
]


@pytest.mark.parametrize("name,ref,positive", UNARY)
def test_unary_ops_match_numpy(name, ref, positive):
    x = rng(2).uniform(0.1 if positive else -3, 3, (6, 4)).astype(np.float32)
    fn = getattr(ops, name)
    close(fn(x), ref(x), rtol=2e-6)
    close(in_model(fn, x), ref(x), rtol=2e-6)


def test_clip_where_and_nan():
    x = np.array([[-2.0, -0.5, 0.0, 0.7, 3.0, np.nan]], dtype=np.float32)
    close(ops.clip(x, -1, 1), np.clip(x, -1, 1))
    close(in_model(lambda t: ops.clip(t, -1, 1), x), np.clip(x, -1, 1))
    c = np.array([[1, 0, 1, 0, 1, 0]], dtype=np.float32)
    y = np.full_like(x, 9.0)
    close(ops.where(c, x, y), np.where(c != 0, x, y))
    close(in_model(lambda cc, xx: ops.where(cc, xx, -1.0), c, x), np.where(c != 0, x, -1.0))
    close(ops.maximum(x, 0.0), np.maximum(x, 0.0))  # NaN stays NaN
    with pytest.raises(ValueError, match="data-dependent"):
        ops.where(c)
    with pytest.raises(TypeError, match="maximum and ff.ops.minimum"):
        ops.clip(x, np.zeros(6), 1.0)


REDUCE = [("sum", np.sum), ("mean", np.mean), ("max", np.max), ("min", np.min)]


def _logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


@pytest.mark.parametrize("name,ref", REDUCE + [("logsumexp", _logsumexp)])
@pytest.mark.parametrize("axis,keepdims", [(-1, False), (1, True), ((1, 2), False), (None, False),
                                           (0, False), ((0, 2), True)])
def test_reductions_match_numpy(name, ref, axis, keepdims):
    x = rng(3).normal(size=(4, 3, 5)).astype(np.float32)
    fn = getattr(ops, name)
    want = ref(x, axis=axis, keepdims=keepdims)
    close(fn(x, axis=axis, keepdims=keepdims), want, rtol=1e-5)
    batch = axis is None or 0 in np.atleast_1d(axis)
    if batch:
        # Over the batch axis: a statistic of the step's batch, a value without a batch axis
        # (for add_loss, or broadcast against per-sample values), never a model output.
        t = ff.Input(shape=(3, 5))
        stat = fn(t, axis=axis, keepdims=keepdims)
        assert not stat._batched and None not in stat.shape
        assert stat.shape == want.shape
        with pytest.raises(ValueError, match="no batch axis"):
            ff.Model(t, stat)
        if want.ndim and want.shape[-1] == 5 and want.ndim <= 2:  # broadcasts against x
            close(in_model(lambda t: t - fn(t, axis=axis, keepdims=keepdims), x), x - want,
                  rtol=1e-5, atol=1e-5)
    else:
        close(in_model(lambda t: fn(t, axis=axis, keepdims=keepdims), x), want, rtol=1e-5)


def test_argmax_and_argmin_return_int32_on_arrays_and_floats_in_a_model():
    x = np.array([[1, 5, 5, 0], [7, -1, 2, 7]], dtype=np.float32)
    out = ops.argmax(x, axis=1)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [1, 0])
    np.testing.assert_array_equal(ops.argmin(x, axis=-1), [3, 1])
    assert int(ops.argmax(x)) == int(np.argmax(x))
    close(in_model(lambda t: ops.argmax(t, axis=-1), x), [1, 0])
    np.testing.assert_array_equal(ops.argmax(np.array([1.0, np.nan, 3.0])), 1)  # NumPy's NaN rule


def test_shape_ops_match_numpy():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    close(ops.reshape(x, (4, -1)), x.reshape(4, -1))
    close(in_model(lambda t: ops.reshape(t, (-1, 4, 3)), x), x.reshape(-1, 4, 3))
    close(in_model(lambda t: ops.reshape(t, (None, 12)), x), x.reshape(2, 12))
    close(ops.transpose(x), x.T)
    close(ops.transpose(x, (1, 0, 2)), x.transpose(1, 0, 2))
    close(in_model(lambda t: ops.transpose(t, (0, 2, 1)), x), x.transpose(0, 2, 1))
    close(ops.expand_dims(x, 1), np.expand_dims(x, 1))
    close(in_model(lambda t: ops.expand_dims(t, -1), x), x[..., None])
    y = x[:, :1, :]
    close(ops.squeeze(y), np.squeeze(y))
    close(in_model(lambda t: ops.squeeze(t, axis=1), y), np.squeeze(y, 1))
    close(ops.concatenate([x, x[:, :1]], axis=1), np.concatenate([x, x[:, :1]], axis=1))
    close(in_model(lambda a, b: ops.concatenate([a, b], axis=-1), x, x[..., :2]),
          np.concatenate([x, x[..., :2]], axis=-1))
    close(ops.stack([x, x + 1]), np.stack([x, x + 1]))
    close(in_model(lambda a, b: ops.stack([a, b], axis=1), x, x * 2), np.stack([x, x * 2], 1))
    for got, want in zip(ops.split(x, 2, axis=2), np.split(x, 2, axis=2)):
        close(got, want)
    for got, want in zip(ops.split(x, [1, 3], axis=-1), np.split(x, [1, 3], axis=-1)):
        close(got, want)
    pieces = in_model(lambda t: ops.split(t, [1], axis=1), x)
    close(pieces[0], x[:, :1])
    close(pieces[1], x[:, 1:])
    assert ops.shape(ff.Input(shape=(3,))) == (None, 3)


def test_shape_ops_refuse_the_batch_axis_in_a_model():
    t = ff.Input(shape=(3, 4))
    with pytest.raises(ValueError, match="must start with -1 or None"):
        ops.reshape(t, (2, 6))
    with pytest.raises(ValueError, match=r"\(0, 2, 1\)"):
        ops.transpose(t)
    with pytest.raises(ValueError, match="axis=1"):
        ops.concatenate([t, t])  # Keras's default axis 0
    with pytest.raises(ValueError, match="batch axis"):
        ops.split(t, 2)


def test_matmul_broadcasts_batch_axes_as_numpy():
    r = rng(9)
    a = r.normal(size=(4, 2, 3, 5)).astype(np.float32)
    w = r.normal(size=(2, 5, 6)).astype(np.float32)
    close(ops.matmul(a, w), a @ w, rtol=1e-5)
    b = r.normal(size=(3, 1, 5, 6)).astype(np.float32)
    close(ops.matmul(a[:, :1], b[0]), a[:, :1] @ b[0], rtol=1e-5)
    close(ops.matmul(a[0, :1], b), a[0, :1] @ b, rtol=1e-5)
    close(in_model(lambda t: ops.matmul(t, w), a), a @ w, rtol=1e-5)
    # The gradient of a weight read by every sample and row: one SGD step against NumPy.
    inputs = ff.Input(shape=(2, 3, 5))
    h = ff.layers.Dense(5, use_bias=False, name="dense")(inputs)
    model = ff.Model(inputs, ops.matmul(h, w))
    k0 = r.normal(size=(5, 5)).astype(np.float32)
    model.get_layer("dense").set_weights([k0])
    model.compile(optimizer=ff.optimizers.SGD(0.1), loss="mse")
    model.train_on_batch(a, np.zeros((4, 2, 3, 6), np.float32))
    hx = a.astype(np.float64) @ k0
    dy = 2.0 * (hx @ w) / (4 * 2 * 3 * 6)
    dk = np.einsum("nrmi,nrmj->ij", a, dy @ np.swapaxes(w, -1, -2))
    close(model.get_layer("dense").get_weights()[0], k0 - 0.1 * dk, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="do not broadcast"):
        ops.matmul(ff.Input(shape=(3, 5)), np.ones((3, 5, 6), np.float32))


def test_matmul_dot_and_einsum_match_numpy():
    r = rng(4)
    a = r.normal(size=(5, 3, 4)).astype(np.float32)
    b = r.normal(size=(5, 4, 2)).astype(np.float32)
    w = r.normal(size=(4, 6)).astype(np.float32)
    close(ops.matmul(a, b), a @ b, rtol=1e-5)
    close(in_model(ops.matmul, a, b), a @ b, rtol=1e-5)
    close(in_model(lambda t: t @ w, a), a @ w, rtol=1e-5)
    close(in_model(lambda t: ops.matmul(w.T, ops.transpose(t, (0, 2, 1))), a),
          w.T @ a.transpose(0, 2, 1), rtol=1e-5)
    v = r.normal(size=4).astype(np.float32)
    close(ops.dot(v, v), np.dot(v, v), rtol=1e-5)
    close(ops.dot(a[0], w), np.dot(a[0], w), rtol=1e-5)
    close(ops.dot(a, v), np.dot(a, v), rtol=1e-5)
    close(ops.dot(a, 2.0), a * 2, rtol=1e-6)
    with pytest.raises(ValueError, match="einsum"):
        ops.dot(a, b)
    for spec, operands in [("ij,jk->ik", (a[0], w)), ("bij,bjk->bik", (a, b)), ("ij->ji", (w,)),
                           ("bij->bj", (a,)), ("bi,bi->b", (a[:, 0], a[:, 1])),
                           ("i,j->ij", (v, v)), ("bqd,bkd->bqk", (a, a)), ("ij,ij->", (w, w)),
                           ("bij,jk->bik", (a, w)), ("ji,bj->bi", (w, a[:, 0]))]:
        close(ops.einsum(spec, *operands), np.einsum(spec, *operands), rtol=1e-4, atol=1e-5)
    close(in_model(lambda t: ops.einsum("bij,jk->bik", t, w), a), np.einsum("bij,jk->bik", a, w),
          rtol=1e-5)
    close(in_model(lambda s, t: ops.einsum("bqd,bkd->bqk", s, t), a, a),
          np.einsum("bqd,bkd->bqk", a, a), rtol=1e-5)
    close(in_model(lambda t: ops.einsum("ji,bj->bi", w, t), a[:, 0]),
          np.einsum("ji,bj->bi", w, a[:, 0]), rtol=1e-5)
    close(ops.einsum("...ij,jk", a, w), np.einsum("...ij,jk", a, w), rtol=1e-5)  # was refused


def test_zeros_ones_and_operators_on_symbolic_tensors():
    assert ops.zeros((2, 3)).dtype == np.float32 and ops.ones(3).sum() == 3
    x = rng(5).uniform(0.5, 2, (4, 3)).astype(np.float32)
    got = in_model(lambda t: [t + 1, 1 - t, t * t, t / 2, 2 / t, t ** 2, 2 ** t, -t, abs(-t),
                              t < 1, t >= 1, np.float32(3.0) * t], x)
    want = [x + 1, 1 - x, x * x, x / 2, 2 / x, x ** 2, 2 ** x, -x, x, (x < 1), (x >= 1), 3 * x]
    for g, w in zip(got, want):
        close(g, np.asarray(w, dtype=np.float32), rtol=2e-6)
    # a NumPy array on the left defers to the symbolic tensor
    c = np.arange(3, dtype=np.float32)
    close(in_model(lambda t: c + t, x), c + x)


def test_both_operands_growing_is_an_error_naming_the_shapes_and_the_fix():
    pred, target = ff.Input(shape=(1,)), ff.Input(shape=())
    with pytest.raises(ValueError) as info:
        ops.subtract(pred, target)
    msg = str(info.value)
    assert "(None, 1) and (None,)" in msg and "(None, None)" in msg
    assert "x[:, 0]" in msg and "y[:, None]" in msg
    with pytest.raises(ValueError, match=r"\(5, 1\) and \(5,\)"):
        ops.subtract(np.ones((5, 1)), np.ones(5))
    with pytest.raises(ValueError, match="ff.ops.matmul"):
        ops.multiply(np.ones((4, 1)), np.ones((1, 3)))
    with pytest.raises(ValueError, match="None is the batch size"):
        ops.add(ff.Input(shape=(3,)), np.ones((4, 3)))


def test_a_symbolic_tensor_cannot_decide_python_control_flow():
    t = ff.Input(shape=(3,))
    with pytest.raises(TypeError, match="ff.ops.where"):
        if ops.greater(t, 0):
            pass
    with pytest.raises(TypeError, match="ff.ops.where"):
        bool(t)


def test_non_numeric_and_string_inputs_are_refused():
    with pytest.raises(TypeError, match="numbers"):
        ops.add(np.array(["a"]), 1.0)
    with pytest.raises(TypeError, match="dtype string"):
        ops.add(ff.Input(shape=(1,), dtype="string"), 1.0)


@pytest.mark.parametrize("spec, shapes", [
    ("...ij,jk->...ik", [(4, 2, 3, 5), (5, 6)]), ("...ij,jk", [(4, 2, 3, 5), (5, 6)]),
    ("b...j,jk->b...k", [(4, 2, 3, 5), (5, 6)]), ("...i->...", [(4, 2, 3)]),
    ("...ij->...ji", [(2, 3, 4)]), ("bh...d,bh...d->bh...", [(2, 3, 4, 5), (2, 3, 4, 5)]),
])
def test_einsum_with_an_ellipsis_matches_numpy(spec, shapes):
    r = rng(10)
    operands = [r.normal(size=s).astype(np.float32) for s in shapes]
    close(ops.einsum(spec, *operands), np.einsum(spec, *operands), rtol=1e-5, atol=1e-5)


def test_einsum_with_an_ellipsis_in_a_model_and_its_errors():
    r = rng(11)
    a = r.normal(size=(4, 2, 3, 5)).astype(np.float32)
    w = r.normal(size=(5, 6)).astype(np.float32)
    close(in_model(lambda t: ops.einsum("...ij,jk->...ik", t, w), a),
          np.einsum("...ij,jk->...ik", a, w), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="need a '...' in the output"):
        ops.einsum("...ij,jk->ik", a, w)
    with pytest.raises(ValueError, match="one '...' at most"):
        ops.einsum("......i->i", a)
