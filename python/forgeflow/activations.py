"""Activation functions by name, usable as ``activation=ff.activations.relu`` or "relu" (the
math then runs in the layer's C++ kernel), and callable as Keras's are: on a symbolic tensor
(inside a custom layer's call(), or in a functional model) they add the ``ff.ops`` node, on an
array they compute at once (``ff.ops.relu`` and friends)."""

__all__ = ["relu", "sigmoid", "tanh", "softmax", "linear", "leaky_relu", "elu", "gelu", "swish",
           "silu", "get"]

NAMES = ("linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "gelu", "swish", "silu")


def _apply(name, x, kwargs):
    from . import ops
    if name == "linear":
        return x
    fn = {"swish": ops.silu}.get(name) or getattr(ops, name)
    return fn(x, **kwargs)


def _named(name):
    def activation(x, **kwargs):  # the docstring is set below, per name
        return _apply(name, x, kwargs)
    activation.__name__ = name
    activation.__qualname__ = name
    activation.__module__ = __name__
    activation.__doc__ = (f"The ``{name}`` activation: ``activation=ff.activations.{name}`` (or "
                          f"``\"{name}\"``) runs it in a layer's C++ kernel; called on a tensor "
                          f"it is ``ff.ops.{'silu' if name == 'swish' else name}`` (a graph node "
                          "on symbolic tensors, computed at once on arrays).")
    return activation


relu, sigmoid, tanh, softmax, linear = (_named(n) for n in ("relu", "sigmoid", "tanh", "softmax", "linear"))
leaky_relu, elu, gelu, swish, silu = (_named(n) for n in ("leaky_relu", "elu", "gelu", "swish", "silu"))


def get(identifier):
    """The activation name for a name or one of this module's functions."""
    if identifier is None:
        return "linear"
    if isinstance(identifier, str) and identifier in NAMES:
        return identifier
    name = getattr(identifier, "__name__", None)
    if name in NAMES and getattr(identifier, "__module__", None) == __name__:
        return name
    raise ValueError(f"Unknown activation: {identifier!r}. Expected one of: {', '.join(NAMES)}")
