"""Warnings for the classic training mistakes, raised once per model at compile or on the first
batch of fit (never with a second pass over the data). Silence them with
``warnings.filterwarnings("ignore", category=ff.LikelyMistakeWarning)``."""
import warnings

import numpy as np

from ._user_frame import user_stacklevel


class LikelyMistakeWarning(UserWarning):
    """A setting or input that is legal but very likely wrong; the message gives the fix."""


_CROSSENTROPY = ("binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy")
# Layers that pass values through without changing what they mean (an activation before them
# is still the model's output activation).
_PASS_THROUGH = ("Dropout", "Flatten", "Reshape")
# Layers that are an activation without an `activation` argument.
_ACTIVATION_LAYERS = {"Softmax": "softmax"}
# Layers that scale raw inputs inside the model: unnormalised data is expected before them.
SCALING_LAYERS = ("Rescaling", "Normalization", "BatchNormalization")
# Augmentation layers keep the input's scale: the check looks through them to the layer after.
AUGMENTATION_LAYERS = ("RandomFlip", "RandomTranslation", "RandomZoom", "RandomRotation")


def _warn(model, key, message):
    if key in model._warned:
        return
    model._warned.add(key)
    warnings.warn(message, LikelyMistakeWarning, stacklevel=user_stacklevel())


def _activation_of(layer):
    """The activation name a layer applies last, or None when it has none."""
    act = getattr(layer, "activation", None)
    return act if isinstance(act, str) else _ACTIVATION_LAYERS.get(type(layer).__name__)


def _is_composite(layer):
    """A custom layer or a model used as a layer: its activation is inside its traced call."""
    return getattr(layer, "_ff_trackable", False) and (
        hasattr(layer, "_nodes") or layer.__dict__.get("_core_layer") is None)


def stack_activation(layers):
    """The activation a stack of layers ends with ('linear' if none)."""
    for layer in reversed(layers):
        if _is_composite(layer):
            inbound = layer.__dict__.get("_inbound")
            if inbound:
                out = inbound[-1][1]
                return tensor_activation(out[0] if isinstance(out, list) else out)
            return "linear"
        act = _activation_of(layer)
        if isinstance(act, str):
            return act
        if type(layer).__name__ not in _PASS_THROUGH:
            return "linear"
    return "linear"


def tensor_activation(tensor):
    """The activation that produced a functional model's output tensor ('linear' if none),
    looking into the traced calls of custom layers and nested models."""
    while True:
        if getattr(tensor, "_outer", None) is not None:  # a traced call's placeholder
            tensor = tensor._outer
            continue
        if tensor._history is None:
            break
        call = getattr(tensor, "_call", None)
        if call is not None:  # a composite's output: the traced call's own output
            tensor = call.traces[0].outputs[tensor._output_index]
            continue
        layer, parents, _ = tensor._history
        act = _activation_of(layer)
        if isinstance(act, str):
            return act
        if type(layer).__name__ not in _PASS_THROUGH or len(parents) != 1:
            return "linear"
        tensor = parents[0]
    return "linear"


def at_compile(model, loss, act, optimizer):
    """Checks one output's loss against the activation producing it, and the optimizer."""
    name = loss._core_name
    if name in _CROSSENTROPY and loss.from_logits and act in ("softmax", "sigmoid"):
        _warn(model, "logits-after-activation",
              f'The loss "{name}" was compiled with from_logits=True, but the model\'s last layer '
              f"already applies {act}: the loss would apply it a second time and train badly. "
              f"Use from_logits=False, or remove the {act} so the model outputs logits.")
    if name in _CROSSENTROPY and not loss.from_logits and act not in ("softmax", "sigmoid"):
        _warn(model, "probabilities-expected",
              f'The loss "{name}" expects probabilities (from_logits=False), but the model\'s last '
              f"layer is {act}, so it outputs unbounded logits. Pass "
              f"{type(loss).__name__}(from_logits=True), or end the model with "
              f"{'sigmoid' if name == 'binary_crossentropy' else 'softmax'}.")
    lr = getattr(optimizer, "learning_rate", None)
    if type(optimizer).__name__ in ("Adam", "AdamW") and lr is not None and lr > 1.0:
        _warn(model, "adam-lr",
              f"Adam's learning_rate={lr:g} is far above the usual 1e-4..1e-2 (default 0.001): "
              "training will very likely diverge. Use e.g. Adam(learning_rate=0.001).")


def at_first_batch_inputs(model, x_batch, x_was_integer):
    """Looks at one input's first batch only (never the whole dataset)."""
    if x_batch.size:
        lo, hi = float(np.min(x_batch)), float(np.max(x_batch))
        if lo >= 0 and hi > 2.0 and (x_was_integer or hi <= 255.0) and hi >= 10.0:
            _warn(model, "unnormalised",
                  f"The inputs look unnormalised: the first batch ranges from {lo:g} to {hi:g} "
                  "(0-255 pixel values?). Networks train far better on inputs scaled to about "
                  "[0, 1]: divide by 255 (x / 255.0) before fit, or start the model with "
                  "Rescaling(1/255).")


def at_first_batch_targets(model, y_batch, loss, act):
    """Looks at one output's first batch of targets only."""
    if act == "softmax" and loss._core_name in ("mean_squared_error", "mean_absolute_error"):
        y = np.asarray(y_batch)
        if y.size and np.all(np.isin(y, (0.0, 1.0))):
            _warn(model, "softmax-mse",
                  f'A softmax output trained with "{loss._core_name}" on class labels learns '
                  "slowly and poorly: use categorical_crossentropy (one-hot labels) or "
                  "sparse_categorical_crossentropy (integer labels).")


def first_batch(model, xs, x_integer, ys):
    """The first-batch checks of a fit: every input the model does not rescale itself, and every
    trained output's targets."""
    for a, is_int, scaled in zip(xs, x_integer, model._inputs_scaled_in_model()):
        if not scaled:
            at_first_batch_inputs(model, a, is_int)
    for t, loss, act in zip(ys, model._losses, model._output_activations()):
        if t is not None:
            at_first_batch_targets(model, t, loss, act)
