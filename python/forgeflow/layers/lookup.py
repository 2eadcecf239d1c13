"""Vocabulary lookup layers for structured data (Keras 3 names, arguments and defaults):

``StringLookup(max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
vocabulary=None, idf_weights=None, invert=False, output_mode="int", pad_to_max_tokens=False,
sparse=False, encoding="utf-8")`` and ``IntegerLookup(max_tokens=None, num_oov_indices=1,
mask_token=None, oov_token=-1, vocabulary=None, vocabulary_dtype="int64", ...)``, each with
``adapt(data)``, ``get_vocabulary()``, ``vocabulary_size()`` and ``set_vocabulary()``.

Indices follow Keras: ``[mask token (output_mode "int" only)] [num_oov_indices OOV indices]
[vocabulary]``; ``adapt`` orders the vocabulary by frequency, ties broken by the token (both
highest first), keeping at most ``max_tokens`` indices in all. The table itself is C++
(cpp/src/data/transforms/lookup.h): counting and looking up run without the GIL.

In a functional model a lookup layer is applied to an ``ff.Input(..., dtype="string")`` (or
``"int64"``) directly: the model looks the column up host-side at its boundary (arrays before
the loop; datasets as a C++ map on the pipeline's worker threads) and its C++ graph receives
the indices; ``output_mode`` "one_hot"/"multi_hot"/"count" then encodes them in the graph.
Called on arrays (``layer(np.array([["a", "b"]]))``) the layers compute at once, host-side.
Differences from Keras, each deliberate: with ``num_oov_indices > 1`` string buckets come from
FNV-1a, not TensorFlow's FarmHash (integers use floormod, as Keras); "tf_idf" and sparse
outputs are not supported (an error says so); an inverting lookup cannot sit inside a model (its
output is strings, and the model computes on numbers: apply it to predictions afterwards); a
vocabulary file (``vocabulary="vocab.txt"``) is read only when *you* pass the path (the
constructor or ``set_vocabulary``): ``get_config()`` holds the terms themselves, and
``from_config`` (what ``load_model`` calls with a model file's configs) refuses a path, so a
model file never makes forgeflow open another file (SECURITY.md).
"""
import contextlib
import numbers
import os
import threading

import numpy as np

from .. import _core
from .core import KerasTensor, Layer, _seed

__all__ = ["StringLookup", "IntegerLookup"]

_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")

# Set by the loader (forgeflow.saving) while it re-creates layers from a model file's configs:
# a vocabulary path then is refused, whichever from_config (a custom subclass's too) passed it.
_configs_from_file = threading.local()


@contextlib.contextmanager
def _refuse_vocabulary_paths():
    """Inside the block (this thread), no lookup layer reads a vocabulary file."""
    previous = getattr(_configs_from_file, "active", False)
    _configs_from_file.active = True
    try:
        yield
    finally:
        _configs_from_file.active = previous


def _path_refused(kind, name, vocabulary):
    shown = f' "{name}"' if isinstance(name, str) else ""
    received = repr(vocabulary)
    if len(received) > 200:
        received = received[:200] + "..."
    return ValueError(f"{kind}{shown}: a saved config holds its vocabulary as a list of terms, not "
                      f"a file path; received vocabulary={received} (a vocabulary file is "
                      f"read only when you pass its path yourself: {kind}(vocabulary=path) or "
                      "set_vocabulary(path))")


def _check_int(value, name, minimum, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}"
                         + (" or None" if allow_none else "") + f". Received: {name}={value!r}")
    return int(value)


