"""ff.data.experimental: TensorFlow's make_csv_dataset.

``make_csv_dataset`` has tf.data.experimental.make_csv_dataset's signature and output: batches
of ``(OrderedDict of column -> values, label)``, column types inferred from the first rows. It
differs where TensorFlow is lax or nondeterministic:

- An inferred numeric column has no default: a missing value there is an error naming file,
  line and column (TensorFlow silently fills 0). Pass ``column_defaults`` to fill.
- Files are read one after the other (in a shuffled order per pass when ``shuffle``), and
  ``num_parallel_reads`` is the number of parser threads: the row order never depends on it
  (TensorFlow interleaves ``num_parallel_reads`` files row by row). ``sloppy`` changes nothing.
- ``compression_type`` "GZIP"/"ZLIB" is not supported yet (a clear error).
- With ``ignore_errors`` the skipped rows are counted and reported at the end of each pass
  (``ff.data.csv.SkippedRowsWarning``).
- ``nan``, ``inf`` and ``-Infinity`` in a numeric column are errors naming file, line and column
  (TensorFlow reads them as NaN/Inf): name the text with ``na_value`` to read it as missing.
- An inferred column that is mostly numbers but holds a few values that are not (``oops``,
  ``1e400``, ``0x10``, ``1_000``) is an error naming the first of them (TensorFlow silently
  makes it a string column); ``ignore_errors=True`` reads it as numbers and skips those rows, a
  string dtype in ``column_defaults`` reads it as text.
- A file with a header and no rows is an error when the column types must be inferred.
"""
import collections
import numbers

import numpy as np

from .. import _core
from .csv import _dialect, _fingerprint, _mostly_numbers_error, _resolve_files, _threads
from .dataset import AUTOTUNE, Dataset

__all__ = ["make_csv_dataset", "AUTOTUNE"]

_TYPE_NAMES = {"int32": "int32", "int64": "int64", "float32": "float32", "float64": "float64",
               "string": "string", "str": "string"}


def _dtype_name(value):
    """A dtype-like (np.float32, "float32", np.dtype, str) -> our type name, else None."""
    if isinstance(value, str):
        return _TYPE_NAMES.get(value)
    if value is str or value is bytes:
        return "string"
    try:
        dt = np.dtype(value) if isinstance(value, (type, np.dtype)) else None
    except TypeError:
        dt = None
    if dt is None:
        return None
    if dt.kind in "US":
        return "string"
    return _TYPE_NAMES.get(dt.name)


def _column_default(value, column):
    """One column_defaults item -> (type name, default or None)."""
    name = _dtype_name(value)
    if name is not None and not (isinstance(value, str) and value not in _TYPE_NAMES):
        return name, None  # a dtype: the column is required
    if isinstance(value, (list, tuple, np.ndarray)):
        items = list(np.asarray(value, dtype=object).ravel())
        if len(items) != 1:
            raise ValueError(f"column_defaults for column {column!r} must be a dtype, a scalar or "
                             f"a one-element list holding the default, received {value!r}")
        value = items[0]
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"column_defaults for column {column!r}: bool is not a CSV column type "
                        "(use 0/1 as int32)")
    if isinstance(value, np.generic):
        kind = _dtype_name(value.dtype)
        if kind is None:
            raise TypeError(f"column_defaults for column {column!r} has unsupported dtype "
                            f"{value.dtype}")
        return kind, value.item()
    if isinstance(value, numbers.Integral):
        return "int32", int(value)
    if isinstance(value, numbers.Real):
        return "float32", float(value)
    if isinstance(value, (str, bytes)):
        return "string", value.decode() if isinstance(value, bytes) else value
    raise TypeError(f"column_defaults for column {column!r} must be a dtype (int32, int64, "
                    f"float32, float64, string), a default value, or a one-element list, received "
                    f"{value!r}")


