"""Indexing of symbolic tensors (python/forgeflow/ops/_indexing.py) against NumPy's, in a model
(basic indexing, and one integer array as ff.ops.take); the fix the broadcasting error suggests (x[:, 0]) works on symbolic tensors; what is
refused."""
import numpy as np
import pytest

import forgeflow as ff

from _ops_helpers import close, in_model

KEYS = [
    (slice(None), 0), (Ellipsis, slice(1, 3)), (slice(None), None), (slice(None), -1, 2),
    (slice(None), slice(None), None, slice(1, None)), (Ellipsis, -1), (slice(None), slice(-2, None)),
]


@pytest.mark.parametrize("key", KEYS)
def test_basic_indexing_matches_numpy(key):
    a = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    got = in_model(lambda t: t[key], a)
    close(got, a[key])


ARRAY_KEYS = [
    (slice(None), [0, 2]), (slice(None), slice(None), np.array([3, -1, 3])),
    (Ellipsis, [[1], [0]]), (slice(None), [2], slice(1, 3)), (slice(None), None, [1, 0]),
]


@pytest.mark.parametrize("key", ARRAY_KEYS)
def test_indexing_with_an_integer_array_matches_numpy(key):
    a = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    got = in_model(lambda t: t[key], a)
    close(got, a[key])


def test_the_suggested_fix_for_both_operands_growing_works_on_symbolic_tensors():
    pred, target = ff.Input(shape=(1,)), ff.Input(shape=())
    p = np.array([[0.5], [2.0]], dtype=np.float32)
    t = np.array([1.0, 1.0], dtype=np.float32)
    model = ff.Model([pred, target], ff.ops.square(pred[:, 0] - target))
    close(model.predict([p, t], verbose=0), (p[:, 0] - t) ** 2)
    model = ff.Model([pred, target], ff.ops.square(pred - target[:, None]))
    close(model.predict([p, t], verbose=0), (p - t[:, None]) ** 2)


def test_unsupported_indexes_are_refused():
    x = ff.Input(shape=(3, 4))
    with pytest.raises(TypeError, match="step 1"):
        x[:, ::2]
    with pytest.raises(TypeError, match="integers, slices"):
        x[:, "a"]
    with pytest.raises(TypeError, match="boolean mask"):
        x[:, [True, False, True]]
    with pytest.raises(TypeError, match="one integer array"):
        x[:, [0, 1], [0, 1]]
    with pytest.raises(TypeError, match="beside integer"):
        x[:, 0, [0, 1]]
    with pytest.raises(ValueError, match="batch axis"):
        x[[0, 1]]
    with pytest.raises(ValueError, match=r"index 3 .*axis 1 with size 3"):
        x[:, [0, 3]]
    with pytest.raises(ValueError, match="batch axis"):
        x[1:]
    with pytest.raises(IndexError, match="out of bounds"):
        x[:, 3]
    with pytest.raises(IndexError, match="too many"):
        x[:, 0, 0, 0]