class _IndexLookup(Layer):
    """Shared logic of StringLookup and IntegerLookup."""

    _is_lookup = True          # the model applies it host-side (models.py)
    _string_keys = True

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                 idf_weights, invert, output_mode, pad_to_max_tokens, sparse, **kwargs):
        # Indices stay exact only in float32: a lookup never computes in a 16-bit policy.
        kwargs["dtype"] = kwargs.get("dtype") or "float32"
        super().__init__(**kwargs)
        self.max_tokens = _check_int(max_tokens, "max_tokens", 1, allow_none=True)
        self.num_oov_indices = _check_int(num_oov_indices, "num_oov_indices", 0)
        if output_mode == "binary":  # Keras's old name
            output_mode = "multi_hot"
        if output_mode == "tf_idf":
            raise ValueError(f'{type(self).__name__}: output_mode="tf_idf" is not supported yet; '
                             'use "int", "one_hot", "multi_hot" or "count"')
        if output_mode not in _OUTPUT_MODES:
            raise ValueError(f"Invalid value for argument `output_mode`. Expected one of "
                             f"{list(_OUTPUT_MODES)}. Received: output_mode={output_mode!r}")
        if idf_weights is not None:
            raise ValueError("`idf_weights` should only be set if `output_mode` is 'tf_idf', "
                             "which is not supported yet")
        if sparse:
            raise ValueError(f"{type(self).__name__}: sparse=True is not supported (forgeflow "
                             "has no sparse tensors); leave sparse=False")
        if pad_to_max_tokens and self.max_tokens is None:
            raise ValueError("If pad_to_max_tokens is True, must set `max_tokens`. "
                             f"Received: max_tokens={max_tokens}")
        if invert and output_mode != "int":
            raise ValueError(f'`output_mode` must be "int" when `invert` is true. Received: '
                             f"output_mode={output_mode!r}")
        if self.max_tokens is not None and self.max_tokens <= self.num_oov_indices:
            raise ValueError(f"If set, `max_tokens` must be greater than `num_oov_indices`. "
                             f"Received: max_tokens={self.max_tokens}, "
                             f"num_oov_indices={self.num_oov_indices}")
        self.mask_token = self._check_token(mask_token, "mask_token")
        self.oov_token = self._check_token(oov_token, "oov_token")
        self.invert = bool(invert)
        self.output_mode = output_mode
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.sparse = False
        self._spec = self._make_spec()
        self._table = None
        self._has_input_vocabulary = vocabulary is not None
        self._core = _core.IndexLookup(self.name, _seed(), type(self).__name__, output_mode, -1)
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)

    # ------------------------------------------------------------------ vocabulary
    def _check_token(self, token, name):
        raise NotImplementedError

    def _make_spec(self):
        spec = _core.data.LookupSpec()
        spec.layer_name = self.name
        spec.string_keys = self._string_keys
        spec.num_oov_indices = self.num_oov_indices
        spec.has_mask = self.mask_token is not None
        spec.mask_in_vocabulary = self.output_mode == "int"
        if self._string_keys:
            spec.mask_string = "" if self.mask_token is None else self.mask_token
            spec.oov_string = self.oov_token
        else:
            spec.mask_int = 0 if self.mask_token is None else self.mask_token
            spec.oov_int = self.oov_token
        return spec

    def _token_start(self):
        mask = 1 if self.mask_token is not None and self.output_mode == "int" else 0
        return mask + self.num_oov_indices

    def _depth(self):
        if self.pad_to_max_tokens:
            return self.max_tokens
        return self.vocabulary_size()

    def _install(self, tokens):
        table = _core.data.LookupTable(self._spec, list(tokens))
        size = table.vocabulary_size
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError("Attempted to set a vocabulary larger than the maximum vocab size. "
                             f"Received vocabulary size is {size}; `max_tokens` is "
                             f"{self.max_tokens}.")
        self._core.depth = self.max_tokens if self.pad_to_max_tokens else size
        self._table = table

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary: a list/tuple/1-D array of terms, or a text file with one term
        per line. The terms may start with the special tokens, in Keras's order (mask, then
        num_oov_indices OOV tokens), which are then stripped; otherwise none may appear."""
        if idf_weights is not None:
            raise ValueError("`idf_weights` should only be set if output_mode is 'tf_idf', which "
                             "is not supported yet")
        if isinstance(vocabulary, (str, os.PathLike)):
            if getattr(_configs_from_file, "active", False):
                raise _path_refused(type(self).__name__, self.name, vocabulary)
            path = os.fspath(vocabulary)
            if not os.path.exists(path):
                raise ValueError(f"Vocabulary file {path} does not exist.")
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
            while lines and lines[-1] == "":
                lines.pop()
            vocabulary = lines if self._string_keys else [int(line) for line in lines]
        terms = np.asarray(vocabulary, dtype=object).ravel().tolist()
        tokens = [self._vocab_term(t) for t in terms]
        if not tokens:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={vocabulary!r}")
        oov_start = 1 if self.mask_token is not None and self.output_mode == "int" else 0
        special = [self.mask_token] * oov_start + [self.oov_token] * self.num_oov_indices
        if special and tokens[:len(special)] == special:
            tokens = tokens[len(special):]
        if self.invert and self.oov_token in tokens:
            raise ValueError(f"Found reserved OOV token {self.oov_token!r} at unexpected location "
                             "in `vocabulary`. Either remove all mask and OOV tokens, or include "
                             f"them only at the start of the vocabulary in precisely this order: "
                             f"{special}.")
        self._install(tokens)

    def _vocab_term(self, term):
        return term

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary, index order: with the special tokens (mask, OOV) first by default, so
        a term's position is its index."""
        tokens = [] if self._table is None else list(self._table.tokens)
        if not include_special_tokens:
            return tokens
        has_mask = self.mask_token is not None and self.output_mode == "int"
        mask = [self.mask_token] if has_mask else []
        return mask + [self.oov_token] * self.num_oov_indices + tokens

    def vocabulary_size(self):
        """Indices in use, the mask and OOV indices included (``CategoryEncoding``'s
        ``num_tokens`` for this layer's output)."""
        return self._token_start() + (0 if self._table is None else len(self._table.tokens))

    def adapt(self, data, batch_size=None, steps=None):
        """Builds the vocabulary from ``data``: a NumPy array (or list, pandas Series), an
        ``ff.data.Dataset`` whose elements are one array (e.g. ``ds.map(lambda x, y: x["Type"])``)
        or ``(x, y)`` pairs (x used), or any iterable of batches. Counting streams the data batch
        by batch in C++; ``steps`` limits the batches read."""
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static vocabulary "
                             "via `vocabulary` argument or `set_vocabulary()` method.")
        steps = _check_int(steps, "steps", 1, allow_none=True)
        counter = _core.data.TokenCounter(self.name, self._string_keys)
        from ..data.dataset import Dataset
        if isinstance(data, Dataset):
            structure = data._structure
            if isinstance(structure, tuple) and structure:
                structure = structure[0]
            if not isinstance(structure, int):
                raise ValueError(f"{type(self).__name__}.adapt: the dataset's elements are "
                                 f"{data._structure!r}; pass a dataset of one column, e.g. "
                                 "ds.map(lambda x, y: x['column'])")
            counter.add_dataset(data._core, structure, -1 if steps is None else steps)
        elif isinstance(data, (np.ndarray, list, tuple)) or hasattr(data, "__array__"):
            counter.add(np.asarray(data))
        elif hasattr(data, "__iter__"):
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                counter.add(np.asarray(batch[0] if isinstance(batch, tuple) else batch))
        else:
            raise TypeError(f"{type(self).__name__}.adapt: unsupported data type "
                            f"{type(data).__name__}. Pass an array, a Dataset or an iterable of "
                            "batches.")
        learned = -1 if self.max_tokens is None else self.max_tokens - self._token_start()
        self._install(counter.top(self._spec, learned))

    # ------------------------------------------------------------------ calls
    def _require_vocabulary(self):
        if self._table is None:
            raise ValueError(f'Layer "{self.name}" ({type(self).__name__}) has no vocabulary: '
                             "call adapt(data) or pass vocabulary= first")

    def __call__(self, inputs, training=None):
        if isinstance(inputs, KerasTensor):
            return self._call_symbolic(inputs)
        if isinstance(inputs, (list, tuple)) and inputs and all(
                isinstance(t, KerasTensor) for t in inputs):
            raise ValueError(f'Layer "{self.name}" ({type(self).__name__}) takes one input')
        return self._call_eager(inputs)

    def _expected_input_dtypes(self):
        raise NotImplementedError

    def _call_symbolic(self, tensor):
        kind = type(self).__name__
        if self.invert:
            raise ValueError(f'Layer "{self.name}" ({kind}, invert=True) outputs tokens, and a '
                             "model computes on numbers: apply the inverse lookup to the model's "
                             "predictions instead (layer(predictions)).")
        if tensor._history is not None:
            raise ValueError(f'Layer "{self.name}" ({kind}) must be applied to an ff.Input '
                             f'directly (the lookup runs on the raw column); "{tensor.name}" is '
                             f'the output of layer "{tensor.producer_name}"')
        if tensor.dtype not in self._expected_input_dtypes():
            raise TypeError(f'Layer "{self.name}" ({kind}) takes an input of dtype '
                            f'{" or ".join(self._expected_input_dtypes())}; input "{tensor.name}" '
                            f"has dtype {tensor.dtype}. Declare it as ff.Input(shape=..., "
                            f'name="{tensor.name}", dtype="{self._expected_input_dtypes()[0]}").')
        if self.output_mode != "int":
            self._require_vocabulary()
        out = super().__call__(tensor)
        out.dtype = "int64" if self.output_mode == "int" else "float32"
        return out

    def _lookup_array(self, arr, what):
        """Host-side lookup of a NumPy array (the model boundary uses this too)."""
        self._require_vocabulary()
        return self._table.lookup(arr, what)

    def _call_eager(self, inputs):
        self._require_vocabulary()
        arr = np.asarray(inputs)
        if self.invert:
            if arr.dtype.kind not in "iu":
                raise TypeError(f'Layer "{self.name}" (invert=True) takes integer indices; '
                                f"received dtype {arr.dtype}")
            return self._table.invert(arr, "the input")
        indices = self._lookup_array(arr, "the input")
        if self.output_mode == "int":
            return indices
        return _encode_eager(indices, self._depth(), self.output_mode, True, self.name)

    def get_config(self):
        # The terms themselves, also for a layer made from a vocabulary file: a config (and so a
        # saved model) never holds a path.
        vocabulary = None if self._table is None else self.get_vocabulary(
            include_special_tokens=False)
        return {**super().get_config(), "invert": self.invert, "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
                "mask_token": self.mask_token, "output_mode": self.output_mode,
                "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary": vocabulary, "idf_weights": None}

    @classmethod
    def from_config(cls, config):
        """A layer from ``get_config()``'s output, whose vocabulary is a list of terms (or None).
        A string there is refused, never opened: configs also come from model files."""
        vocabulary = config.get("vocabulary")
        if isinstance(vocabulary, (str, bytes, os.PathLike)):
            raise _path_refused(cls.__name__, config.get("name"), vocabulary)
        return cls(**config)


