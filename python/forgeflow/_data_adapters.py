"""Data adapters: what fit / evaluate / predict train on, behind one interface (as Keras 3's data
adapters and epoch iterator). Each gives, per epoch, a batch source for the model's one C++ loop
(``model._core.run``) and how many batches to take:

- ``ArrayAdapter``: NumPy arrays (any numeric dtype, memmaps included), viewed without copying;
  a ``_core.ArraySource`` hands the loop each batch's row indices and the C++ side gathers and
  converts just those rows.
- ``DatasetAdapter``: an ``ff.data.Dataset`` of batches; a ``_core.data.Feed`` picks the model's
  inputs and targets from each batch. The element structure ((x, y) or x; x a single value, a
  tuple in input order or a dict by input name) is resolved once into component indices.

Python runs only to set a pass up and for callbacks.
"""
import inspect
import math
import warnings

import numpy as np

from . import _checks, _core
from ._user_frame import user_stacklevel
from .data import csv as data_csv
from .data.dataset import INFINITE_CARDINALITY, Dataset, _pack, _to_numpy_value

__all__ = ["is_dataset", "refuse_unsupported_input", "ArrayAdapter", "DatasetAdapter"]


def is_dataset(x):
    return isinstance(x, Dataset)


def refuse_unsupported_input(x, what="x"):
    """Python generators and iterators are not array data: say so, instead of letting NumPy turn
    them into an array of dtype object."""
    if inspect.isgenerator(x) or (hasattr(x, "__next__") and not hasattr(x, "__len__")):
        raise TypeError(
            f"{what} is a Python generator or iterator ({type(x).__name__}); forgeflow takes NumPy "
            "arrays (or lists of them) and ff.data.Dataset pipelines. Collect the batches into "
            "arrays (np.concatenate), or build an ff.data.Dataset (from_tensor_slices, "
            "csv_dataset, image_dataset_from_directory).")


# ---------------------------------------------------------------------------------- arrays
class ArrayAdapter:
    """Batches of `batch_size` rows of prepared arrays (``model._prepare_inputs`` /
    ``_prepare_targets``): in array order, or shuffled per epoch from one seed. `steps` caps the
    batches per epoch."""

    def __init__(self, xs, ys, batch_size, shuffle=False, steps=None):
        self.xs, self.ys = list(xs), list(ys)
        self.rows = len(self.xs[0])
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.limit = steps
        total = math.ceil(self.rows / batch_size)
        self.steps = total if steps is None else min(total, steps)
        self.shuffle_seed = _core.next_seed() if shuffle else None
        self.resident = None

    def keep_on_device(self, model):
        """Uploads the arrays to the model's GPU once when they fit in
        ``ff.config.experimental.get_resident_array_fraction()`` of its free memory; the epochs'
        batches are then gathered there. Nothing on the CPU, or when they do not fit."""
        from .config import experimental
        if self.resident is None:
            self.resident = model._core.make_resident(
                self.xs, self.ys, experimental.get_resident_array_fraction())
        return self.resident

    def epoch_source(self, epoch, skip_steps=0):
        """(batch source, max_steps) for `epoch`; the first `skip_steps` batches left out (a
        resumed epoch)."""
        order = _core.shuffled_order(self.rows, self.shuffle_seed, epoch) if self.shuffle else None
        if skip_steps:
            if order is None:
                order = np.arange(self.rows, dtype=np.int64)
            order = np.ascontiguousarray(order[skip_steps * self.batch_size:])
        max_steps = self.steps - skip_steps if self.limit is not None else -1
        return _core.ArraySource(self.xs, self.ys, order, self.batch_size,
                                 self.resident), max_steps

    def first_batch(self):
        return ([a[:self.batch_size] for a in self.xs],
                [None if a is None else a[:self.batch_size] for a in self.ys])


