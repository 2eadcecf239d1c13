"""fit / evaluate / predict over an ff.data.Dataset (Keras semantics for dataset inputs).

The batches come from the C++ pipeline through a ``_core.data.Feed`` straight into the C++
loops: the element structure ((x, y) or x; x a single value, a tuple in input order or a dict
by input name) is resolved once here into component indices, and the Feed converts each batch
at the model boundary (see cpp/src/model/dataset_feed.cpp). Python runs only for callbacks.
"""
import warnings

import numpy as np

from . import _checks, _core
from ._user_frame import user_stacklevel
from .data.dataset import INFINITE_CARDINALITY, Dataset, _pack, _to_numpy_value

__all__ = ["is_dataset", "fit_dataset", "evaluate_dataset", "predict_dataset"]


def is_dataset(x):
    return isinstance(x, Dataset)


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


def _feed(model, ds, purpose, peeked=None):
    """A Feed over a new pass of `ds`, or over the pass `peeked` (from _peek) has begun."""
    structure = ds._structure
    x_s, y_s = _split_element(structure, purpose)
    input_names = model._input_names_for_data()
    inputs = _by_names(x_s, input_names, "input")
    expected = model._core.input_shapes
    as_column = [len(e) == 2 and e[1] == 1 for e in expected]
    labels = ["x" if len(input_names) == 1 else f"x[{n!r}]" for n in input_names]
    n_out = len(model._output_names)
    targets, kinds, t_names, loss_names = [-1] * n_out, ["none"] * n_out, [""] * n_out, [""] * n_out
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
    return _core.data.Feed(source, inputs, as_column, labels, expected, targets, kinds, t_names,
                           loss_names)


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


def _peek(ds):
    """The first batch of a new pass over `ds` (packed) and the iterator holding that pass,
    for _feed to continue, so looking costs no second pass. (Until _feed takes it, the pass
    stays in the Python iterator object, whose clean-up releases the GIL for its threads.)"""
    it = _core.data.Iterator(ds._core)
    flat = it.peek()
    if flat is None:
        it.close()
        raise ValueError("The dataset is empty: it produced no batches")
    return _pack(ds._structure, [_to_numpy_value(a) for a in flat]), it


def _with_model_schema(model, ds):
    """A CSV dataset re-bound to the schema the model was trained with, if it keeps one."""
    if getattr(ds, "_csv_rebind", None) and getattr(model, "_data_schema", None):
        from .data import csv
        return csv.rebind(ds, model._data_schema)
    return ds


def _prepare_model(model, ds, purpose):
    """Builds the model from the first batch if needed and runs the first-batch checks (the
    likely-mistake warnings and strict label dtypes) once per model, as the array path does.
    Returns None, or the iterator of the pass whose first batch was looked at (for _feed)."""
    if purpose == "predict" and model.built:
        return None
    if purpose != "predict" and model._first_batch_checked and model.built:
        return None
    element, first_pass = _peek(ds)
    x, y = _split_element(element, purpose)
    if model.built:
        _check_batched(model, x)
    xs, integer = model._prepare_inputs(x)
    if purpose == "predict" or model._first_batch_checked:
        return first_pass
    model._first_batch_checked = True
    if y is None:
        return first_pass  # _feed raises the clear error
    ys = model._prepare_targets(y, len(xs[0]))
    for a, is_int, scaled in zip(xs, integer, model._inputs_scaled_in_model()):
        if not scaled:
            _checks.at_first_batch_inputs(model, a, is_int)
    for t, loss, act in zip(ys, model._losses, model._output_activations()):
        if t is not None:
            _checks.at_first_batch_targets(model, t, loss, act)
    return first_pass


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


def _refuse(batch_size, what, **others):
    if batch_size is not None:
        raise ValueError(f"Do not pass batch_size when {what} is a dataset: the dataset's own "
                         "batches are used (set it with .batch(batch_size))")
    for name, value in others.items():
        if value is not None:
            raise ValueError(f"`{name}` is not supported when {what} is a dataset: put the "
                             f"{name.replace('_', ' ')} in the dataset's elements instead")


def _count_steps(cbs, done):
    """Tells the progress bar how many batches ran, which it cannot know for a dataset of unknown
    length when no batch hook happened to fire near the end ("10/Unknown", not "0/Unknown")."""
    progbar = getattr(cbs, "progbar", None)
    if progbar is not None and hasattr(progbar, "seen"):
        progbar.seen = max(progbar.seen, done)