def _encode_eager(indices, depth, mode, skip_negative, name):
    """Keras's eager encoding of indices: a 1-D input is a batch of single values for one_hot
    and one sample for multi_hot/count."""
    x = np.asarray(indices)
    if x.ndim == 0:
        x = x.reshape(1)
    if x.ndim == 1:
        if mode == "one_hot":
            return _core.category_encode(x.reshape(-1, 1), depth, mode, skip_negative, name)
        return _core.category_encode(x.reshape(1, -1), depth, mode, skip_negative, name)[0]
    return _core.category_encode(x, depth, mode, skip_negative, name)


class StringLookup(_IndexLookup):
    """Maps strings to integer indices from a vocabulary (adapted or given), or encodes them
    (``output_mode``); ``invert=True`` maps indices back to strings."""

    _string_keys = True

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", **kwargs):
        if encoding not in ("utf-8", "utf8", None):
            raise ValueError(f"StringLookup: only encoding='utf-8' is supported, received "
                             f"{encoding!r}")
        self.encoding = "utf-8"
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, pad_to_max_tokens, sparse, **kwargs)

    def _check_token(self, token, name):
        if token is None and name == "mask_token":
            return None
        if isinstance(token, bytes):
            token = token.decode("utf-8")
        if not isinstance(token, str):
            raise TypeError(f"StringLookup: `{name}` must be a string, received {token!r}")
        return token

    def _vocab_term(self, term):
        if isinstance(term, bytes):
            return term.decode("utf-8")
        if not isinstance(term, str):
            raise TypeError(f'StringLookup "{self.name}": vocabulary terms must be strings; '
                            f"found {term!r}")
        return term

    def _expected_input_dtypes(self):
        return ("string",)

    def get_config(self):
        return {**super().get_config(), "encoding": self.encoding}


