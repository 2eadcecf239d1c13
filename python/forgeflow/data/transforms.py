"""ff.data.transforms: built-in map transforms that run in C++ on the pipeline's worker threads
(no GIL), for ``Dataset.map``:

    ds = ds.map(ff.data.transforms.Rescale(1 / 255), num_parallel_calls=ff.data.AUTOTUNE)

Each rewrites one value of the element — by default x, the first entry of an (x, y) tuple;
``index`` picks another top-level entry and ``key`` an entry of a dict — and passes the rest
through. They are strict: Cast never truncates or wraps, OneHot refuses out-of-range indices.
"""
from .. import _core

__all__ = ["Transform", "Rescale", "Cast", "OneHot"]


class Transform:
    """Base of the built-in transforms: finds the component to rewrite in the structure."""

    def __init__(self, index=0, key=None):
        self.index, self.key = index, key

    def _component(self, structure):
        node = structure
        where = "the element"
        if isinstance(node, tuple):
            if not 0 <= self.index < len(node):
                raise ValueError(f"{type(self).__name__}(index={self.index}): the element is a "
                                 f"tuple of {len(node)}")
            node, where = node[self.index], f"entry {self.index}"
        if isinstance(node, dict):
            if self.key not in node:
                raise ValueError(f"{type(self).__name__}: {where} is a dict with keys "
                                 f"{sorted(node)}; pass key= one of them")
            node = node[self.key]
        elif self.key is not None:
            raise ValueError(f"{type(self).__name__}(key={self.key!r}): {where} is not a dict")
        if not isinstance(node, int):
            raise ValueError(f"{type(self).__name__}: {where} is a nested structure; pick one "
                             "array with index= and key=")
        return node

    def _apply(self, dataset, parallel):  # pragma: no cover - overridden
        raise NotImplementedError


class Rescale(Transform):
    """x * scale + offset as float32 (Keras's Rescaling, in the pipeline)."""

    def __init__(self, scale, offset=0.0, index=0, key=None):
        super().__init__(index, key)
        self.scale, self.offset = float(scale), float(offset)

    def _apply(self, ds, parallel):
        return _core.data.map_rescale(ds._core, self._component(ds._structure), self.scale,
                                      self.offset, parallel)


class Cast(Transform):
    """Converts to `dtype` ("float32", "int64" ...); a value that would be truncated or wrap
    is an error naming it."""

    def __init__(self, dtype, index=0, key=None):
        super().__init__(index, key)
        self.dtype = str(getattr(dtype, "name", dtype))

    def _apply(self, ds, parallel):
        return _core.data.map_cast(ds._core, self._component(ds._structure), self.dtype, parallel)


class OneHot(Transform):
    """Integer class indices to float32 one-hot vectors of length `depth` (index defaults to 1,
    the y of (x, y))."""

    def __init__(self, depth, index=1, key=None):
        super().__init__(index, key)
        self.depth = int(depth)

    def _apply(self, ds, parallel):
        return _core.data.map_one_hot(ds._core, self._component(ds._structure), self.depth,
                                      parallel)
