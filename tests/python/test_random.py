"""ff.random (keras.random's normal, uniform, dropout, SeedGenerator): inside a traced call()
the calls are graph nodes drawing new numbers every step (the batch size from the call's input),
on arrays they return arrays. Checked: the distributions' moments, a fresh draw per training
step and per batch, the same numbers for the same integer seed, a SeedGenerator's sequence,
dropout's mask and scale (and its gradient through the same mask), and the clear errors."""
import numpy as np
import pytest

import forgeflow as ff
from forgeflow import ops

L = ff.layers


class Noise(L.Layer):
    def __init__(self, kind, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.kind, self.seed = kind, seed

    def call(self, x):
        batch, dim = ops.shape(x)
        if self.kind == "normal":
            return x + ff.random.normal(shape=(batch, dim), mean=1.0, stddev=2.0, seed=self.seed)
        return x + ff.random.uniform(shape=(batch, dim), minval=-1.0, maxval=3.0, seed=self.seed)


@pytest.mark.parametrize("kind, mean, var", [("normal", 1.0, 4.0), ("uniform", 1.0, 16 / 12)])
def test_graph_noise_has_the_distribution_and_a_new_draw_each_batch(kind, mean, var):
    inputs = ff.Input(shape=(500,))
    model = ff.Model(inputs, Noise(kind, seed=7)(inputs))
    x = np.zeros((256, 500), np.float32)
    out = model.predict(x, batch_size=128, verbose=0)
    assert abs(out.mean() - mean) < 0.02 and abs(out.var() - var) / var < 0.02
    assert not np.array_equal(out[:128], out[128:])  # each batch draws anew
    again = model.predict(x, batch_size=128, verbose=0)
    np.testing.assert_array_equal(out, again)  # the same batch of another pass: the same numbers
    if kind == "uniform":
        assert out.min() >= -1.0 and out.max() < 3.0


def test_training_steps_draw_anew_and_gradients_pass_the_noise():
    inputs = ff.Input(shape=(4,))
    dense = L.Dense(4)
    model = ff.Model(inputs, Noise("normal", seed=1)(dense(inputs)))
    first = model(np.zeros((2, 4), np.float32), training=True).numpy()
    second = model(np.zeros((2, 4), np.float32), training=True).numpy()
    assert not np.array_equal(first, second)
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    model.compile(ff.optimizers.SGD(0.05), "mse")
    k0 = dense.get_weights()[0]
    model.fit(x, x, batch_size=64, epochs=1, verbose=0)
    assert not np.array_equal(dense.get_weights()[0], k0)  # d(x + noise)/dx = 1: it trains


def test_seeds_integers_repeat_and_generators_advance():
    a = ff.random.normal((3, 4), seed=5)
    np.testing.assert_array_equal(a, ff.random.normal((3, 4), seed=5))
    gen = ff.random.SeedGenerator(1337)
    b, c = ff.random.uniform((5,), seed=gen), ff.random.uniform((5,), seed=gen)
    assert not np.array_equal(b, c)
    gen2 = ff.random.SeedGenerator(1337)
    np.testing.assert_array_equal(ff.random.uniform((5,), seed=gen2), b)
    assert a.dtype == np.float32 and a.numpy().shape == (3, 4)


def test_dropout_masks_scales_and_back_propagates_through_the_mask():
    x = np.ones((4, 1000), np.float32)
    eager = ff.random.dropout(x, rate=0.25, seed=2)
    assert set(np.unique(eager)) <= {0.0, np.float32(1 / 0.75)}
    assert abs(np.mean(eager == 0) - 0.25) < 0.03

    class AlwaysDrop(L.Layer):
        def call(self, x):
            return ff.random.dropout(x, rate=0.5, seed=9)  # every pass, as Keras's

    inputs = ff.Input(shape=(1000,))
    model = ff.Model(inputs, AlwaysDrop()(inputs))
    out = model.predict(x, verbose=0)
    assert set(np.unique(out)) <= {0.0, 2.0} and abs(np.mean(out == 0) - 0.5) < 0.03


def test_errors_say_what_to_do():
    with pytest.raises(ValueError, match="batch size.*inside a custom layer"):
        ff.random.normal((None, 3))
    with pytest.raises(ValueError, match=r"rate must be a number in \[0, 1\)"):
        ff.random.dropout(np.ones(3), rate=1.0)
    with pytest.raises(ValueError, match="float32"):
        ff.random.normal((2,), dtype="int32")
    with pytest.raises(TypeError, match="seed must be an integer"):
        ff.random.normal((2,), seed="abc")
