"""Merge layers of the functional API: Add, Multiply, Average (inputs of identical shapes) and
Concatenate (along one axis). Unlike Keras, Add and Average do not broadcast, and Multiply only
where one of two inputs stretches to the other's shape (a gate such as squeeze-and-excitation's
(None, 1, 1, C) on (None, H, W, C); ff.ops's rule): mismatched inputs raise an error naming the
layers that produced them and their shapes."""
import numbers

import numpy as np

from .. import _core
from .._eager import eager, float32_inputs
from .core import Layer, _seed

__all__ = ["Add", "Multiply", "Average", "Concatenate", "add", "multiply", "average", "concatenate"]


def _describe(tensor):
    return f'"{tensor.producer_name}" gives {_shape_str(tensor.shape)}'


def _shape_str(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class _ElementwiseMerge(Layer):
    _core_class = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._core = self._core_class(self.name, _seed())

    def _check_merge_inputs(self, parents):
        if len(parents) < 2:
            raise ValueError(f'A merge layer should be called on a list of at least 2 inputs. '
                             f'Layer "{self.name}" ({type(self).__name__}) received {len(parents)}.')
        first = parents[0]
        for other in parents[1:]:
            if tuple(other.shape) != tuple(first.shape):
                raise ValueError(
                    f'Layer "{self.name}" ({type(self).__name__}) cannot merge inputs of different '
                    f"shapes: {_describe(first)} and {_describe(other)}. Merge layers do not "
                    "broadcast; make the shapes equal (e.g. a Dense or Reshape on one branch).")


def _one_sided_broadcast(a, b):
    """The shape of a broadcast of shapes a and b (NumPy's rule; None, the batch, meets None or
    1) when it is the shape of one of them, else None (mismatched, or both would grow)."""
    rank = max(len(a), len(b))
    a1 = (1,) * (rank - len(a)) + tuple(a)
    b1 = (1,) * (rank - len(b)) + tuple(b)
    out = []
    for x, y in zip(a1, b1):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            return None
    out = tuple(out)
    return out if out in (tuple(a), tuple(b)) else None


class Add(_ElementwiseMerge):
    """Elementwise sum of its inputs (all of the same shape)."""
    _core_class = _core.Add
    _keras_stricter = "inputs must have the same shape (Keras broadcasts them)"


class Multiply(_ElementwiseMerge):
    """Elementwise product of its inputs: all of the same shape, or two where one stretches to
    the other's shape along size-1 (or missing) axes, such as the squeeze-and-excitation gate
    ``multiply([x, se])`` with x (None, H, W, C) and se (None, 1, 1, C). Two inputs that would
    both grow ((None, 1) and (None,) into (None, None)) raise, as in ff.ops."""
    _core_class = _core.Multiply
    _keras_stricter = ("broadcasts only where one of two inputs stretches to the other's shape; "
                       "raises where both would grow (Keras broadcasts both)")

    def _check_merge_inputs(self, parents):
        if len(parents) == 2 and tuple(parents[0].shape) != tuple(parents[1].shape):
            self._check_broadcast(parents[0].shape, parents[1].shape,
                                  [_describe(p) for p in parents])
            # The C++ broadcasting product of ff.ops.multiply (BinaryOp) does the work.
            if isinstance(self._core, _core.BinaryOp):
                return  # a shared layer, built for these shapes (its build checks them)
            if self._core.built:
                raise ValueError(f'Layer "{self.name}" (Multiply) was built for inputs of one '
                                 "shape; it cannot be called again on inputs of other shapes")
            self._core = _core.BinaryOp(self.name, "multiply", int(self._core.seed), [None, None])
            return
        super()._check_merge_inputs(parents)

    def _check_broadcast(self, shape_a, shape_b, shown):
        """Raises unless only one of two shapes grows into the other (see the class)."""
        if _one_sided_broadcast(shape_a, shape_b) is None:
            raise ValueError(
                f'Layer "{self.name}" (Multiply) cannot multiply inputs of these shapes: '
                f"{shown[0]} and {shown[1]}. Multiply broadcasts one input to the other's shape "
                "(size-1 or missing axes stretch, e.g. a (None, 1, 1, C) gate on (None, H, W, C)),"
                " but not both into a larger shape, nor sizes that differ: reshape one of them.")

    def _call_eagerly(self, inputs, training):
        if isinstance(inputs, (list, tuple)) and len(inputs) == 2:
            xs = float32_inputs(inputs, 0, f'Layer "{self.name}" (Multiply)')
            if xs[0].shape != xs[1].shape:
                self._check_broadcast(xs[0].shape, xs[1].shape,
                                      [f"input 0 has shape {_shape_str(x.shape)}" if i == 0 else
                                       f"input 1 has shape {_shape_str(x.shape)}"
                                       for i, x in enumerate(xs)])
                op = _core.BinaryOp(self.name, "multiply", 0, [None, None])
                return eager(_core.run_op(op, [np.ascontiguousarray(x) for x in xs]))
        return super()._call_eagerly(inputs, training)


class Average(_ElementwiseMerge):
    """Elementwise mean of its inputs (all of the same shape)."""
    _core_class = _core.Average
    _keras_stricter = "inputs must have the same shape (Keras broadcasts them)"


class Concatenate(Layer):
    """Concatenates its inputs along ``axis`` (default -1); other dimensions must match."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"Concatenate axis must be an integer, received {axis!r}")
        self.axis = int(axis)
        self._core = _core.Concatenate(self.name, _seed(), self.axis)

    def _check_merge_inputs(self, parents):
        if len(parents) < 2:
            raise ValueError(f'A Concatenate layer should be called on a list of at least 2 inputs. '
                             f'Layer "{self.name}" received {len(parents)}.')
        rank = len(parents[0].shape)
        axis = self.axis + rank if self.axis < 0 else self.axis
        for other in parents[1:]:
            same_rank = len(other.shape) == rank
            if not same_rank or any(a != b for d, (a, b) in enumerate(zip(parents[0].shape, other.shape))
                                    if d != axis):
                raise ValueError(
                    f'Layer "{self.name}" (Concatenate) requires inputs with matching shapes except '
                    f"for the concatenation axis {self.axis}: {_describe(parents[0])} and "
                    f"{_describe(other)}.")

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


# Keras's functional forms: ``ff.layers.add([a, b])`` is ``ff.layers.Add()([a, b])``.
def add(inputs, **kwargs):
    """``Add(**kwargs)(inputs)``: the elementwise sum of same-shaped inputs."""
    return Add(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """``Multiply(**kwargs)(inputs)``: the elementwise product of its inputs (one of two may
    broadcast to the other's shape; see Multiply)."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """``Average(**kwargs)(inputs)``: the elementwise mean of same-shaped inputs."""
    return Average(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """``Concatenate(axis=axis, **kwargs)(inputs)``: the inputs joined along ``axis``."""
    return Concatenate(axis=axis, **kwargs)(inputs)
