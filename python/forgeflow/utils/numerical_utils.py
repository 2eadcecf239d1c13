"""``to_categorical``: class labels to one-hot rows, as ``keras.utils.to_categorical``, but
refusing labels Keras would silently mangle (negative, out of range, or fractional)."""

import numbers

import numpy as np

__all__ = ["to_categorical"]


def _position(mask):
    """The index (a tuple, or an int for 1-D input) of the first True in ``mask``."""
    index = np.unravel_index(int(np.argmax(mask)), mask.shape)
    return int(index[0]) if len(index) == 1 else tuple(int(i) for i in index)


def _labels(x):
    """``x`` as an int64 array; raises for anything that is not whole-number class labels."""
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as e:  # ragged nested lists and the like
        raise ValueError(f"to_categorical expects an array of integer class labels; could not "
                         f"make an array of {type(x).__name__}: {e}") from None
    if arr.dtype == bool:
        return arr.astype(np.int64)
    if arr.dtype.kind in "iu":
        if arr.dtype == np.uint64 and arr.size and arr.max() > np.iinfo(np.int64).max:
            at = _position(arr > np.iinfo(np.int64).max)
            raise ValueError(f"to_categorical: label {arr[at].item()} at index {at} is too "
                             "large to be a class index")
        return arr.astype(np.int64)
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
        if bad.any():
            at = _position(bad)
            raise ValueError(f"to_categorical expects integer class labels; received "
                             f"{arr.dtype} values including {arr[at].item()} at index {at}.")
        fractional = arr != np.floor(arr)
        if fractional.any():
            at = _position(fractional)
            raise ValueError(
                f"to_categorical expects integer class labels; received {arr.dtype} values that "
                f"are not whole numbers, e.g. {arr[at].item()!r} at index {at}. Keras would "
                "truncate them to integers silently (so 0.9 becomes class 0); forgeflow refuses. "
                "If these are probabilities or one-hot rows already, they need no "
                "to_categorical; otherwise round or cast them yourself (np.rint(y).astype(int)).")
        if arr.size and (arr.max() > np.iinfo(np.int64).max or arr.min() < np.iinfo(np.int64).min):
            raise ValueError("to_categorical: labels are out of the int64 range")
        return arr.astype(np.int64)
    raise TypeError(f"to_categorical expects integer class labels; received an array of dtype "
                    f"{arr.dtype} (shape {arr.shape}). Map strings or other values to integers "
                    "first (e.g. with ff.layers.StringLookup or np.unique(..., "
                    "return_inverse=True)).")


def to_categorical(x, num_classes=None):
    """Converts a class vector (integers) to a binary class matrix, e.g. for use with
    ``categorical_crossentropy``.

    Args:
        x: array-like of class values from 0 to ``num_classes - 1`` (integers, booleans, or
            floats holding whole numbers).
        num_classes: total number of classes; None infers ``max(x) + 1``.

    Returns:
        A float32 NumPy array of shape ``x.shape + (num_classes,)``, one-hot along the last
        axis; a trailing axis of size 1 is dropped first (``(N, 1)`` gives ``(N, num_classes)``),
        as Keras 3 does.

    Stricter than Keras (which casts to int and indexes, so these give silently wrong rows or an
    IndexError): a negative label, a label ``>= num_classes`` and a fractional float label raise
    ValueError naming the value and its index.

    Example:

    >>> ff.utils.to_categorical([0, 1, 2, 3], num_classes=4)
    array([[1., 0., 0., 0.],
           [0., 1., 0., 0.],
           [0., 0., 1., 0.],
           [0., 0., 0., 1.]], dtype=float32)
    """
    labels = _labels(x)
    if num_classes is not None and (isinstance(num_classes, bool)
                                    or not isinstance(num_classes, numbers.Integral)
                                    or num_classes < 1):
        raise ValueError(f"`num_classes` must be a positive integer or None. Received: "
                         f"num_classes={num_classes!r}")
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    if labels.size:
        negative = labels < 0
        if negative.any():
            at = _position(negative)
            raise ValueError(f"to_categorical: labels must be >= 0; received "
                             f"{labels[at].item()} at index {at}.")
    if num_classes is None:
        if not labels.size:
            raise ValueError("to_categorical received no labels (an empty array), so it cannot "
                             "infer the number of classes: pass num_classes.")
        num_classes = int(labels.max()) + 1
    else:
        num_classes = int(num_classes)
        too_big = labels >= num_classes
        if too_big.any():
            at = _position(too_big)
            raise ValueError(
                f"to_categorical: labels must be < num_classes={num_classes}; received "
                f"{labels[at].item()} at index {at} (the largest label is "
                f"{int(labels.max())}: pass num_classes={int(labels.max()) + 1} or more, or check "
                "the labels).")
    flat = labels.reshape(-1)
    out = np.zeros((flat.shape[0], num_classes), dtype=np.float32)
    out[np.arange(flat.shape[0]), flat] = 1.0
    return out.reshape(shape + (num_classes,))


to_categorical._keras_stricter = ("a negative label, a label >= num_classes or a fractional "
                                  "float label raises (Keras casts and indexes)")
