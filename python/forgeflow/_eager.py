"""Eager results and inputs: what ``model(x)`` and ``layer(x)`` return on arrays is an
``EagerTensor``, a NumPy array that also answers ``.numpy()`` (as TensorFlow's eager tensors do,
so Keras code calling ``model(x).numpy()`` runs unchanged); and the checks that turn a call's
array inputs into float32 arrays, refusing what is not numeric."""
import numbers

import numpy as np

__all__ = ["EagerTensor", "eager", "float32_inputs", "is_eager_input"]


class EagerTensor(np.ndarray):
    """A NumPy array with TensorFlow's ``.numpy()`` (a plain ``numpy.ndarray`` view of it)."""

    def numpy(self):
        """The values as a plain ``numpy.ndarray`` (a view, no copy)."""
        return self.view(np.ndarray)


def eager(value):
    """An array (or each array of a list / dict of outputs) as an EagerTensor view."""
    if isinstance(value, np.ndarray):
        return value.view(EagerTensor)
    if isinstance(value, dict):
        return {k: eager(v) for k, v in value.items()}
    if isinstance(value, list):
        return [eager(v) for v in value]
    return value


def is_eager_input(value):
    """Arrays, numbers, or (nested once) lists/tuples of them: a call on data, not symbols."""
    if isinstance(value, (np.ndarray, numbers.Number)):
        return True
    if isinstance(value, (list, tuple)) and value:
        return all(isinstance(v, (np.ndarray, numbers.Number, list, tuple)) for v in value)
    return False


def float32_inputs(value, count, who):
    """The call's inputs as C-contiguous float32 arrays: one for a single-input layer (a list is
    array data), or `count`/"any" (count=0) arrays for a layer taking several. Integer and bool
    data convert (Keras casts them too); strings, objects and ragged lists raise TypeError naming
    `who` and what was received."""
    if count == 1:
        parts = [value]
    else:
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{who} takes several inputs: call it on a list of arrays, received "
                            f"{type(value).__name__}")
        parts = list(value)
    out = []
    for i, part in enumerate(parts):
        try:
            array = np.asarray(part)
        except ValueError as e:  # ragged nested lists
            raise TypeError(f"{who}: input {i} is not a rectangular array ({e})") from None
        if array.dtype.kind not in "fiub":
            raise TypeError(f"{who}: input {i} has dtype {array.dtype}; expected numbers (float, "
                            "int, uint or bool arrays)")
        if array.ndim == 0:
            raise ValueError(f"{who}: input {i} is a scalar; inputs need a batch dimension "
                             "(e.g. np.array([[x]]) or x[None])")
        out.append(np.ascontiguousarray(array, dtype=np.float32))
    return out
