"""Shared by the callbacks that watch a logged metric (EarlyStopping, ReduceLROnPlateau):
which direction is an improvement (mode "min" / "max" / "auto"), and the current value."""

import warnings

__all__ = ["resolve_mode", "monitor_value", "learning_rate_of"]

# Keras 3's "auto": names ending in these are maximized, everything else minimized.
_MAXIMIZED_SUFFIXES = ("acc", "accuracy", "auc")


def resolve_mode(owner, monitor, mode):
    """(mode, maximize) for ``mode`` in "auto", "min", "max"; an unknown mode warns and falls
    back to "auto", as Keras does."""
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{owner} mode {mode} is unknown, fallback to auto mode.", stacklevel=3)
        mode = "auto"
    if mode == "auto":
        return mode, monitor.endswith(_MAXIMIZED_SUFFIXES)
    return mode, mode == "max"


def monitor_value(owner, monitor, logs):
    """``logs[monitor]`` as a float, or None with a warning naming the available keys."""
    logs = logs or {}
    value = logs.get(monitor)
    if value is None:
        warnings.warn(
            f"{owner} conditioned on metric `{monitor}` which is not available. "
            f"Available metrics are: {','.join(list(logs.keys()))}",
            stacklevel=3,
        )
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def learning_rate_of(owner, model, settable=True):
    """The model's optimizer learning rate (float). With ``settable``, raise TypeError when the
    rate is driven by a LearningRateSchedule (a callback cannot also set it; Keras raises when
    the callback tries to set it, we raise before training starts)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError(f'{owner}: the optimizer must have a "learning_rate" attribute; the '
                         "model has no compiled optimizer (call compile() first).")
    schedule = getattr(optimizer, "learning_rate_schedule", None)
    if settable and schedule is not None:
        raise TypeError(
            f"{owner} sets the optimizer's learning rate, but this optimizer was created with a "
            f"learning-rate schedule ({type(schedule).__name__}) as its `learning_rate`, which "
            "is not settable. Use either the schedule or this callback: create the optimizer "
            "with a float learning_rate to use the callback.")
    return float(optimizer.learning_rate)
