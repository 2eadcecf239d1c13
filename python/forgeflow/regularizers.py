"""Weight and activity regularizers with Keras 3's names: ``L1(l1=0.01)``, ``L2(l2=0.01)``,
``L1L2(l1=0.0, l2=0.0)`` (aliases ``l1``, ``l2``, ``l1_l2``) and the strings ``"l1"``, ``"l2"``,
``"l1_l2"`` (factor 0.01 each, as Keras documents for the string forms)::

    ff.layers.Dense(64, kernel_regularizer=ff.regularizers.L2(1e-4),
                    activity_regularizer="l1")

A regularizer given to a layer (``kernel_regularizer``, ``bias_regularizer``,
``depthwise_regularizer``, ``pointwise_regularizer``, ``activity_regularizer``, or
``add_weight(regularizer=...)``) runs inside the C++ training step: its penalty
``l1 * sum(|x|) + l2 * sum(x^2)`` is added to the loss (the ``loss`` fit and evaluate report
includes it, as Keras's does) and its gradient to the weight's. As in Keras 3 the penalty of a
weight counts while the weight is trainable (a frozen layer's is left out), and an activity
penalty is the sum over the whole batch of the layer's output.

Called directly on an array (``ff.regularizers.L2(0.1)(w)``) a regularizer returns the penalty
as a float32 NumPy value; on a symbolic tensor inside a custom layer's ``call`` it returns the
``ff.ops`` expression (for ``self.add_loss``). Because the penalty runs in C++, a regularizer
given to a layer must be one of these classes (or a subclass keeping their ``l1``/``l2``
meaning); any other function is refused with an error saying so."""
import math
import numbers

import numpy as np

from ._keras_tensor import KerasTensor
from .variables import Variable

# ff.ops, registered by forgeflow.ops when it is imported (ops builds on layers, which use this
# module: no import back): what a regularizer computes with on symbolic tensors.
_ops = None


def _register_ops(module):
    global _ops
    _ops = module


__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "serialize",
           "deserialize"]


def _factor(value, name):
    """Keras's validate_float_arg: a finite non-negative number."""
    if (isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer))
            or math.isinf(value) or math.isnan(value) or value < 0):
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float."
                         f"Received: {name}={value!r}")
    return float(value)


class Regularizer:
    """Base of the regularizers: ``l1`` and ``l2`` factors (0 when absent), applied as
    ``l1 * sum(|x|) + l2 * sum(x^2)``."""

    l1 = 0.0
    l2 = 0.0

    def __call__(self, x):
        """The penalty of ``x``: a float32 NumPy scalar for an array, an ``ff.ops`` expression
        for a symbolic tensor (or a weight inside a custom layer's ``call``)."""
        ops = _ops
        symbolic = isinstance(x, KerasTensor) or (isinstance(x, Variable) and x._tracing())
        if not symbolic:
            v = np.asarray(x, dtype=np.float64)
            total = 0.0
            if self.l1:
                total += self.l1 * float(np.sum(np.abs(v)))
            if self.l2:
                total += self.l2 * float(np.sum(np.square(v)))
            return np.float32(total)
        terms = []
        if self.l1:
            terms.append(self.l1 * ops.sum(ops.abs(x)))
        if self.l2:
            terms.append(self.l2 * ops.sum(ops.square(x)))
        if not terms:
            return 0.0
        return terms[0] if len(terms) == 1 else terms[0] + terms[1]

    def factors(self):
        """(l1, l2): what the C++ step applies."""
        return float(self.l1), float(self.l2)

    def get_config(self):
        """The factors, ``{"l1": ..., "l2": ...}`` (L1 and L2: their own one)."""
        return {"l1": float(self.l1), "l2": float(self.l2)}

    @classmethod
    def from_config(cls, config):
        """The regularizer of ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        return (isinstance(other, Regularizer) and type(other) is type(self)
                and other.get_config() == self.get_config())

    def __hash__(self):
        return hash((type(self).__name__, tuple(sorted(self.get_config().items()))))


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x^2)``. ``L1L2()`` penalizes nothing (Keras 3's defaults 0.0);
    the string ``"l1_l2"`` means ``L1L2(l1=0.01, l2=0.01)``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(0.0 if l1 is None else l1, "l1")
        self.l2 = _factor(0.0 if l2 is None else l2, "l2")


class L1(Regularizer):
    """``l1 * sum(|x|)`` (default ``l1=0.01``)."""

    def __init__(self, l1=0.01):
        self.l1 = _factor(0.01 if l1 is None else l1, "l1")

    def get_config(self):
        return {"l1": float(self.l1)}


class L2(Regularizer):
    """``l2 * sum(x^2)`` (default ``l2=0.01``)."""

    def __init__(self, l2=0.01):
        self.l2 = _factor(0.01 if l2 is None else l2, "l2")

    def get_config(self):
        return {"l2": float(self.l2)}


# Keras's function-style aliases.
l1 = L1
l2 = L2
l1_l2 = L1L2

_BY_NAME = {"L1": L1, "L2": L2, "L1L2": L1L2}
# The string forms: Keras documents a factor of 0.01 for each ("l1_l2": both).
_STRINGS = {"l1": lambda: L1(0.01), "l2": lambda: L2(0.01),
            "l1_l2": lambda: L1L2(l1=0.01, l2=0.01),
            "l1l2": L1L2}  # Keras 3's snake-case class name: the class defaults


def serialize(regularizer):
    """``{"class_name": "L2", "config": {"l2": 0.01}}`` (None for None)."""
    if regularizer is None:
        return None
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def deserialize(config):
    """The regularizer of ``serialize``'s output (forgeflow's classes only)."""
    if config is None:
        return None
    if not isinstance(config, dict) or config.get("class_name") not in _BY_NAME or \
            not isinstance(config.get("config", {}), dict):
        raise ValueError(f"Could not interpret regularizer config: {config!r}; expected "
                         '{"class_name": "L1" | "L2" | "L1L2", "config": {...}}')
    return _BY_NAME[config["class_name"]].from_config(config.get("config", {}))


def get(identifier, argument="regularizer"):
    """A regularizer from a name ("l1", "l2", "l1_l2"), a config dict, or an instance (None
    stays None). ``argument`` names the layer argument in the error for anything else."""
    if identifier is None:
        return None
    if isinstance(identifier, Regularizer):
        if type(identifier).__call__ is not Regularizer.__call__:
            raise TypeError(
                f"{argument}={identifier!r}: {type(identifier).__name__} computes its own "
                "penalty in Python, but forgeflow applies regularizers inside its C++ training "
                "step from their l1/l2 factors (ff.regularizers.L1, L2, L1L2). Add another "
                "penalty in a custom layer's call() with self.add_loss(...) and ff.ops.")
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        make = _STRINGS.get(identifier) or (
            (lambda: _BY_NAME[identifier]()) if identifier in _BY_NAME else None)
        if make is None:
            raise ValueError(f"Could not interpret regularizer identifier: {identifier!r} "
                             f"(for {argument}); expected 'l1', 'l2', 'l1_l2' or an "
                             "ff.regularizers object")
        return make()
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    raise TypeError(
        f"{argument}={identifier!r}: forgeflow applies regularizers inside its C++ training "
        "step, so it takes ff.regularizers.L1, L2 or L1L2 (or their string names 'l1', 'l2', "
        "'l1_l2'), not an arbitrary function. For another penalty, add it in a custom layer's "
        "call() with self.add_loss(...) written with ff.ops.")
