"""ff.data.Dataset: tf.data's Dataset, run by the C++ pipeline in cpp/src/data.

A Dataset is an immutable description of a pipeline (a C++ node) plus the structure of its
elements: tuples and dicts nest as in tf.data, lists and arrays are values. The C++ side only
sees a flat list of components; ``_structure`` maps them back (leaves are component indices).
Iterating yields NumPy values (str arrays for strings, NumPy scalars for 0-d values).
Worker threads (parallel ``map`` of built-in transforms, ``prefetch``) never hold the GIL; a
Python function given to ``map`` runs under it, one element at a time.
"""
import glob as _glob
import hashlib
import os
import warnings

import numpy as np

from .. import _core
from .._user_frame import user_stacklevel
from .transforms import Transform

AUTOTUNE = _core.data.AUTOTUNE
INFINITE_CARDINALITY = _core.data.INFINITE_CARDINALITY
UNKNOWN_CARDINALITY = _core.data.UNKNOWN_CARDINALITY

__all__ = ["Dataset", "AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY",
           "PythonFunctionWarning"]


class PythonFunctionWarning(UserWarning):
    """A Python function in a pipeline runs under the GIL (said once per process)."""


_warned_python_function = False


def _warn_python_function(method):
    global _warned_python_function
    if _warned_python_function:
        return
    _warned_python_function = True
    warnings.warn(
        f"Dataset.{method}() was given a Python function: it runs under the GIL, one element at "
        "a time, so it does not use the pipeline's worker threads. Built-in transforms (the "
        "readers in ff.data and ff.utils.image_dataset_from_directory) run in parallel in C++.",
        PythonFunctionWarning, stacklevel=user_stacklevel())


# ---------------------------------------------------------------- structure (tf.nest, small)
def _flatten(value, leaves):
    """Appends value's leaves to `leaves`; returns its structure (leaves as indices)."""
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_flatten(v, leaves) for v in value)
    if isinstance(value, tuple):  # a namedtuple keeps its fields positionally
        return tuple(_flatten(v, leaves) for v in value)
    if isinstance(value, dict):
        return {k: _flatten(v, leaves) for k, v in value.items()}
    leaves.append(value)
    return len(leaves) - 1


def _pack(structure, flat):
    if isinstance(structure, tuple):
        return tuple(_pack(s, flat) for s in structure)
    if isinstance(structure, dict):
        return {k: _pack(s, flat) for k, s in structure.items()}
    return flat[structure]


def _leaf_indices(structure):
    if isinstance(structure, tuple):
        return [i for s in structure for i in _leaf_indices(s)]
    if isinstance(structure, dict):
        return [i for s in structure.values() for i in _leaf_indices(s)]
    return [structure]


def _to_numpy_value(a):
    return a[()] if a.ndim == 0 else a


class _StructureCell:
    """The output structure of a Python map function, known once it has run."""

    def __init__(self):
        self.value = None

    def record(self, structure):
        if self.value is None:
            self.value = structure
        elif structure != self.value:
            raise ValueError(
                "The function given to map() returned differently structured values for "
                f"different elements: first {self.value}, now {structure}. tf.data requires one "
                "structure for every element.")


