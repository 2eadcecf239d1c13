"""``CategoryEncoding(num_tokens=None, output_mode="multi_hot", sparse=False)`` (Keras 3): integer
category indices to one-hot, multi-hot or count vectors of ``num_tokens`` entries. The work is the
C++ layer in cpp/src/layers/category_encoding.cpp; an index outside ``[0, num_tokens)`` (or not a
whole number) is an error naming the layer and the value, as Keras raises. Called on arrays
(``layer([3, 2, 0, 1])``) it computes at once, with Keras's eager shapes.
"""
import numbers

import numpy as np

from .. import _core
from .core import KerasTensor, Layer, _seed
from .lookup import _encode_eager

__all__ = ["CategoryEncoding"]


class CategoryEncoding(Layer):
    """Encodes integer features: "one_hot" (each value), "multi_hot" (which values a sample
    holds) or "count" (how often), over ``num_tokens`` categories."""

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        # Indices stay exact only in float32: the encoding never computes in a 16-bit policy.
        kwargs["dtype"] = kwargs.get("dtype") or "float32"
        super().__init__(**kwargs)
        if output_mode == "binary":  # Keras's old name
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError("num_tokens must be set to use this layer. If the number of tokens "
                             "is not known beforehand, use the IntegerLookup layer instead.")
        if isinstance(num_tokens, bool) or not isinstance(num_tokens, numbers.Integral) \
                or num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens!r}.")
        if sparse:
            raise ValueError("CategoryEncoding: sparse=True is not supported (forgeflow has no "
                             "sparse tensors); leave sparse=False")
        self.num_tokens = int(num_tokens)
        self.output_mode = output_mode
        self.sparse = False
        self._core = _core.CategoryEncoding(self.name, _seed(), self.num_tokens, self.output_mode)

    def __call__(self, inputs, training=None, count_weights=None):
        if count_weights is not None:
            raise ValueError("CategoryEncoding: count_weights is not supported yet")
        if isinstance(inputs, KerasTensor):
            if inputs.dtype == "string":
                raise TypeError(f'Layer "{self.name}" (CategoryEncoding) takes integer indices; '
                                f'input "{inputs.name}" holds strings. Put a StringLookup '
                                "before it.")
            return super().__call__(inputs, training)
        if isinstance(inputs, (list, tuple)) and inputs and all(
                isinstance(t, KerasTensor) for t in inputs):
            return super().__call__(inputs, training)
        arr = np.asarray(inputs)
        if arr.dtype.kind not in "iuf":
            raise TypeError(f'Layer "{self.name}" (CategoryEncoding) takes integer indices; '
                            f"received an array of dtype {arr.dtype}")
        return _encode_eager(arr, self.num_tokens, self.output_mode, False, self.name)

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens,
                "output_mode": self.output_mode, "sparse": self.sparse}
