"""Activation functions by name, usable as ``activation=ff.activations.relu`` or "relu".
The math runs in the C++ core; these names identify the kernels."""

__all__ = ["relu", "sigmoid", "tanh", "softmax", "linear", "leaky_relu", "elu", "gelu", "swish",
           "silu", "get"]

NAMES = ("linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "gelu", "swish", "silu")


def _named(name):
    def activation(x):  # the docstring is set below, per name
        raise TypeError(
            f"forgeflow.activations.{name} names a built-in kernel for layers "
            f"(activation=ff.activations.{name} or '{name}'); it is not called on arrays directly")
    activation.__name__ = name
    activation.__qualname__ = name
    activation.__module__ = __name__
    activation.__doc__ = (f"The built-in ``{name}`` activation, for ``activation=ff.activations.{name}`` "
                          f"or ``activation=\"{name}\"``; computed in the C++ core, not callable on arrays.")
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