def make_csv_dataset(file_pattern, batch_size, column_names=None, column_defaults=None,
                     label_name=None, select_columns=None, field_delim=",", use_quote_delim=True,
                     na_value="", header=True, num_epochs=None, shuffle=True,
                     shuffle_buffer_size=10000, shuffle_seed=None, prefetch_buffer_size=None,
                     num_parallel_reads=None, sloppy=False, num_rows_for_inference=100,
                     compression_type=None, ignore_errors=False, encoding="utf-8"):
    """Reads CSV files into a dataset of ``(features, label)`` batches, ``features`` an
    OrderedDict of column name -> batch of values (TensorFlow's make_csv_dataset).

    num_epochs=None repeats forever (so ``fit`` needs ``steps_per_epoch``, or pass
    num_epochs=1); batches then all have batch_size rows (drop_remainder), as in TensorFlow.
    """
    if compression_type not in (None, ""):
        raise ValueError(f"compression_type={compression_type!r} is not supported yet: "
                         "decompress the files first (only uncompressed CSV is read)")
    if str(encoding).lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise ValueError(f"encoding={encoding!r} is not supported: CSV files are read as UTF-8")
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, received {batch_size!r}")
    if num_epochs is not None and (isinstance(num_epochs, bool) or
                                   not isinstance(num_epochs, numbers.Integral) or num_epochs < 1):
        raise ValueError(f"num_epochs must be a positive integer or None (forever), received "
                         f"{num_epochs!r}")
    files = _resolve_files(file_pattern, "file_pattern")
    dialect = _dialect(field_delim, use_quote_delim, na_value, header)
    threads = _threads(num_parallel_reads, 1)
    if column_names is not None:
        column_names = [str(c) for c in column_names]
        if len(set(column_names)) != len(column_names):
            raise ValueError(f"column_names must be unique, received {column_names}")
    names_from_header = column_names is None

    infer_rows = int(num_rows_for_inference) if column_defaults is None else 0
    names, inferred, seen, info = _core.data.csv_inspect(files, dialect, column_names or [],
                                                         infer_rows, bool(ignore_errors))
    if infer_rows > 0 and info["rows"] == 0:
        which = (f"CSV file {files[0]!r} has" if len(files) == 1 else
                 f"The {len(files)} CSV files ({files[0]!r}, ...) have")
        raise ValueError(f"{which} no {'well-formed ' if ignore_errors else ''}data rows, so the "
                         "column types cannot be inferred; pass column_defaults to give them")

    # Selected columns (file order).
    if select_columns is None:
        selected = list(range(len(names)))
    else:
        position = {n: i for i, n in enumerate(names)}  # linear in columns (100,000 happen)
        selected = []
        for s in select_columns:
            if isinstance(s, (int, np.integer)) and not isinstance(s, bool):
                if not 0 <= s < len(names):
                    raise ValueError(f"select_columns index {s} is out of range: the files have "
                                     f"{len(names)} columns")
                selected.append(int(s))
            elif isinstance(s, str):
                if s not in position:
                    raise ValueError(f"select_columns names {s!r}, which is not a column: the "
                                     f"columns are {', '.join(names)}")
                selected.append(position[s])
            else:
                raise TypeError("select_columns must hold column names or integer indices, "
                                f"received {s!r}")
        if len(set(selected)) != len(selected):
            raise ValueError(f"select_columns selects a column twice: {list(select_columns)}")
        selected.sort()

    # Types and defaults of the selected columns.
    if column_defaults is not None:
        column_defaults = list(column_defaults)
        if len(column_defaults) != len(selected):
            raise ValueError(f"column_defaults has {len(column_defaults)} items but "
                             f"{len(selected)} columns are selected: give one per selected column "
                             "(in file order)")
        specs = [(i,) + _column_default(v, names[i]) for i, v in zip(selected, column_defaults)]
    else:
        specs = []
        for i in selected:
            t = inferred[i]
            if t == "string" and info["numbers"][i] > info["non_numbers"][i]:
                # Mostly numbers, a few values that are not: never a silent switch to text.
                if not ignore_errors:
                    raise _mostly_numbers_error(
                        names[i], info, i, "give the column a string dtype in column_defaults "
                        "to read it as text")
                t = info["number_types"][i]  # the rows where it is not a number are skipped
            # TensorFlow's inferred default is "" for strings; numbers get none (strict).
            specs.append((i, t, "" if t == "string" else None))

    selected_names = [names[i] for i in selected]
    if label_name is not None and label_name not in selected_names:
        raise ValueError(f"`label_name` provided must be one of the columns: "
                         f"{', '.join(selected_names)}. Received: {label_name!r}")

    shuffle_files = bool(shuffle) and len(files) > 1
    file_seed = 0
    if shuffle_files:
        file_seed = _core.next_seed() if shuffle_seed is None else int(shuffle_seed)
    core = _core.data.csv_rows_dataset(files, dialect, names, names_from_header, specs, threads,
                                       bool(ignore_errors), shuffle_files, file_seed)
    features = collections.OrderedDict(
        (n, k) for k, n in enumerate(selected_names) if n != label_name)
    structure = (features, selected_names.index(label_name)) if label_name is not None else features
    ds = Dataset._from_core(core, structure, _fingerprint(files, (dialect, specs)))
    if shuffle:
        ds = ds.shuffle(shuffle_buffer_size, seed=shuffle_seed)
    if num_epochs != 1:
        ds = ds.repeat(num_epochs)
    ds = ds.batch(batch_size, drop_remainder=num_epochs is None)
    ds = ds.prefetch(AUTOTUNE if prefetch_buffer_size is None else prefetch_buffer_size)
    ds.column_names = names
    return ds
