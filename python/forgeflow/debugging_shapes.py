"""Shape assertions for arrays, like ``tf.debugging.assert_shapes`` (pure Python).

    assert_shapes([
        (x, ("N", 28, 28, 1)),
        (y, ("N",)),
        (w, ("...", "C")),
    ])

Spec entries: an int (exact size), a string naming a dimension (must be the
same size everywhere it appears, across all tensors), None or "." (any size),
and, as the first entry only, "..." or "*" (any number of leading dims).
"""

import numbers

import numpy as np

__all__ = ["assert_shapes"]

_ELLIPSIS = ("...", "*")
_ANY = (None, ".")


def _shape_of(obj):
    shape = getattr(obj, "shape", None)
    if shape is None:
        shape = np.shape(obj)
    if callable(shape):  # e.g. objects exposing shape() as a method
        shape = shape()
    out = []
    for d in tuple(shape):
        if d is None:
            out.append(None)
        else:
            try:
                out.append(int(d))
            except (TypeError, ValueError):
                out.append(None)  # unknown / symbolic dimension
    return tuple(out)


def _fmt_shape(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (
        ",)" if len(shape) == 1 else ")"
    )


def _fmt_spec(spec):
    return repr(tuple(spec))


def _check_spec(i, spec):
    if isinstance(spec, (str, bytes)) or not hasattr(spec, "__iter__"):
        raise TypeError(
            f"Shape spec of tensor {i} must be a tuple or list such as ('N', 28, 28), "
            f"got {spec!r}."
        )
    spec = tuple(spec)
    for j, e in enumerate(spec):
        if e in _ELLIPSIS and j != 0:
            raise ValueError(
                f"Shape spec {_fmt_spec(spec)} of tensor {i}: {e!r} is only allowed "
                f"as the first entry, found at position {j}."
            )
        if e is None or isinstance(e, str):
            continue
        if isinstance(e, bool) or not isinstance(e, numbers.Integral) or e < 0:
            raise TypeError(
                f"Shape spec {_fmt_spec(spec)} of tensor {i}: entry {j} must be a "
                f"non-negative int, a dimension name, None, '.' or a leading '...', "
                f"got {e!r}."
            )
    return spec


def assert_shapes(shapes, data=None, summarize=None, message=None, name=None):
    """Check that arrays have the shapes described by ``shapes``.

    Args:
        shapes: list of ``(array_like, spec)`` pairs, or a dict
            ``{array_like: spec}``. Works on numpy arrays, nested lists, and
            anything with a ``.shape``.
        data: extra objects appended to the error message (as tf does).
        summarize: accepted for TF compatibility (unused).
        message: prefix for the error message.
        name: name of the check, added to the error message.

    Raises:
        ValueError: a rank or dimension mismatch, naming the tensor index, its
            shape, the spec, the dimension and, for a named dimension, which
            earlier tensor fixed its size.
    """
    del summarize
    items = list(shapes.items()) if isinstance(shapes, dict) else list(shapes)
    symbols = {}  # name -> (size, tensor index, tensor shape)

    def fail(text):
        parts = []
        if name:
            parts.append(f"[{name}]")
        if message:
            parts.append(str(message))
        parts.append(text)
        msg = " ".join(parts)
        if data:
            msg += "\n" + "\n".join(str(d) for d in data)
        raise ValueError(msg)

    for i, pair in enumerate(items):
        try:
            tensor, spec = pair
        except (TypeError, ValueError):
            raise TypeError(
                f"assert_shapes expects (tensor, shape_spec) pairs; item {i} is {pair!r}."
            ) from None
        spec = _check_spec(i, spec)
        shape = _shape_of(tensor)
        has_ellipsis = bool(spec) and spec[0] in _ELLIPSIS
        dims_spec = spec[1:] if has_ellipsis else spec
        if has_ellipsis:
            if len(shape) < len(dims_spec):
                fail(
                    f"Shape of tensor {i} (shape {_fmt_shape(shape)}) is incompatible "
                    f"with the expected rank at least {len(dims_spec)} of "
                    f"{_fmt_spec(spec)}"
                )
        elif len(shape) != len(dims_spec):
            fail(
                f"Shape of tensor {i} (shape {_fmt_shape(shape)}) is incompatible "
                f"with the expected rank {len(dims_spec)} of {_fmt_spec(spec)}"
            )
        offset = len(shape) - len(dims_spec)
        for k, e in enumerate(dims_spec):
            dim_index = offset + k
            size = shape[dim_index]
            if e in _ANY or size is None:
                continue
            if isinstance(e, str):
                if e in symbols:
                    want, src, src_shape = symbols[e]
                    if size != want:
                        fail(
                            f"Shape of tensor {i} (shape {_fmt_shape(shape)}) is "
                            f"incompatible with {_fmt_spec(spec)}: dimension "
                            f"{dim_index} ({e!r}) has size {size}, but {e!r} was "
                            f"fixed to {want} by tensor {src} (shape "
                            f"{_fmt_shape(src_shape)})"
                        )
                else:
                    symbols[e] = (size, i, shape)
            elif size != int(e):
                fail(
                    f"Shape of tensor {i} (shape {_fmt_shape(shape)}) is incompatible "
                    f"with {_fmt_spec(spec)}: dimension {dim_index} has size {size} "
                    f"but expected {int(e)}"
                )
