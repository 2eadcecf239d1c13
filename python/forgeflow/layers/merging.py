"""Merge layers of the functional API: Add, Multiply, Average (inputs of identical shapes) and
Concatenate (along one axis). Unlike Keras, nothing broadcasts: mismatched inputs raise an error
naming the layers that produced them and their shapes."""
import numbers

from .. import _core
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


class Add(_ElementwiseMerge):
    """Elementwise sum of its inputs (all of the same shape)."""
    _core_class = _core.Add


class Multiply(_ElementwiseMerge):
    """Elementwise product of its inputs (all of the same shape)."""
    _core_class = _core.Multiply


class Average(_ElementwiseMerge):
    """Elementwise mean of its inputs (all of the same shape)."""
    _core_class = _core.Average


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
    """``Multiply(**kwargs)(inputs)``: the elementwise product of same-shaped inputs."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """``Average(**kwargs)(inputs)``: the elementwise mean of same-shaped inputs."""
    return Average(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """``Concatenate(axis=axis, **kwargs)(inputs)``: the inputs joined along ``axis``."""
    return Concatenate(axis=axis, **kwargs)(inputs)
