"""``LossScaleOptimizer``: dynamic loss scaling for float16 training, as Keras 3's.

float16 represents nothing below 2^-24: small gradients would flush to zero. The loss gradient
is multiplied by ``dynamic_scale`` before the backward pass; the gradients are divided by it
before the inner optimizer's update. A step whose gradients overflow (NaN/Inf) is skipped and the
scale halved (never below 1); after ``dynamic_growth_steps`` good steps in a row it doubles.
The whole mechanism runs in the C++ training step (``_core.DynamicLossScale``), with no host
round-trip. ``compile`` wraps the optimizer in one automatically when a layer computes in
float16 (``auto_scale_loss=True``, as Keras).
"""
import numbers

from .. import _core
from ..optimizers import Optimizer

__all__ = ["LossScaleOptimizer"]


class LossScaleOptimizer(Optimizer):
    """``LossScaleOptimizer(inner_optimizer, initial_scale=2**15, dynamic_growth_steps=2000)``.

    ``learning_rate`` and ``iterations`` are the inner optimizer's (a skipped step does not
    count, as in Keras); ``dynamic_scale`` is the current scale."""

    _schedule = None  # the inner optimizer carries the learning rate (and any schedule)

    def __init__(self, inner_optimizer, initial_scale=2.0 ** 15, dynamic_growth_steps=2000,
                 name=None, **kwargs):
        if kwargs:
            raise TypeError("LossScaleOptimizer() got unexpected keyword argument(s): "
                            + ", ".join(sorted(kwargs)))
        from .. import optimizers
        inner = optimizers.get(inner_optimizer)
        if isinstance(inner, LossScaleOptimizer):
            raise TypeError("LossScaleOptimizer: the inner optimizer is already a "
                            "LossScaleOptimizer; wrap the plain optimizer once")
        if (isinstance(initial_scale, bool) or not isinstance(initial_scale, numbers.Real)
                or not 1 <= initial_scale < float("inf")):
            raise ValueError("LossScaleOptimizer: initial_scale must be a finite number >= 1, "
                             f"received {initial_scale!r}")
        if (isinstance(dynamic_growth_steps, bool)
                or not isinstance(dynamic_growth_steps, numbers.Integral)
                or dynamic_growth_steps < 1):
            raise ValueError("LossScaleOptimizer: dynamic_growth_steps must be a positive "
                             f"integer, received {dynamic_growth_steps!r}")
        self.inner_optimizer = inner
        self.name = name or "loss_scale_optimizer"
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = int(dynamic_growth_steps)
        self._scale = _core.DynamicLossScale(self.initial_scale, self.dynamic_growth_steps)

    @property
    def _core(self):
        # The update itself is the inner optimizer's (its state, iterations, learning rate).
        return self.inner_optimizer._core

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    lr = learning_rate

    @property
    def learning_rate_schedule(self):
        return self.inner_optimizer.learning_rate_schedule

    @property
    def dynamic_scale(self):
        """The current loss scale."""
        return self._scale.scale

    @property
    def step_counter(self):
        """Good steps since the scale last changed."""
        return self._scale.step_counter

    @property
    def skipped_steps(self):
        """Steps skipped so far because a gradient overflowed (this process only)."""
        return self._scale.skipped_steps

    def get_config(self):
        from ..saving.model_io import _optimizer_spec
        return {"name": self.name, "inner_optimizer": _optimizer_spec(self.inner_optimizer),
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ..saving.serialization import deserialize
        config = dict(config)
        inner = config.pop("inner_optimizer")
        if isinstance(inner, dict):
            inner = deserialize(inner, "optimizer", custom_objects, "inner_optimizer")
        return cls(inner, **config)

    def __repr__(self):
        return (f"<LossScaleOptimizer inner={self.inner_optimizer!r} "
                f"dynamic_scale={self.dynamic_scale:g}>")
