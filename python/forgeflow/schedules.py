"""Learning-rate schedules, ``ff.optimizers.schedules`` (Keras 3 names, arguments and formulas).

Pass one as ``learning_rate=`` to any optimizer: the C++ optimizer evaluates it at every step
with its iteration count (``schedule(optimizer.iterations)``, 0 for the first update, as Keras),
so training never calls back into Python per step. ``schedule(step)`` evaluates the same C++
code, so what Python reports is what the optimizer uses. Values are computed in float32, like
Keras (whose schedules run in the dtype of ``initial_learning_rate``).
"""
import numbers

from . import _core

__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay", "CosineDecay",
           "InverseTimeDecay", "serialize", "deserialize", "get"]


def _number(cls, name, value, positive=False, nonneg=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{cls}: argument `{name}` must be a number, received {name}={value!r} "
                        f"of type {type(value).__name__}")
    if positive and not value > 0:
        raise ValueError(f"{cls}: argument `{name}` must be > 0. Received: {name}={value!r}")
    if nonneg and not value >= 0:
        raise ValueError(f"{cls}: argument `{name}` must be >= 0. Received: {name}={value!r}")
    return value


def _step(step):
    try:
        import numpy as np
        if isinstance(step, np.ndarray) and step.ndim == 0:
            step = step.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(step, bool) or not isinstance(step, numbers.Real):
        raise TypeError(f"A schedule is called with the optimizer step (an integer >= 0), "
                        f"received {step!r}")
    if step != int(step) or step < 0:
        raise ValueError(f"A schedule is called with the optimizer step (an integer >= 0), "
                         f"received {step!r}")
    return int(step)


class LearningRateSchedule:
    """Base class. Subclasses built into forgeflow run in C++ (``self._core``); a Python
    subclass that only defines ``__call__`` cannot drive the C++ loop and is refused by the
    optimizers with an error saying so."""

    _core = None

    def __call__(self, step):
        if self._core is None:
            raise NotImplementedError(
                f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, "
                "step)`.")
        return float(self._core(_step(step)))

    def get_config(self):
        """The schedule's constructor arguments as a dict; subclasses must override it."""
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()`.")

    @classmethod
    def from_config(cls, config):
        """A schedule from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    __hash__ = object.__hash__


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``; with ``staircase=True``
    the exponent is floored (the rate drops every ``decay_steps`` steps)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        c = "ExponentialDecay"
        self.initial_learning_rate = _number(c, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _number(c, "decay_steps", decay_steps, positive=True)
        self.decay_rate = _number(c, "decay_rate", decay_rate)
        self.staircase = bool(staircase)
        self.name = name
        self._core = _core.make_exponential_decay(float(initial_learning_rate), float(decay_steps),
                                                  float(decay_rate), self.staircase)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[1]`` while
    ``boundaries[0] < step <= boundaries[1]``, ..., ``values[-1]`` after the last boundary."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        c = "PiecewiseConstantDecay"
        if not isinstance(boundaries, (list, tuple)) or not isinstance(values, (list, tuple)):
            raise TypeError(f"{c}: `boundaries` and `values` must be lists, received "
                            f"boundaries={boundaries!r}, values={values!r}")
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={list(boundaries)} of length {len(boundaries)}, and "
                f"values={list(values)} of length {len(values)}.")
        for i, b in enumerate(boundaries):
            _number(c, f"boundaries[{i}]", b)
        for i, v in enumerate(values):
            _number(c, f"values[{i}]", v)
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name
        self._core = _core.make_piecewise_constant_decay([float(b) for b in boundaries],
                                                         [float(v) for v in values])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay with optional linear warm-up (Keras 3).

    Without ``warmup_target``: ``s = min(step, decay_steps)``,
    ``lr = initial_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)``.
    With ``warmup_target``: the rate rises linearly from ``initial_learning_rate`` to
    ``warmup_target`` over ``warmup_steps`` steps, then decays as above from ``warmup_target``
    over ``decay_steps`` more steps.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        c = "CosineDecay"
        self.initial_learning_rate = _number(c, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _number(c, "decay_steps", decay_steps, positive=True)
        self.alpha = _number(c, "alpha", alpha)
        self.name = name
        if warmup_target is not None:
            _number(c, "warmup_target", warmup_target)
        self.warmup_target = warmup_target
        self.warmup_steps = _number(c, "warmup_steps", warmup_steps, nonneg=True)
        self._core = _core.make_cosine_decay(
            float(initial_learning_rate), float(decay_steps), float(alpha),
            warmup_target is not None, float(warmup_target or 0.0), float(warmup_steps))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``; with
    ``staircase=True`` the quotient ``step / decay_steps`` is floored."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        c = "InverseTimeDecay"
        self.initial_learning_rate = _number(c, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _number(c, "decay_steps", decay_steps, positive=True)
        self.decay_rate = _number(c, "decay_rate", decay_rate)
        self.staircase = bool(staircase)
        self.name = name
        self._core = _core.make_inverse_time_decay(float(initial_learning_rate), float(decay_steps),
                                                   float(decay_rate), self.staircase)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


_BY_NAME = {cls.__name__: cls for cls in
            (ExponentialDecay, PiecewiseConstantDecay, CosineDecay, InverseTimeDecay)}


def serialize(schedule):
    """``{"class_name": ..., "config": ...}`` as Keras's ``schedules.serialize`` (data only)."""
    if not isinstance(schedule, LearningRateSchedule):
        raise TypeError(f"Expected a LearningRateSchedule, received {schedule!r}")
    return {"module": "forgeflow.optimizers.schedules", "class_name": type(schedule).__name__,
            "config": schedule.get_config()}


def deserialize(config, custom_objects=None):
    """The schedule described by ``serialize``'s dict. Only the built-in classes and those in
    ``custom_objects`` (name -> class) are known; nothing is imported by name."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Expected a dict with 'class_name' and 'config', received {config!r}")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _BY_NAME.get(name)
    if cls is None:
        raise ValueError(f"Unknown learning-rate schedule: '{name}'. Known: "
                         + ", ".join(sorted(_BY_NAME)) + ". Pass custom ones in custom_objects.")
    return cls.from_config(dict(config.get("config", {})))


def get(identifier):
    """A schedule from an instance or a ``serialize`` dict."""
    if isinstance(identifier, LearningRateSchedule):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError(f"Expected a LearningRateSchedule or its config dict, received {identifier!r}")
