"""``LossScaleOptimizer``: dynamic loss scaling for float16 training, as Keras 3's.

float16 represents nothing below 2^-24: small gradients would flush to zero. The loss gradient
is multiplied by ``dynamic_scale`` before the backward pass; the gradients are divided by it
before the inner optimizer's update. A step whose gradients overflow (NaN/Inf) is skipped and the
scale halved (never below 1); after ``dynamic_growth_steps`` good steps in a row it doubles.
The whole mechanism runs in the C++ training step (``_core.DynamicLossScale``), with no host
round-trip. ``compile`` wraps the optimizer in one automatically when a layer computes in
float16 (``auto_scale_loss=True``, as Keras).
"""
# The class lives with the other optimizers (forgeflow/optimizers.py); this module keeps the
# ff.mixed_precision import path.
from ..optimizers import LossScaleOptimizer

__all__ = ["LossScaleOptimizer"]
