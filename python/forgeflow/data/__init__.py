"""ff.data: tf.data-style input pipelines run by C++ worker threads.

``ff.data.Dataset`` (from_tensor_slices, map, shuffle, batch, prefetch, cache, repeat, take, skip,
interleave, list_files ...) feeds ``fit``, ``evaluate`` and ``predict`` wherever arrays are
accepted. ``ff.data.csv_dataset`` reads CSV files into float32 feature matrices;
``ff.data.experimental.make_csv_dataset`` is TensorFlow's dict-of-columns reader.
"""
from .dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset
from . import experimental, transforms
from .csv import csv_dataset

__all__ = ["Dataset", "AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "experimental", "transforms",
           "csv_dataset"]