def _steps(ds, limit):
    n = ds.cardinality()
    known = n if n >= 0 else None
    if limit is None:
        return known
    return limit if known is None else min(limit, known)


def fit_dataset(model, x, y, batch_size, epochs, verbose, callbacks, validation_split,
                validation_data, class_weight, sample_weight, initial_epoch, steps_per_epoch,
                validation_steps, validation_batch_size, validation_freq, positive_int, verbose_of,
                callback_list):
    _refuse(batch_size, "x", y=y, class_weight=class_weight, sample_weight=sample_weight)
    if validation_split:
        raise ValueError("validation_split is only supported for NumPy arrays; with a dataset, "
                         "pass validation_data (e.g. another dataset, or split with take/skip)")
    verbose = verbose_of(verbose)
    epochs = int(epochs)
    if not 0 <= initial_epoch <= epochs:
        raise ValueError(f"initial_epoch={initial_epoch} must be between 0 and epochs={epochs}")
    steps_per_epoch = positive_int(steps_per_epoch, "steps_per_epoch")
    validation_freq = positive_int(validation_freq, "validation_freq", 1)
    if x.cardinality() == INFINITE_CARDINALITY and steps_per_epoch is None:
        raise ValueError("When passing an infinitely repeating dataset, you must specify the "
                         "`steps_per_epoch` argument.")
    peeked = _prepare_model(model, x, "fit")
    val = None
    if validation_data is not None:
        if is_dataset(validation_data):
            _refuse(validation_batch_size, "validation_data")
            val = ("dataset", validation_data)  # re-bound to the schema below
        else:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be a dataset or a tuple (x_val, y_val)")
            if len(validation_data) == 3 and validation_data[2] is not None:
                raise ValueError("validation sample weights are not supported yet")
            val_xs, _ = model._prepare_inputs(validation_data[0], "validation x")
            val_ys = model._prepare_targets(validation_data[1], len(val_xs[0]), "validation y")
            val = ("arrays", val_xs, val_ys,
                   positive_int(validation_batch_size, "validation_batch_size", 32))
    if getattr(x, "_csv_rebind", None) and getattr(x, "schema", None) is not None:
        # The model keeps the CSV schema (column order, encodings) as data, so it is saved with
        # it and predict/evaluate on a new CSV encode its columns the same way.
        model._data_schema = x.schema.to_config()

    steps = _steps(x, steps_per_epoch)
    cbs = callback_list(callbacks, add_history=True, add_progbar=verbose != 0, model=model,
                        verbose=verbose, epochs=epochs, steps=steps)
    hook, every, begin, interval = model._loop_args(cbs, "train")
    model.stop_training = False
    logs = {}
    persistent = None
    if steps_per_epoch:
        persistent, peeked = _feed(model, x, "fit", peeked), None
    cbs.on_train_begin()
    # BackupAndRestore (in on_train_begin) may ask to resume at a saved epoch and step.
    resume = model.__dict__.pop("_resume_request", None) or {}
    if resume and persistent is None:
        # The interrupted run made one pass per epoch; making (and dropping) as many here puts
        # every shuffle and map of the pipeline at the same pass number, so the resumed epochs
        # see the same order and random draws as the uninterrupted run would have.
        done_passes = resume["epoch"] - initial_epoch
        if peeked is not None and done_passes > 0:
            peeked.close()
            peeked, done_passes = None, done_passes - 1
        for _ in range(max(done_passes, 0)):
            _core.data.Iterator(x._core).close()
    initial_epoch = resume.get("epoch", initial_epoch)
    skip_steps = resume.get("step", 0)
    model._fit_position = {"shuffle_seed": None, "epoch": initial_epoch, "step_offset": 0,
                           "steps_in_epoch": steps}
    for epoch in range(initial_epoch, epochs):
        model._fit_position.update(epoch=epoch, step_offset=skip_steps)
        cbs.on_epoch_begin(epoch)
        if skip_steps:  # resuming mid-epoch: this pass without the batches already done
            if peeked is not None:
                peeked.skip(skip_steps)
                feed, peeked = _feed(model, x, "fit", peeked), None
            else:
                feed = _feed(model, x.skip(skip_steps), "fit")
            skip_steps = 0
        else:
            feed = persistent or _feed(model, x, "fit", peeked)
            peeked = None
        max_steps = steps_per_epoch if steps_per_epoch else -1
        raw, done = model._core.train_epoch_feed(feed, epoch, max_steps, hook, every, begin, interval)
        logs = dict(raw)
        _count_steps(cbs, done)
        if done == 0:
            raise ValueError("The training dataset produced no batches in epoch "
                             f"{epoch + 1}" + (": it ran out (use .repeat())" if persistent else ""))
        ran_out = steps_per_epoch and done < steps_per_epoch and not model.stop_training
        if val is not None and (epoch + 1) % validation_freq == 0:
            if val[0] == "dataset":
                val_logs = _evaluate_feed(model, _with_model_schema(model, val[1]), validation_steps,
                                          None)
            else:
                val_logs = model._evaluate_loop(val[1], val[2], val[3], None, validation_steps)
            logs.update({"val_" + k: v for k, v in val_logs.items()})
        cbs.on_epoch_end(epoch, logs)
        if ran_out:
            warnings.warn(
                "Your input ran out of data; interrupting training. Make sure that your dataset "
                "can generate at least `steps_per_epoch * epochs` batches. You may need to use "
                "the `.repeat()` function when building your dataset.", stacklevel=user_stacklevel())
            break
        if model.stop_training:
            break
    cbs.on_train_end(logs)
    return cbs.history


