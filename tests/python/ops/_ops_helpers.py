"""Shared helpers of the ff.ops tests: run an ops function on symbolic inputs inside a model
(predict) and eagerly on arrays, for comparison with NumPy."""
import numpy as np

import forgeflow as ff


def in_model(fn, *arrays):
    """fn applied to ff.Input tensors shaped like the arrays (first axis the batch), run by a
    model's predict on the arrays."""
    inputs = [ff.Input(shape=a.shape[1:]) for a in arrays]
    outputs = fn(*inputs)
    model = ff.Model(inputs if len(inputs) > 1 else inputs[0], outputs)
    data = list(arrays) if len(arrays) > 1 else arrays[0]
    return model.predict(data, batch_size=len(arrays[0]), verbose=0)


def rng(seed=0):
    return np.random.default_rng(seed)


def close(got, want, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64),
                               rtol=rtol, atol=atol)