# ---------------------------------------------------------------------------------- datasets
def _split_element(structure, purpose):
    """(x structure, y structure or None) of a dataset element, as Keras unpacks it."""
    if isinstance(structure, tuple):
        if len(structure) == 1:
            return structure[0], None
        if len(structure) == 2:
            return structure[0], structure[1]
        if len(structure) == 3:
            return structure[0], structure[1]  # the weights are refused by _check_no_weights
        raise ValueError(
            f"Dataset elements for {purpose} must be x, (x,), (x, y) or (x, y, sample_weight); "
            f"received a tuple of {len(structure)} components")
    return structure, None


def _check_no_weights(structure):
    if isinstance(structure, tuple) and len(structure) == 3:
        raise ValueError("Dataset elements (x, y, sample_weight): sample weights are not "
                         "supported yet; yield (x, y)")


def _leaf(value, what):
    if not isinstance(value, int):
        raise ValueError(f"{what} from the dataset is a nested structure ({value!r}); each model "
                         "input and output takes one array")
    return value


def _by_names(structure, names, what):
    """One component index per name from a single leaf, a tuple in order or a dict by name."""
    if isinstance(structure, dict):
        missing = [n for n in names if n not in structure]
        unknown = sorted(set(structure) - set(names))
        if missing or unknown:
            raise ValueError(f"The dataset's {what} dict has keys {sorted(structure)}; the model "
                             f"expects {names}" + (f" (missing {missing})" if missing else "")
                             + (f" (unknown {unknown})" if unknown else ""))
        return [_leaf(structure[n], f"{what} {n!r}") for n in names]
    if isinstance(structure, tuple):
        if len(structure) != len(names):
            raise ValueError(f"The dataset yields {len(structure)} {what} arrays; the model has "
                             f"{len(names)} {what}s {names}")
        return [_leaf(s, f"{what} {n!r}") for s, n in zip(structure, names)]
    if len(names) != 1:
        raise ValueError(f"The dataset yields one {what} array; the model has {len(names)} "
                         f"{what}s {names}: yield a tuple or a dict by name")
    return [_leaf(structure, what)]


def _with_lookups(model, source, inputs, labels):
    """The model's host-side lookups (a StringLookup / IntegerLookup on an input, see
    layers/lookup.py) added to the pipeline as C++ maps: string and integer columns become
    indices on the pipeline's worker threads, and the Feed hands those to the graph."""
    for lookup, component, label in zip(getattr(model, "_input_lookups", None) or [], inputs,
                                        labels):
        if lookup is not None:
            lookup._require_vocabulary()
            source = _core.data.map_lookup(source, component, lookup._table, label,
                                           _core.data.AUTOTUNE)
    return source


def _input_batch_pool(model):
    """The pinned pool a built model's Feed hands its pipeline on a GPU
    (``Model::input_batch_pool``, cpp/src/model/model.h), or None (the CPU: nothing is pinned)."""
    return model._core.input_batch_pool()


def _peek(ds, pinned=None):
    """The first batch of a new pass over `ds` (packed) and the iterator holding that pass,
    so that looking costs no second pass. (Until a Feed takes it, the pass stays in the Python
    iterator object, whose clean-up releases the GIL for its threads.) With `pinned` (the model's
    pool) the pass writes its batches into pinned memory, as one its Feed opens would."""
    it = _core.data.Iterator(ds._core, pinned)
    flat = it.peek()
    if flat is None:
        it.close()
        raise ValueError("The dataset is empty: it produced no batches")
    return _pack(ds._structure, [_to_numpy_value(a) for a in flat]), it


def _check_batched(model, x):
    """A dataset of single samples (no .batch()) gets the fix, not a shape puzzle."""
    values = x if isinstance(x, (tuple, list)) else list(x.values()) if isinstance(x, dict) else [x]
    for value, expected in zip(values, model._core.input_shapes):
        shape = np.shape(value)
        if tuple(shape) == tuple(expected[1:]) and len(expected) > 1:
            raise ValueError(
                f"The dataset yields single samples of shape {tuple(shape)}, but the model takes "
                f"batches of shape {tuple(expected)}: batch the dataset first with "
                ".batch(batch_size)")


