"""Debugging helpers: check-numerics (NaN/Inf caught at the layer that produced them) and
named-dimension shape assertions (``tf.debugging.assert_shapes``)."""
from . import _core
from .debugging_shapes import assert_shapes

__all__ = ["enable_check_numerics", "disable_check_numerics", "assert_shapes"]


def enable_check_numerics():
    """From now on, any NaN or Inf produced by a layer's forward pass, a layer's backward pass or
    the loss raises FloatingPointError naming the layer, the pass, the epoch and the step."""
    _core.set_check_numerics(True)


def disable_check_numerics():
    """Turns check-numerics off (the default; then it costs nothing)."""
    _core.set_check_numerics(False)


def check_numerics_enabled():
    return _core.check_numerics_enabled()
