"""Mixed precision as in ``keras.mixed_precision``: ``set_global_policy("mixed_bfloat16" |
"mixed_float16" | "float32")``, ``Policy``, ``LossScaleOptimizer``.

Layers created under a mixed policy compute in 16 bits; weights and optimizer state stay float32;
softmax outputs and losses are computed in float32; ``compile`` adds dynamic loss scaling for
float16. A layer's ``dtype=`` overrides the global policy (``dtype="float32"`` on the output
layer is the usual choice for a regression head)."""
from .loss_scale_optimizer import LossScaleOptimizer
from .policy import DTypePolicy, Policy, global_policy, set_global_policy

__all__ = ["Policy", "DTypePolicy", "set_global_policy", "global_policy", "LossScaleOptimizer"]
