"""``ff.random``: Keras 3's ``keras.random`` for the common set: ``normal``, ``uniform``,
``dropout`` and ``SeedGenerator``.

Inside a custom layer's (or a subclassed model's) ``call`` traced on symbolic tensors, each call
is a node of the model's C++ graph (an ``ff.ops`` op layer) that draws new numbers every training
step, from the counter-based generator the CPU and the GPU share (the same seed gives the same
numbers on both). A shape may start with None, the batch size (``ops.shape(x)[0]`` in a traced
call), which the node takes from the call's input::

    class Sampling(ff.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = ff.random.SeedGenerator(1337)
        def call(self, inputs):
            z_mean, z_log_var = inputs
            batch, dim = ff.ops.shape(z_mean)
            epsilon = ff.random.normal(shape=(batch, dim), seed=self.seed_generator)
            return z_mean + ff.ops.exp(0.5 * z_log_var) * epsilon

On arrays (or with a fully known shape outside a traced call) they return NumPy arrays at once.
``dropout`` drops in every pass, as Keras's does: gate it with the ``training`` argument.
``seed``: an integer (the same numbers at every use of that seed), a ``SeedGenerator`` (a new
seed at every use) or None (drawn from the global seed, ``ff.utils.set_random_seed``)."""
import numbers

import numpy as np

from ._eager import eager
from ._keras_tensor import KerasTensor
from ._naming import unique_name
from .layers._seeds import _seed
from .layers._tracing import current_trace
from .ops._op_layer import OpLayer, symbolic_of

__all__ = ["SeedGenerator", "normal", "uniform", "dropout"]

_MASK64 = (1 << 64) - 1


def _mix(a, b):
    """splitmix64 of two integers (core/rng.h's mix_seed): a child seed."""
    z = (a + 0x9E3779B97F4A7C15 * (b + 1)) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


class SeedGenerator:
    """A source of seeds for ff.random's functions: each use draws the next one, so two calls
    with one generator differ, and the same generator seed gives the same sequence."""

    def __init__(self, seed=None, name=None, **kwargs):
        if kwargs:
            raise TypeError("SeedGenerator() got unexpected keyword argument(s): "
                            + ", ".join(sorted(kwargs)))
        if seed is None:
            seed = _seed()
        if isinstance(seed, bool) or not isinstance(seed, (numbers.Integral, np.integer)):
            raise ValueError(f"SeedGenerator: seed must be an integer or None, received {seed!r}")
        self._seed = int(seed) & _MASK64
        self._counter = 0
        self.name = name or unique_name("seed_generator")

    def next(self, ordered=True):
        """The next seed (an integer)."""
        value = _mix(self._seed, self._counter)
        self._counter += 1
        return value

    @property
    def state(self):
        """(seed, draws so far) as an int64 array pair."""
        return np.array([self._seed & ((1 << 63) - 1), self._counter], dtype=np.int64)

    def get_config(self):
        """``{"seed": ..., "name": ...}`` (the draws so far are not part of it)."""
        return {"seed": self._seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        """A generator from ``get_config()``'s output (starting its sequence afresh)."""
        return cls(**config)


def _seed_value(seed, fn):
    if seed is None:
        return _seed()
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, bool) or not isinstance(seed, (numbers.Integral, np.integer)):
        raise TypeError(f"ff.random.{fn}: seed must be an integer, a SeedGenerator or None, "
                        f"received {seed!r}")
    return int(seed) & _MASK64


def _shape(shape, fn):
    items = list(shape) if isinstance(shape, (list, tuple)) else [shape]
    out = []
    for i, d in enumerate(items):
        if d is None and i == 0:
            out.append(None)
        elif isinstance(d, bool) or not isinstance(d, (numbers.Integral, np.integer)) or d < 0:
            raise ValueError(f"ff.random.{fn}: shape must hold non-negative integers (the first "
                             f"may be None, the batch size), received {shape!r}")
        else:
            out.append(int(d))
    return tuple(out)


def _check_dtype(dtype, fn):
    if dtype is not None and str(getattr(dtype, "name", dtype)) != "float32":
        raise ValueError(f"ff.random.{fn}: values are float32, received dtype={dtype!r}")


def _reference(fn, shape):
    """The tensor a random node takes its batch size from: the first batched input of the call
    being traced."""
    trace = current_trace()
    if trace is not None:
        for p in trace.placeholders:
            if p._batched:
                return p
        if trace.placeholders and None not in shape:
            return trace.placeholders[0]
    raise ValueError(
        f"ff.random.{fn} with shape {shape}: a shape starting with None (the batch size) is "
        "known only inside a custom layer's (or model's) call() on symbolic tensors, where the "
        "batch comes from its inputs. Call it there, or give the full shape to draw an array.")


def _random(op, shape, a, b, seed, fn):
    shape = _shape(shape, fn)
    trace = current_trace()
    if None in shape or (trace is not None and trace.placeholders):
        ref = _reference(fn, shape)
        layer = OpLayer(op, {"shape": list(shape), "p0": float(a), "p1": float(b),
                             "seed": _seed_value(seed, fn)}, ["input"])
        return layer(ref)
    rng = np.random.default_rng(_seed_value(seed, fn))
    if op == "random_normal":
        values = a + b * rng.standard_normal(shape)
    else:
        values = a + (b - a) * rng.random(shape)
    return eager(np.asarray(values, dtype=np.float32))


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Values drawn from N(mean, stddev^2), of ``shape`` (see the module docstring)."""
    _check_dtype(dtype, "normal")
    return _random("random_normal", shape, mean, stddev, seed, "normal")


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Values drawn uniformly from [minval, maxval), of ``shape``."""
    _check_dtype(dtype, "uniform")
    return _random("random_uniform", shape, minval, maxval, seed, "uniform")


def dropout(inputs, rate, noise_shape=None, seed=None):
    """``inputs`` with each element zeroed with probability ``rate`` and the rest scaled by
    1 / (1 - rate), in every pass (Keras's; gate it with ``training`` in your call)."""
    if noise_shape is not None:
        raise ValueError("ff.random.dropout: noise_shape is not supported; leave it None")
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
        raise ValueError(f"ff.random.dropout: rate must be a number in [0, 1), received "
                         f"rate={rate!r}")
    inputs = symbolic_of(inputs)
    if isinstance(inputs, KerasTensor):
        layer = OpLayer("dropout", {"p0": float(rate), "seed": _seed_value(seed, "dropout")},
                        ["input" if inputs._batched else "unbatched"])
        return layer(inputs)
    x = np.asarray(inputs, dtype=np.float32)
    keep = np.random.default_rng(_seed_value(seed, "dropout")).random(x.shape) >= rate
    return eager(np.where(keep, x / (1.0 - rate), 0.0).astype(np.float32))
