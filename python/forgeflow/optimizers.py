"""Keras-compatible optimizers with Keras 3's defaults. Each runs as one fused update over the
model's contiguous parameter buffer in the C++ core. ``learning_rate`` can be read and set at
any time (callbacks do). Also ``LossScaleOptimizer`` (float16's dynamic loss scaling, exported by
ff.mixed_precision too, as Keras 3 does)."""
import numbers

from . import _core, schedules

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "LossScaleOptimizer", "get",
           "serialize", "deserialize", "schedules"]


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


def serialize(optimizer):
    """``{"class_name", "config"[, "registered_name"]}`` of an optimizer, as Keras's
    ``optimizers.serialize`` (data only; a schedule is serialized inside its config)."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"Expected a forgeflow optimizer, received {optimizer!r}")
    spec = {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
    # Set by ff.saving.register_serializable on the class itself (not inherited).
    registered = type(optimizer).__dict__.get("_ff_registered_name")
    if registered is not None:
        spec["registered_name"] = registered
    return spec


def deserialize(config, custom_objects=None):
    """The optimizer of ``serialize``'s dict: forgeflow's optimizers and those in
    ``custom_objects`` (name -> class); nothing is imported by name."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Expected a dict with 'class_name' and 'config', received {config!r}")
    name = config["class_name"]
    builtin = {cls.__name__: cls for cls in (*_BY_NAME.values(), LossScaleOptimizer)}
    cls = (custom_objects or {}).get(config.get("registered_name") or name) \
        or (custom_objects or {}).get(name) or builtin.get(name)
    if cls is None:
        raise ValueError(f"Unknown optimizer: '{name}'. Known: " + ", ".join(sorted(builtin))
                         + ". Pass custom ones in custom_objects.")
    return cls.from_config(dict(config.get("config", {})))


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


# ---------------------------------------------------------------------------------- loss scaling
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
        inner = get(inner_optimizer)
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
        return {"name": self.name, "inner_optimizer": serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """From get_config(): ``inner_optimizer`` an optimizer, its name or its serialized dict
        (forgeflow's optimizers and those in ``custom_objects``; ff.saving rebuilds registered
        custom ones before calling this)."""
        config = dict(config)
        inner = config.pop("inner_optimizer")
        if isinstance(inner, dict):
            inner = deserialize(inner, custom_objects)
        return cls(inner, **config)

    def __repr__(self):
        return (f"<LossScaleOptimizer inner={self.inner_optimizer!r} "
                f"dynamic_scale={self.dynamic_scale:g}>")