class IntegerLookup(_IndexLookup):
    """Maps integers to contiguous indices from a vocabulary (adapted or given), or encodes
    them (``output_mode``); ``invert=True`` maps indices back to the integers."""

    _string_keys = False

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 output_mode="int", sparse=False, vocabulary=None, vocabulary_dtype="int64",
                 idf_weights=None, invert=False, pad_to_max_tokens=False, **kwargs):
        if vocabulary_dtype not in ("int64", "int32", np.int64, np.int32):
            raise ValueError(f"IntegerLookup: vocabulary_dtype must be 'int64' or 'int32', "
                             f"received {vocabulary_dtype!r}")
        self.vocabulary_dtype = np.dtype(vocabulary_dtype).name
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, pad_to_max_tokens, sparse, **kwargs)

    def _check_token(self, token, name):
        if token is None and name == "mask_token":
            return None
        if isinstance(token, bool) or not isinstance(token, numbers.Integral):
            raise TypeError(f"IntegerLookup: `{name}` must be an integer, received {token!r}")
        return int(token)

    def _vocab_term(self, term):
        if isinstance(term, bool) or not isinstance(term, numbers.Integral):
            raise TypeError(f'IntegerLookup "{self.name}": vocabulary terms must be integers; '
                            f"found {term!r}")
        return int(term)

    def _expected_input_dtypes(self):
        return ("int64", "int32")

    def get_config(self):
        return {**super().get_config(), "vocabulary_dtype": self.vocabulary_dtype}