def refuse_with_dataset(batch_size, what, **others):
    """Arguments that make no sense when `what` is a dataset (its batches are given)."""
    if batch_size is not None:
        raise ValueError(f"Do not pass batch_size when {what} is a dataset: the dataset's own "
                         "batches are used (set it with .batch(batch_size))")
    for name, value in others.items():
        if value is not None:
            raise ValueError(f"`{name}` is not supported when {what} is a dataset: put the "
                             f"{name.replace('_', ' ')} in the dataset's elements instead")


class DatasetAdapter:
    """Passes over an ff.data.Dataset. `purpose` is "fit", "evaluate" or "predict"; `steps` caps
    the batches per pass (fit's steps_per_epoch, evaluate/predict's steps). With fit's
    steps_per_epoch, one pass continues across epochs (Keras: the iterator is not reset), so
    the dataset should repeat."""

    def __init__(self, model, ds, purpose, steps=None):
        if ds.cardinality() == INFINITE_CARDINALITY and steps is None:
            name = "steps_per_epoch" if purpose == "fit" else "steps"
            raise ValueError("When passing an infinitely repeating dataset, you must specify the "
                             f"`{name}` argument.")
        if purpose == "fit":
            if getattr(ds, "_csv_rebind", None) and getattr(ds, "schema", None) is not None:
                # The model keeps the CSV schema (column order, encodings) as data, so it is saved
                # with it and predict/evaluate on a new CSV encode its columns the same way.
                model._data_schema = ds.schema.to_config()
        elif getattr(ds, "_csv_rebind", None) and getattr(model, "_data_schema", None):
            ds = data_csv.rebind(ds, model._data_schema)
        self.model, self.ds, self.purpose, self.limit = model, ds, purpose, steps
        n = ds.cardinality()
        known = n if n >= 0 else None
        self.steps = known if steps is None else (steps if known is None else min(steps, known))
        self._peeked = self._prepare_model()
        self._persistent = None

    def _prepare_model(self):
        """Builds the model from the first batch if needed and runs the first-batch checks (the
        likely-mistake warnings and strict label dtypes) once per model, as the array path does.
        Returns None, or the iterator of the pass whose first batch was looked at."""
        model, purpose = self.model, self.purpose
        if purpose == "predict" and model.built:
            return None
        if purpose != "predict" and model._first_batch_checked and model.built:
            return None
        # The pass looked at here is resumed as the first epoch's (or the evaluation's) source,
        # so it is opened as the model's Feed would open it: on a GPU with the model's pinned
        # pool, so that its batches are written into pinned memory (the loop stages only the
        # first few, which find no pool block yet).
        # A model built from this first batch cannot have it yet, and the pass cannot be opened
        # again once the model is built: a new pass has the next pass number, which moves every
        # shuffle order and random map of this fit (see start_fit), and a Python map would run
        # twice on the first batches. So that first epoch is pageable (the loop stages it);
        # every later pass is pinned.
        pinned = _input_batch_pool(model) if model.built else None
        element, first_pass = _peek(self.ds, pinned)
        x, y = _split_element(element, purpose)
        if model.built:
            _check_batched(model, x)
        xs, integer = model._prepare_inputs(x)
        if purpose == "predict" or model._first_batch_checked:
            return first_pass
        model._first_batch_checked = True
        if y is None:
            return first_pass  # the feed raises the clear error
        ys = model._prepare_targets(y, len(xs[0]))
        _checks.first_batch(model, xs, integer, ys)
        return first_pass

    def _feed(self, ds=None, peeked=None):
        """A Feed over a new pass of the dataset (or `ds`), or over the pass `peeked` began."""
        model, purpose = self.model, self.purpose
        ds = self.ds if ds is None else ds
        structure = ds._structure
        x_s, y_s = _split_element(structure, purpose)
        input_names = model._input_names_for_data()
        inputs = _by_names(x_s, input_names, "input")
        expected = model._core.input_shapes
        as_column = [len(e) == 2 and e[1] == 1 for e in expected]
        labels = ["x" if len(input_names) == 1 else f"x[{n!r}]" for n in input_names]
        n_out = len(model._output_names)
        targets, kinds = [-1] * n_out, ["none"] * n_out
        t_names, loss_names = [""] * n_out, [""] * n_out
        if purpose != "predict":
            _check_no_weights(structure)
            trained = [n for n, l in zip(model._output_names, model._losses) if l is not None]
            if y_s is None:
                raise ValueError(f"The dataset's elements have no targets; {purpose} needs (x, y) "
                                 "pairs (e.g. Dataset.from_tensor_slices((x, y)))")
            by_name = dict(zip(trained, _by_names(y_s, trained, "target")))
            for o, name in enumerate(model._output_names):
                loss = model._losses[o]
                if loss is None:
                    continue
                targets[o] = by_name[name]
                kinds[o] = "int64" if loss.sparse else "float32"
                t_names[o] = "y" if n_out == 1 else f"y[{name!r}]"
                loss_names[o] = loss._core_name
        source = ds._core if peeked is None else peeked.resume_dataset()
        source = _with_lookups(model, source, inputs, labels)
        return _core.data.Feed(source, inputs, as_column, labels, expected, targets, kinds,
                               t_names, loss_names,
                               sharded=getattr(self.ds, "_sharded_by_file", False))

    def single_pass(self):
        """(batch source, max_steps) of evaluate / predict: one pass."""
        feed, self._peeked = self._feed(peeked=self._peeked), None
        return feed, -1 if self.limit is None else int(self.limit)

    # ---- fit ----
    def start_fit(self, resume_epoch, initial_epoch):
        """Before the first epoch of fit. With steps_per_epoch the one pass starts now. When
        resuming at `resume_epoch` (BackupAndRestore), the interrupted run made one pass per
        epoch; making (and dropping) as many here puts every shuffle and map of the pipeline at
        the same pass number, so the resumed epochs see the same order and random draws."""
        if self.limit is not None:
            self._persistent, self._peeked = self._feed(peeked=self._peeked), None
            return
        if resume_epoch is None:
            return
        done_passes = resume_epoch - initial_epoch
        if self._peeked is not None and done_passes > 0:
            self._peeked.close()
            self._peeked, done_passes = None, done_passes - 1
        for _ in range(max(done_passes, 0)):
            _core.data.Iterator(self.ds._core).close()

    def epoch_source(self, epoch, skip_steps=0):
        """(batch source, max_steps) of one fit epoch, without its first `skip_steps` batches."""
        max_steps = self.limit if self.limit else -1
        if skip_steps:  # resuming mid-epoch: this pass without the batches already done
            if self._peeked is not None:
                self._peeked.skip(skip_steps)
                feed, self._peeked = self._feed(peeked=self._peeked), None
            else:
                feed = self._feed(ds=self.ds.skip(skip_steps))
            return feed, max_steps
        if self._persistent is not None:
            return self._persistent, max_steps
        feed, self._peeked = self._feed(peeked=self._peeked), None
        return feed, max_steps

    def check_epoch(self, epoch, done, stopped):
        """After a fit epoch of `done` batches: an empty epoch is an error; True when a repeating
        pass ran out before steps_per_epoch (fit then warns and stops, as Keras)."""
        if done == 0:
            raise ValueError("The training dataset produced no batches in epoch "
                             f"{epoch + 1}" + (": it ran out (use .repeat())"
                                               if self._persistent is not None else ""))
        return bool(self.limit and done < self.limit and not stopped)


def warn_ran_out():
    warnings.warn(
        "Your input ran out of data; interrupting training. Make sure that your dataset "
        "can generate at least `steps_per_epoch * epochs` batches. You may need to use "
        "the `.repeat()` function when building your dataset.", stacklevel=user_stacklevel())