def _evaluate_feed(model, ds, steps, cbs, peeked=None):
    from .models import _SIGNAL_INTERVAL
    feed = _feed(model, ds, "evaluate", peeked)
    max_steps = -1 if steps is None else int(steps)
    if cbs is None:
        logs, _ = model._core.evaluate_feed(feed, max_steps, None, False, False, _SIGNAL_INTERVAL)
        return dict(logs)
    hook, every, begin, interval = model._loop_args(cbs, "test")
    logs, done = model._core.evaluate_feed(feed, max_steps, hook, every, begin, interval)
    _count_steps(cbs, done)
    return dict(logs)


def _inference_args(model, x, verbose, steps, purpose, verbose_of, positive_int):
    """evaluate/predict's shared checks: the dataset re-bound to the model's CSV schema, and the
    peeked pass (or None) from _prepare_model."""
    verbose = verbose_of(verbose)
    steps = positive_int(steps, "steps")
    if x.cardinality() == INFINITE_CARDINALITY and steps is None:
        raise ValueError("When passing an infinitely repeating dataset, you must specify the "
                         "`steps` argument.")
    x = _with_model_schema(model, x)
    return x, verbose, steps, _prepare_model(model, x, purpose)


def evaluate_dataset(model, x, y, batch_size, verbose, sample_weight, steps, callbacks,
                     return_dict, verbose_of, positive_int, callback_list):
    _refuse(batch_size, "x", y=y, sample_weight=sample_weight)
    x, verbose, steps, peeked = _inference_args(model, x, verbose, steps, "evaluate",
                                                verbose_of, positive_int)
    cbs = callback_list(callbacks, add_progbar=verbose != 0, model=model, verbose=verbose,
                        epochs=1, steps=_steps(x, steps))
    cbs.on_test_begin()
    logs = _evaluate_feed(model, x, steps, cbs, peeked)
    cbs.on_test_end(logs)
    return model._format_logs(logs, return_dict)


def predict_dataset(model, x, batch_size, verbose, steps, callbacks, verbose_of, positive_int,
                    callback_list):
    from .models import _SIGNAL_INTERVAL
    _refuse(batch_size, "x")
    x, verbose, steps, peeked = _inference_args(model, x, verbose, steps, "predict",
                                                verbose_of, positive_int)
    feed = _feed(model, x, "predict", peeked)
    max_steps = -1 if steps is None else steps
    if verbose == 0 and not callbacks:
        out, _ = model._core.predict_feed(feed, max_steps, None, False, False, _SIGNAL_INTERVAL)
    else:
        cbs = callback_list(callbacks, add_progbar=verbose != 0, model=model, verbose=verbose,
                            epochs=1, steps=_steps(x, steps))
        hook, every, begin, interval = model._loop_args(cbs, "predict")
        cbs.on_predict_begin()
        out, done = model._core.predict_feed(feed, max_steps, hook, every, begin, interval)
        _count_steps(cbs, done)
        cbs.on_predict_end()
    return model._format_predictions(out)
