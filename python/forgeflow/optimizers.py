"""Keras-compatible optimizers with Keras 3's defaults. Each runs as one fused update over the
model's contiguous parameter buffer in the C++ core. ``learning_rate`` can be read and set at
any time (callbacks do)."""
import numbers

from . import _core, schedules

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "LossScaleOptimizer", "get",
           "schedules"]


def _nonneg(name, value):
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
        raise ValueError(f"`{name}` must be a number >= 0 or None, received {name}={value!r}")
    return float(value)


class Optimizer:
    """Base class: learning_rate, clipnorm, clipvalue, global_clipnorm, weight_decay."""

    def __init__(self, factory, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None, **specific):
        schedule = _schedule_or_none(learning_rate)
        if schedule is not None:
            learning_rate = schedule(0)  # unused while the schedule drives the rate
        self.name = name or type(self).__name__.lower()
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.weight_decay = weight_decay
        self._specific = specific
        self._core = factory(
            learning_rate=float(learning_rate), clipnorm=_nonneg("clipnorm", clipnorm),
            clipvalue=_nonneg("clipvalue", clipvalue),
            global_clipnorm=_nonneg("global_clipnorm", global_clipnorm),
            weight_decay=_nonneg("weight_decay", weight_decay), **specific)
        self._schedule = schedule
        if schedule is not None:
            self._core.schedule = schedule._core

    @property
    def learning_rate(self):
        """The rate of the next step; with a schedule, ``schedule(iterations)`` (as Keras)."""
        return self._core.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        schedule = _schedule_or_none(value)
        if schedule is not None:
            self._schedule = schedule
            self._core.schedule = schedule._core
        else:  # the core raises TypeError while a schedule is set, as Keras
            self._core.learning_rate = float(value)

    @property
    def learning_rate_schedule(self):
        """The ``LearningRateSchedule`` driving the rate, or None for a fixed rate."""
        return self._schedule

    lr = learning_rate

    @property
    def iterations(self):
        """Number of update steps applied so far."""
        return self._core.iterations

    def get_config(self):
        """The optimizer's constructor arguments as a dict (a schedule serialised in place of
        the learning rate); ``from_config``'s input."""
        lr = (schedules.serialize(self._schedule) if self._schedule is not None
              else self.learning_rate)
        return {"name": self.name, "learning_rate": lr,
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm,
                **self._specific}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A new optimizer from ``get_config()``'s output (a schedule's dict is rebuilt through
        ``schedules.deserialize``: built-in classes and ``custom_objects`` only)."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} learning_rate={self.learning_rate:g}>"


def _schedule_or_none(learning_rate):
    """The schedule when ``learning_rate`` is one (checked), None for a number; else TypeError."""
    if isinstance(learning_rate, schedules.LearningRateSchedule):
        if learning_rate._core is None:
            raise TypeError(
                f"The learning-rate schedule {type(learning_rate).__name__} is a Python subclass; "
                "the training loop runs in C++ and evaluates only the built-in schedules "
                "(ExponentialDecay, PiecewiseConstantDecay, CosineDecay, InverseTimeDecay) at each "
                "step. Use one of them, or set optimizer.learning_rate from a callback.")
        return learning_rate
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real):
        raise TypeError("learning_rate must be a number or a "
                        "forgeflow.optimizers.schedules.LearningRateSchedule, received "
                        f"{learning_rate!r}")
    return None


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum. Keras defaults: lr 0.01."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        if not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be a float between [0, 1]. Received: momentum={momentum}")
        super().__init__(_core.make_sgd, learning_rate, momentum=float(momentum),
                         nesterov=bool(nesterov), **kwargs)


class Adam(Optimizer):
    """Adam. Keras defaults: lr 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 **kwargs):
        super().__init__(_core.make_adam, learning_rate, beta_1=float(beta_1), beta_2=float(beta_2),
                         epsilon=float(epsilon), amsgrad=bool(amsgrad), **kwargs)


class AdamW(Optimizer):
    """Adam with decoupled weight decay. Keras defaults: lr 0.001, weight_decay 0.004."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(_core.make_adamw, learning_rate, weight_decay=weight_decay,
                         beta_1=float(beta_1), beta_2=float(beta_2), epsilon=float(epsilon),
                         amsgrad=bool(amsgrad), **kwargs)


class RMSprop(Optimizer):
    """RMSprop. Keras defaults: lr 0.001, rho 0.9, momentum 0, epsilon 1e-7, centered False."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 **kwargs):
        super().__init__(_core.make_rmsprop, learning_rate, rho=float(rho), momentum=float(momentum),
                         epsilon=float(epsilon), centered=bool(centered), **kwargs)


class Adagrad(Optimizer):
    """Adagrad. Keras defaults: lr 0.001, initial_accumulator_value 0.1, epsilon 1e-7."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(_core.make_adagrad, learning_rate,
                         initial_accumulator_value=float(initial_accumulator_value),
                         epsilon=float(epsilon), **kwargs)


_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}


def get(identifier):
    """An optimizer from a name ('adam', 'sgd', ...) with Keras defaults, or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer: '{identifier}'. Expected one of: "
                             + ", ".join(sorted(_BY_NAME)))
        return cls()
    raise TypeError(f"optimizer must be a name or a forgeflow.optimizers.Optimizer, received {identifier!r}")


def __getattr__(name):
    # Keras 3 exports LossScaleOptimizer here too; it lives with the rest of mixed precision
    # (imported on first use: it subclasses Optimizer, defined above).
    if name == "LossScaleOptimizer":
        from .mixed_precision.loss_scale_optimizer import LossScaleOptimizer
        return LossScaleOptimizer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
