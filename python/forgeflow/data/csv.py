"""ff.data.csv_dataset: CSV files straight into float32 feature matrices, for ``fit``.

    train = ff.data.csv_dataset("train.csv", label="price", batch_size=32)
    model.fit(train, epochs=10)
    model.predict(ff.data.csv_dataset("new.csv", schema=train.schema, shuffle=False))

The files are parsed in C++ (cpp/src/data/csv), streamed in chunks, on ``num_parallel_reads``
threads, rows always in file order before the shuffle. Numeric columns become float32
features; string (categorical) columns are encoded by a vocabulary built from the training
files, as one-hot slots (``categorical_encoding="one_hot"``, the default) or one slot holding the
index (``"int"``). What was learned (column order, types, vocabularies, label) is the dataset's
``schema`` (a ``CsvSchema``, JSON-serialisable with ``to_config``/``from_config``), which a model
keeps so that a new CSV with the same columns is encoded the same way: ``csv_dataset(path,
schema=schema)`` or ``rebind(dataset, schema)``. There, the label column may be absent; an
unknown category, a missing or an unexpected column is an error naming file, line, column and
value. Nothing is coerced silently: a non-numeric value in a numeric column (``nan`` and
``inf`` included), a missing value without a default, or text that is not UTF-8 raises
ValueError (or, with ``ignore_errors=True``, the row is skipped and a ``SkippedRowsWarning`` at
the end of the pass says how many, in which file). A column that is mostly numbers in the rows
read for inference but holds a few values that are not is an error too, never a silent switch to
a categorical column.

One-hot columns travel through the pipeline (parse blocks, shuffle buffer) as one slot holding
the vocabulary index and are widened to their one-hot slots after batching, so memory grows with
batch_size x width, not with the file.
"""
import functools
import glob as _glob
import hashlib
import numbers
import os
import warnings

from .. import _core
from .._checks import LikelyMistakeWarning
from .._user_frame import user_stacklevel
from .dataset import AUTOTUNE, Dataset

__all__ = ["csv_dataset", "CsvSchema", "rebind", "SkippedRowsWarning"]

_NUMERIC = ("int32", "int64", "float32", "float64")
_ENCODINGS = ("one_hot", "int")
# A one-hot column with more distinct values than this gets a LikelyMistakeWarning suggesting
# categorical_encoding="int" (each row then carries one slot for it instead of this many).
ONE_HOT_WARNING_CARDINALITY = 10_000


class SkippedRowsWarning(UserWarning):
    """Malformed CSV rows were skipped (ignore_errors=True); says how many, in which file."""


def _warn_skipped_rows(message):
    # Called by the C++ core (a pending call on the main thread) at the end of a pass.
    warnings.warn(message, SkippedRowsWarning, stacklevel=2)


# ------------------------------------------------------------------------------ helpers
def _resolve_files(path_or_pattern, what="path_or_pattern"):
    """A path, a glob pattern, or a list of them -> sorted unique existing files."""
    if isinstance(path_or_pattern, (str, bytes, os.PathLike)):
        patterns = [path_or_pattern]
    else:
        try:
            patterns = list(path_or_pattern)
        except TypeError:
            raise TypeError(f"{what} must be a path, a glob pattern or a list of them, received "
                            f"{type(path_or_pattern).__name__}") from None
    if not patterns:
        raise ValueError(f"{what} is an empty list: no CSV files to read")
    files = []
    for p in patterns:
        p = os.fsdecode(os.fspath(p))
        matches = sorted(_glob.glob(p)) if _glob.has_magic(p) else ([p] if os.path.exists(p) else [])
        if not matches:
            raise ValueError(f"No files match {what} {p!r}" +
                             ("" if _glob.has_magic(p) else " (no such file)"))
        for m in matches:
            if os.path.isdir(m):
                raise ValueError(f"{what} {m!r} is a directory, expected CSV files")
            if m not in files:
                files.append(m)
    return files


def _threads(n, default):
    if n is None:
        n = default
    if n == AUTOTUNE:
        return AUTOTUNE
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"num_parallel_reads must be a positive integer, AUTOTUNE or None, "
                         f"received {n!r}")
    return n