class Dataset:
    """A pipeline of elements. Build one with ``Dataset.from_tensor_slices``,
    ``Dataset.list_files``, ``ff.data.csv_dataset`` or ``ff.utils.image_dataset_from_directory``,
    chain ``map/shuffle/batch/prefetch/cache/repeat/take/skip/interleave``, and pass it to
    ``fit``, ``evaluate`` or ``predict`` (elements ``(x, y)`` or ``x``)."""

    def __init__(self, core, structure, fingerprint=None):
        self._core = core
        self._structure_source = structure  # a structure, or a _StructureCell
        self._fingerprint_value = fingerprint

    @classmethod
    def _from_core(cls, core, structure, fingerprint=None):
        """Wraps a C++ pipeline node whose flat elements follow `structure`."""
        return cls(core, structure, fingerprint)

    def _derive(self, core, structure=None):
        return Dataset(core, self._structure_source if structure is None else structure,
                       self._fingerprint_value)

    @property
    def _structure(self):
        source = self._structure_source
        if not isinstance(source, _StructureCell):
            return source
        if source.value is None:
            # A Python map that has not run yet: run the pipeline for one element to learn the
            # structure of its output (what tf.data's tracing does symbolically).
            it = _core.data.Iterator(_core.data.take(self._core, 1))
            it.next()
            it.close()
            if source.value is None:
                raise ValueError("The dataset is empty, so the structure of its elements (made "
                                 "by a Python map function) is unknown")
        return source.value

    # ------------------------------------------------------------------ sources
    @staticmethod
    def from_tensor_slices(tensors, name=None):
        """Elements are the rows of the given arrays (a tuple or dict of arrays nests).
        The arrays are copied."""
        leaves = []
        structure = _flatten(tensors, leaves)
        arrays = []
        for i, leaf in enumerate(leaves):
            a = np.asarray(leaf)
            if a.ndim == 0:
                raise ValueError(
                    f"from_tensor_slices slices along the first axis, but component {i} is a "
                    f"scalar ({a!r}); pass an array with one row per element")
            arrays.append(a)
        core = _core.data.from_tensor_slices(arrays)
        return Dataset(core, structure, _fingerprint_arrays(arrays))

    @staticmethod
    def range(*args):
        """Dataset.range(stop) / (start, stop[, step]): int64 scalars, as tf.data."""
        return Dataset.from_tensor_slices(np.arange(*args, dtype=np.int64))

    @staticmethod
    def list_files(file_pattern, shuffle=None, seed=None, name=None):
        """File names matching a glob pattern (or a list of patterns), shuffled unless
        shuffle=False (tf.data's default is to shuffle)."""
        patterns = [file_pattern] if isinstance(file_pattern, (str, os.PathLike)) else list(file_pattern)
        files = sorted({f for p in patterns for f in _glob.glob(os.fspath(p))})
        if not files:
            raise ValueError(f"No files matched pattern: {', '.join(map(str, patterns))}")
        ds = Dataset.from_tensor_slices(np.array(files))
        if shuffle is None or shuffle:
            ds = ds.shuffle(len(files), seed=seed)
        return ds

    # ------------------------------------------------------------------ transformations
    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """Applies map_func to every element (a tuple element is passed as separate
        arguments, as in tf.data). Output order always equals input order. map_func is a
        built-in transform (ff.data.transforms: C++ on num_parallel_calls worker threads) or
        a Python function (runs under the GIL)."""
        if isinstance(map_func, Transform):  # built-in: C++ on the worker threads, no GIL
            return self._derive(map_func._apply(self, _parallel(num_parallel_calls)))
        if not callable(map_func):
            raise TypeError(f"map() expects a callable, received {type(map_func).__name__}")
        _warn_python_function("map")
        in_structure = self._structure
        cell = _StructureCell()

        def flat_function(flat):
            args = _pack(in_structure, [_to_numpy_value(a) for a in flat])
            out = map_func(*args) if isinstance(args, tuple) else map_func(args)
            leaves = []
            structure = _flatten(out, leaves)
            cell.record(structure)
            return [np.asarray(v) for v in leaves]

        core = _core.data.map_py(self._core, flat_function, _parallel(num_parallel_calls),
                                 getattr(map_func, "__name__", type(map_func).__name__))
        return self._derive(core, cell)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        """tf.data's buffered shuffle; seeded by `seed` or by ff.utils.set_random_seed."""
        buffer_size = _count(buffer_size, "buffer_size", minimum=1)
        seed = _core.next_seed() if seed is None else int(seed)
        return self._derive(_core.data.shuffle(self._core, buffer_size, seed,
                                               bool(reshuffle_each_iteration)))

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None,
              name=None):
        """Stacks ``batch_size`` consecutive elements into one (the last batch may be smaller
        unless ``drop_remainder=True``)."""
        batch_size = _count(batch_size, "batch_size", minimum=1)
        return self._derive(_core.data.batch(self._core, batch_size, bool(drop_remainder)))

    def repeat(self, count=None, name=None):
        """Repeats the dataset ``count`` times (None or -1: forever)."""
        count = -1 if count is None else _count(count, "count", minimum=-1)
        return self._derive(_core.data.repeat(self._core, count))

    def take(self, count, name=None):
        """The first ``count`` elements (-1: all)."""
        return self._derive(_core.data.take(self._core, _count(count, "count", minimum=-1)))

    def skip(self, count, name=None):
        """All but the first ``count`` elements (-1: none)."""
        return self._derive(_core.data.skip(self._core, _count(count, "count", minimum=-1)))

    def shard(self, num_shards, index, name=None):
        """The elements whose position ``p`` has ``p % num_shards == index``, as tf.data's
        ``shard``: ``Dataset.range(10).shard(3, 1)`` gives 1, 4, 7. Shard before shuffling and
        before expensive maps, so each worker reads only its part."""
        num_shards = _count(num_shards, "num_shards", minimum=1)
        index = _count(index, "index", minimum=0)
        if index >= num_shards:
            raise ValueError(f"index must be in [0, num_shards) = [0, {num_shards}); received "
                             f"index={index}")
        return self._derive(_core.data.shard(self._core, num_shards, index))

    def prefetch(self, buffer_size, name=None):
        """Runs the pipeline up to here on a background thread, buffer_size elements ahead
        (AUTOTUNE: max(2, CPU threads))."""
        if buffer_size != AUTOTUNE:
            buffer_size = _count(buffer_size, "buffer_size", minimum=0)
        return self._derive(_core.data.prefetch(self._core, buffer_size))

    def cache(self, filename="", name=None):
        """Records the first complete pass (in memory, or in `filename`) and replays it."""
        return self._derive(_core.data.cache(self._core, os.fspath(filename)))

    def interleave(self, map_func, cycle_length=None, block_length=None, num_parallel_calls=None,
                   deterministic=None, name=None):
        """map_func turns each element into a Dataset; cycle_length of them are read
        round-robin, block_length elements at a time."""
        if not callable(map_func):
            raise TypeError(f"interleave() expects a callable, received {type(map_func).__name__}")
        in_structure = self._structure
        cell = _StructureCell()

        def make(flat):
            args = _pack(in_structure, [_to_numpy_value(a) for a in flat])
            ds = map_func(*args) if isinstance(args, tuple) else map_func(args)
            if not isinstance(ds, Dataset):
                raise TypeError("The function given to interleave() must return an "
                                f"ff.data.Dataset, returned {type(ds).__name__}")
            cell.record(ds._structure)
            return ds._core

        if cycle_length is None or cycle_length == AUTOTUNE:
            cycle = os.cpu_count() or 1
        else:
            cycle = _count(cycle_length, "cycle_length", 1)
        block = 1 if block_length is None else _count(block_length, "block_length", 1)
        core = _core.data.interleave_py(self._core, make, cycle, block, _parallel(num_parallel_calls))
        return self._derive(core, cell)

    # ------------------------------------------------------------------ inspection
    def cardinality(self):
        """Number of elements, or INFINITE_CARDINALITY (-1) / UNKNOWN_CARDINALITY (-2)."""
        return self._core.cardinality()

    def __len__(self):
        n = self.cardinality()
        if n == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return n

    def __iter__(self):
        it = _core.data.Iterator(self._core)
        structure = None
        try:
            while True:
                flat = it.next()
                if flat is None:
                    return
                if structure is None:  # a Python map's structure is known once it has run
                    structure = self._structure
                yield _pack(structure, [_to_numpy_value(a) for a in flat])
        finally:
            it.close()

    def as_numpy_iterator(self):
        """An iterator over the elements as NumPy values."""
        return iter(self)

    def _fingerprint(self):
        """A hash of the data the pipeline starts from (for run tracking), or None."""
        return self._fingerprint_value

    def __repr__(self):
        return f"<{self._core.name} structure={self._structure_source if not isinstance(self._structure_source, _StructureCell) else '?'}>"


def _count(value, what, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, received {value!r}")
    return int(value)


def _parallel(n):
    if n is None:
        return 1
    if n == AUTOTUNE:
        return AUTOTUNE
    return _count(n, "num_parallel_calls", 1)


def _fingerprint_arrays(arrays):
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        h.update(f"{a.dtype.str}{a.shape}".encode())
        if a.dtype.kind in "UOS":
            h.update("\0".join(map(str, a.ravel().tolist())).encode())
        else:
            h.update(np.ascontiguousarray(a).data)
    return "arrays:" + h.hexdigest()