def _dialect(field_delim, use_quote_delim, na_value, header):
    if not isinstance(field_delim, str) or len(field_delim) != 1:
        raise ValueError(f"field_delim must be a single character, received {field_delim!r}")
    if not isinstance(na_value, str):
        raise TypeError(f"na_value must be a str, received {type(na_value).__name__}")
    return (field_delim, bool(use_quote_delim), na_value, bool(header))


def _fingerprint(files, extra):
    h = hashlib.blake2b(digest_size=16)
    for f in files:
        st = os.stat(f)
        h.update(f"{os.path.abspath(f)}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    h.update(repr(extra).encode())
    return "csv:" + h.hexdigest()


# ------------------------------------------------------------------------------ schema
class CsvSchema:
    """How csv_dataset turns a CSV row into (features, label): kept by the model.

    ``columns``: the used columns in file order, each a dict ``{"name", "dtype", "kind",
    "vocabulary", "default"}`` where kind is "numeric" (one float32 slot) or "categorical"
    (vocabulary-encoded: ``len(vocabulary)`` one-hot slots, or one index slot with
    ``categorical_encoding="int"``). ``label``: the label column's name or None, ``label_dtype``
    "int64" or "float32", ``label_vocabulary`` the class names of a string label (label = index).
    ``ignored``: columns of the training files that are read past (not features).
    """

    def __init__(self, columns, label=None, label_dtype=None, label_vocabulary=None,
                 categorical_encoding="one_hot", ignored=()):
        if categorical_encoding not in _ENCODINGS:
            raise ValueError(f"categorical_encoding must be one of {_ENCODINGS}, received "
                             f"{categorical_encoding!r}")
        self.columns = [dict(c) for c in columns]
        for c in self.columns:
            if c.get("kind") not in ("numeric", "categorical"):
                raise ValueError(f"CsvSchema column {c.get('name')!r}: kind must be 'numeric' or "
                                 f"'categorical', received {c.get('kind')!r}")
            if c["kind"] == "categorical" and not c.get("vocabulary"):
                raise ValueError(f"CsvSchema column {c['name']!r} is categorical but has no "
                                 "vocabulary (no value was seen in the training data)")
            c.setdefault("vocabulary", None)
            c.setdefault("default", None)
            c.setdefault("dtype", "float32" if c["kind"] == "numeric" else "string")
        self.label = label
        self.label_dtype = label_dtype
        self.label_vocabulary = list(label_vocabulary) if label_vocabulary is not None else None
        if label is not None and label_dtype not in ("int64", "float32"):
            raise ValueError(f"CsvSchema label_dtype must be 'int64' or 'float32', received "
                             f"{label_dtype!r}")
        self.categorical_encoding = categorical_encoding
        self.ignored = list(ignored)

    # -- layout
    @property
    def feature_names(self):
        """The feature columns' names, in file order."""
        return [c["name"] for c in self.columns]

    def _slots(self, c):
        if c["kind"] == "numeric" or self.categorical_encoding == "int":
            return 1
        return len(c["vocabulary"])

    @property
    def num_features(self):
        """Width F of the float32 feature vectors."""
        return sum(self._slots(c) for c in self.columns)

    @property
    def feature_slices(self):
        """{column name: (start, stop)} of its slots in the feature vector."""
        out, at = {}, 0
        for c in self.columns:
            n = self._slots(c)
            out[c["name"]] = (at, at + n)
            at += n
        return out

    @property
    def class_names(self):
        """The label's classes (a string label), else None."""
        return self.label_vocabulary

    # -- serialisation
    def to_config(self):
        """The schema as a JSON-serialisable dict (saved with a model that was fit on it)."""
        return {"columns": [dict(c) for c in self.columns], "label": self.label,
                "label_dtype": self.label_dtype, "label_vocabulary": self.label_vocabulary,
                "categorical_encoding": self.categorical_encoding, "ignored": list(self.ignored)}

    @classmethod
    def from_config(cls, config):
        """A schema from ``to_config()``'s output."""
        return cls(**config)

    def __eq__(self, other):
        return isinstance(other, CsvSchema) and self.to_config() == other.to_config()

    def __repr__(self):
        cat = sum(c["kind"] == "categorical" for c in self.columns)
        return (f"CsvSchema({len(self.columns)} feature columns ({cat} categorical, "
                f"{self.categorical_encoding}) -> {self.num_features} features, "
                f"label={self.label!r} {self.label_dtype or ''})".replace(" )", ")"))


def _sorted_vocabulary(counts):
    # Keras's adapt() order: most frequent first; ties in sorted order (deterministic).
    return [v for v, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _mostly_numbers_error(name, info, i, read_as_text):
    """The error for a column that is mostly numbers with a few values that are not."""
    numbers, others = info["numbers"][i], info["non_numbers"][i]
    return ValueError(
        f"{info['first_non_number'][i]}, but {numbers} of the {numbers + others} values of "
        f"column {name!r} in the first {info['rows']} rows are numbers: a mostly-numeric column "
        f"is not silently read as text. Fix the value{'s' if others > 1 else ''} ({others} not a "
        f"number); if it marks a missing value, pass na_value={info['first_non_number_text'][i]} "
        f"and a column_defaults value to fill it; pass ignore_errors=True to read the column as "
        f"numbers and skip the rows where it is not one; or {read_as_text}.")


def _build_schema(files, dialect, names, names_from_header, types, label, select_columns,
                  categorical, column_defaults, categorical_encoding, threads, ignore_errors,
                  chunk_size, info=None):
    position = {n: i for i, n in enumerate(names)}
    if label is not None and label not in position:
        raise ValueError(f"label {label!r} is not a column of {files[0]!r}: the columns are "
                         f"{', '.join(names)}")
    if select_columns is not None:
        select = list(select_columns)
        for s in select:
            if s not in position:
                raise ValueError(f"select_columns names {s!r}, which is not a column of "
                                 f"{files[0]!r}: the columns are {', '.join(names)}")
    else:
        select = [n for n in names if n != label]
    select = set(select)
    categorical = set(categorical or ())
    for c in categorical:
        if c not in position:
            raise ValueError(f"categorical names {c!r}, which is not a column of {files[0]!r}: the "
                             f"columns are {', '.join(names)}")
    defaults = dict(column_defaults or {})
    for c in defaults:
        if c not in position:
            raise ValueError(f"column_defaults names {c!r}, which is not a column of "
                             f"{files[0]!r}: the columns are {', '.join(names)}")
        if c == label:
            raise ValueError(f"column_defaults cannot fill the label column {label!r}: a row "
                             "without its label is malformed (ignore_errors=True skips it)")
    dtype = dict(zip(names, types))
    kinds = {}
    for i, n in enumerate(names):
        if n not in select and n != label:
            continue
        if n in categorical:
            kinds[n] = "categorical"
        elif dtype[n] != "string":
            kinds[n] = "numeric"
        elif info is not None and info["numbers"][i] > info["non_numbers"][i]:
            # Mostly numbers, a few values that are not: never a silent switch to categorical.
            if not ignore_errors:
                raise _mostly_numbers_error(n, info, i, f"pass categorical=[{n!r}] if the "
                                                        "column is categorical")
            kinds[n] = "numeric"  # the rows where it is not a number are skipped and reported
            dtype[n] = info["number_types"][i]
        else:
            kinds[n] = "categorical"
    to_count = [n for n in names if kinds.get(n) == "categorical"]
    vocab = {}
    if to_count:
        counts, _ = _core.data.csv_count_values(
            files, dialect, names, names_from_header, [position[n] for n in to_count],
            threads, ignore_errors, chunk_size)
        vocab = {n: _sorted_vocabulary(c) for n, c in zip(to_count, counts)}
    columns = []
    for n in names:
        if n == label or n not in select:
            continue
        col = {"name": n, "dtype": dtype[n], "kind": kinds[n], "vocabulary": None,
               "default": defaults.get(n)}
        if kinds[n] == "categorical":
            v = vocab[n]
            d = col["default"]
            if d is not None:
                d = str(d)
                col["default"] = d
                if d not in v:
                    v = v + [d]
            if not v:
                raise ValueError(f"column {n!r} of {files[0]!r} is categorical but has no value "
                                 "in the training data, so it has no vocabulary; leave it out "
                                 "with select_columns")
            col["vocabulary"] = v
            if categorical_encoding == "one_hot" and len(v) > ONE_HOT_WARNING_CARDINALITY:
                warnings.warn(
                    f"column {n!r} of {files[0]!r} has {len(v)} distinct values: one-hot encoding "
                    f"gives every row {len(v)} float32 slots for it (and the first layer "
                    f"{len(v)} inputs per unit). For a column of such high cardinality pass "
                    f"categorical_encoding=\"int\" (one slot holding the value's index), or "
                    f"leave it out with select_columns.", LikelyMistakeWarning,
                    stacklevel=user_stacklevel())
        elif col["default"] is not None:
            d = col["default"]
            if isinstance(d, bool) or not isinstance(d, (int, float)):
                raise TypeError(f"column_defaults[{n!r}] must be a number for the numeric column "
                                f"{n!r}, received {d!r}")
            col["default"] = float(d)
        columns.append(col)
    label_dtype = label_vocab = None
    if label is not None:
        if kinds[label] == "categorical":
            label_dtype = "int64"
            label_vocab = sorted(vocab[label])  # class names in sorted order, like image folders
        else:
            label_dtype = "int64" if dtype[label] in ("int32", "int64") else "float32"
    ignored = [n for n in names if n != label and n not in select]
    return CsvSchema(columns, label, label_dtype, label_vocab, categorical_encoding, ignored)


def _bind(schema, names, files, compact=False):
    """The C++ spec (features list, width, label) for a file with columns `names`. With
    `compact`, every column has one slot and a one-hot column's slot holds its index (widened
    after batching by csv_expand_one_hot, see _one_hot_depths)."""
    index = {n: i for i, n in enumerate(names)}
    allowed = set(schema.feature_names) | set(schema.ignored) | {schema.label}
    for n in names:
        if n not in allowed:
            raise ValueError(f"CSV file {files[0]!r} has a column {n!r} that the schema does not "
                             f"know (the training data's columns: "
                             f"{', '.join(schema.feature_names + ([schema.label] if schema.label else []) + schema.ignored)})")
    missing = [n for n in schema.feature_names if n not in index]
    if missing:
        raise ValueError(f"CSV file {files[0]!r} lacks the column{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(map(repr, missing))} of the schema (its columns: "
                         f"{', '.join(names)})")
    features, at = [], 0
    for c in schema.columns:
        kind = c["kind"] if c["kind"] == "numeric" else schema.categorical_encoding
        if compact and kind == "one_hot":
            kind = "int"
        features.append((index[c["name"]], kind, at, c["vocabulary"], c["default"]))
        at += 1 if compact else schema._slots(c)
    label = None
    if schema.label is not None and schema.label in index:
        if schema.label_vocabulary is not None:
            label = (index[schema.label], "categorical", schema.label_vocabulary)
        else:
            label = (index[schema.label], schema.label_dtype, None)
    return features, at, label


def _one_hot_depths(schema):
    """Per column of the schema: its one-hot size, or 0 for a column that keeps its one slot.
    None when nothing needs widening."""
    if schema.categorical_encoding != "one_hot":
        return None
    depths = [len(c["vocabulary"]) if c["kind"] == "categorical" else 0 for c in schema.columns]
    return depths if any(depths) else None


def _no_rows_error(files, ignore_errors):
    which = (f"CSV file {files[0]!r} has" if len(files) == 1 else
             f"The {len(files)} CSV files ({files[0]!r}, ...) have")
    return ValueError(
        f"{which} no {'well-formed ' if ignore_errors else ''}data rows"
        f"{' (every row was malformed)' if ignore_errors else ', only the header'}: csv_dataset "
        "learns the column types and vocabularies from the rows. Pass schema= (a trained "
        "model's or dataset's schema) to read a file that may be empty.")


def _prepare(path_or_pattern, label, schema, select_columns, column_names, column_defaults,
             categorical, categorical_encoding, na_value, field_delim, use_quote_delim, header,
             num_parallel_reads, num_rows_for_inference, ignore_errors, _chunk_size,
             compact=False):
    """Files, dialect, schema (learned or re-used) and the C++ reader's spec of csv_dataset."""
    files = _resolve_files(path_or_pattern)
    dialect = _dialect(field_delim, use_quote_delim, na_value, header)
    threads = _threads(num_parallel_reads, AUTOTUNE)
    if categorical_encoding not in _ENCODINGS:
        raise ValueError(f"categorical_encoding must be one of {_ENCODINGS}, received "
                         f"{categorical_encoding!r}")
    if column_names is not None:
        column_names = [str(c) for c in column_names]
    names_from_header = column_names is None
    if schema is None:
        if (isinstance(num_rows_for_inference, bool) or
                not isinstance(num_rows_for_inference, numbers.Integral) or
                num_rows_for_inference < 1):
            raise ValueError(f"num_rows_for_inference must be a positive integer, received "
                             f"{num_rows_for_inference!r}")
        names, types, _, info = _core.data.csv_inspect(files, dialect, column_names or [],
                                                       int(num_rows_for_inference),
                                                       bool(ignore_errors), _chunk_size)
        if info["rows"] == 0:
            raise _no_rows_error(files, bool(ignore_errors))
        schema = _build_schema(files, dialect, names, names_from_header, types, label,
                               select_columns, categorical, column_defaults, categorical_encoding,
                               threads, bool(ignore_errors), _chunk_size, info)
    else:
        if isinstance(schema, dict):
            schema = CsvSchema.from_config(schema)
        if not isinstance(schema, CsvSchema):
            raise TypeError(f"schema must be a CsvSchema (a dataset's .schema), received "
                            f"{type(schema).__name__}")
        if label is not None and label != schema.label:
            raise ValueError(f"label={label!r} differs from the schema's label {schema.label!r}; "
                             "a re-used schema fixes the label (leave label=None)")
        for arg, value in (("select_columns", select_columns), ("column_defaults", column_defaults),
                           ("categorical", categorical)):
            if value is not None:
                raise ValueError(f"{arg} cannot be combined with schema=...: the schema already "
                                 "fixes how every column is read")
        if column_names is None and not header:
            column_names = schema.feature_names + ([schema.label] if schema.label else [])
        names = column_names if column_names is not None else \
            _core.data.csv_inspect(files, dialect, [], 0, False, _chunk_size)[0]
    features, width, label_spec = _bind(schema, names, files,
                                        compact and _one_hot_depths(schema) is not None)
    spec = (files, dialect, names, names_from_header, features, width, label_spec, threads,
            bool(ignore_errors), _chunk_size)
    return {"files": files, "dialect": dialect, "schema": schema, "column_names": column_names,
            "label": label_spec, "spec": spec}


# ------------------------------------------------------------------------------ csv_dataset
def csv_dataset(path_or_pattern, label=None, batch_size=32, shuffle=True, seed=None, *,
                schema=None, select_columns=None, column_names=None, column_defaults=None,
                categorical=None, categorical_encoding="one_hot", na_value="", field_delim=",",
                use_quote_delim=True, header=True, num_parallel_reads=None,
                shuffle_buffer_size=10000, drop_remainder=False, num_rows_for_inference=1000,
                ignore_errors=False, _chunk_size=1 << 20):
    """A Dataset of ``(features, label)`` batches read from CSV files (``features`` only when
    label=None, or when a re-used schema's label column is absent from the files).

    Args:
      path_or_pattern: a path, a glob pattern, or a list of them (files read in sorted order;
        every file must have the same columns).
      label: name of the label column. An integer column gives int64 labels, a float column
        float32, a string column int64 class indices (``dataset.schema.class_names``).
      batch_size: rows per batch; None yields single rows.
      shuffle, seed: shuffle rows through a buffer of ``shuffle_buffer_size`` (and the file
        order, when there are several files), seeded by ``seed`` or ``ff.utils.set_random_seed``.
      schema: a ``CsvSchema`` to re-use (the training dataset's ``.schema``, kept by the model);
        nothing is learned from these files then.
      select_columns: feature columns to use (default: every column but the label); the others
        are skipped.
      column_names: names for header-less files (header=False), or to override the header.
      column_defaults: {column: value} to fill missing values (empty or ``na_value``) with;
        without one a missing value is an error.
      categorical: columns to treat as categorical even though their values look numeric.
      categorical_encoding: "one_hot" (default; one slot per vocabulary entry) or "int" (one
        slot holding the index). A one-hot column of more than ONE_HOT_WARNING_CARDINALITY
        (10,000) values gets a LikelyMistakeWarning suggesting "int".
      na_value: text that means "missing" besides the empty field (filled from
        column_defaults); ``nan`` / ``inf`` in a numeric column are errors unless named here.
      num_parallel_reads: parser threads (None: one per CPU core). The row order never
        depends on it.
      num_rows_for_inference: rows read to tell numeric from string columns. A column whose
        values there are mostly numbers but not all is an error naming the first value that is
        not a number (with ignore_errors=True: a numeric column, the rows where it is not a
        number skipped); ``categorical=[name]`` reads it as categorical.
      ignore_errors: skip malformed rows (counted, and reported by a SkippedRowsWarning at the
        end of each pass) instead of raising.
    """
    p = _prepare(path_or_pattern, label, schema, select_columns, column_names, column_defaults,
                 categorical, categorical_encoding, na_value, field_delim, use_quote_delim, header,
                 num_parallel_reads, num_rows_for_inference, ignore_errors, _chunk_size,
                 compact=True)
    files, dialect, schema, column_names, label_spec = (p["files"], p["dialect"], p["schema"],
                                                        p["column_names"], p["label"])
    core = _core.data.csv_features_dataset(*p["spec"])
    has_label = label_spec is not None
    ds = Dataset._from_core(core, (0, 1) if has_label else 0,
                            _fingerprint(files, (dialect, schema.to_config())))
    if shuffle:
        ds = ds.shuffle(shuffle_buffer_size, seed=seed)
    if batch_size is not None:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    depths = _one_hot_depths(schema)
    if depths is not None:  # compact rows so far: one-hot slots only for the batch at hand
        ds = ds._derive(_core.data.csv_expand_one_hot(ds._core, 0, depths, 1))
    ds = ds.prefetch(AUTOTUNE)
    ds.schema = schema
    ds.files = files
    ds._csv_rebind = functools.partial(
        csv_dataset, files, None, batch_size, shuffle, seed, column_names=column_names,
        na_value=na_value, field_delim=field_delim, use_quote_delim=use_quote_delim,
        header=header, num_parallel_reads=num_parallel_reads,
        shuffle_buffer_size=shuffle_buffer_size, drop_remainder=drop_remainder,
        ignore_errors=ignore_errors, _chunk_size=_chunk_size)
    # ff.distribute's sharding by file: worker `index` of `num_shards` reads files[index::n] into
    # batches of `batch` rows (its share of the global batch), with this dataset's schema.
    ds._shard_files = len(files)
    ds._shard_batch_size = batch_size
    ds._shard_by_file = lambda num_shards, index, batch: csv_dataset(
        files[index::num_shards], None, batch, shuffle, seed, schema=schema,
        column_names=column_names, na_value=na_value, field_delim=field_delim,
        use_quote_delim=use_quote_delim, header=header, num_parallel_reads=num_parallel_reads,
        shuffle_buffer_size=shuffle_buffer_size, drop_remainder=drop_remainder,
        ignore_errors=ignore_errors, _chunk_size=_chunk_size)
    return ds


def _read_arrays(path_or_pattern, label=None, **kwargs):
    """The rows csv_dataset would yield, read in one pass into whole arrays: ``((x[, y]),
    schema)``. Same parser, threads and encodings; no per-row elements (for benchmarks)."""
    args = dict(schema=None, select_columns=None, column_names=None, column_defaults=None,
                categorical=None, categorical_encoding="one_hot", na_value="", field_delim=",",
                use_quote_delim=True, header=True, num_parallel_reads=None,
                num_rows_for_inference=1000, ignore_errors=False, _chunk_size=1 << 20)
    args.update(kwargs)
    p = _prepare(path_or_pattern, label, **args)
    arrays, skipped = _core.data.csv_read_features(*p["spec"])
    for file, count, first in skipped:
        _warn_skipped_rows(f"ignore_errors=True: skipped {count} malformed row"
                           f"{'' if count == 1 else 's'} of CSV file \"{file}\". The first: {first}")
    return tuple(arrays), p["schema"]


def rebind(dataset, schema):
    """The same CSV files and options as ``dataset`` (made by csv_dataset), read with ``schema``
    (the one a model was trained with). Returns ``dataset`` itself when its schema already is
    ``schema``. Raises ValueError if the files do not fit the schema (missing or unknown column;
    an unknown category is reported, with its line, when the rows are read)."""
    if isinstance(schema, dict):  # a schema's to_config() (e.g. from a saved model)
        schema = CsvSchema.from_config(schema)
    if not isinstance(schema, CsvSchema):
        raise TypeError(f"schema must be a CsvSchema, received {type(schema).__name__}")
    remake = getattr(dataset, "_csv_rebind", None)
    if remake is None:
        raise TypeError("rebind() takes a dataset made by ff.data.csv_dataset")
    if getattr(dataset, "schema", None) == schema:
        return dataset
    return remake(schema=schema)
