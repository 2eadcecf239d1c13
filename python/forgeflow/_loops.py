"""fit / evaluate / predict: one loop each over a data adapter (arrays or a dataset, see
_data_adapters.py), every epoch or pass one call of the model's C++ loop (``model._core.run``),
which runs without the GIL. Python runs only for the callbacks: per batch when a callback
overrides a batch hook, else for the progress bar at most every 0.05 s (and a Ctrl-C check).

Depends on callbacks, data adapters and the model's own methods only (no import of models.py).
"""
import numbers
import warnings

from . import _checks, _data_adapters as adapters
from .distribute import _training as distributed
from ._user_frame import user_stacklevel
from .callbacks import CallbackList

__all__ = ["fit", "evaluate", "predict", "train_on_batch", "test_on_batch", "SIGNAL_INTERVAL"]

PROGRESS_INTERVAL = 0.05  # seconds between progress-bar redraws (Keras's default)
SIGNAL_INTERVAL = 0.1     # seconds between Ctrl-C checks when nothing else calls back
# fit warns once per model when its training steps were captured more often than this
# (TensorFlow's retracing warning): each capture is a new signature (batch size, target shape or
# dtype) or a recapture after the model's buffers changed. A plain fit makes two (the full
# batches and the last partial one).
RECAPTURE_WARNING_AFTER = 5


# ---------------------------------------------------------------------------------- arguments
def verbose_of(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', received {verbose!r}")
    return verbose


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(value, name, default=None):
    if value is None:
        return default
    if not _is_int(value) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, received {name}={value!r}")
    return int(value)


def count_arg(value, name, minimum=0):
    """An integer count (epochs, initial_epoch): no float, string, bool or None is taken as one."""
    if not _is_int(value):
        raise TypeError(f"{name} must be an integer, received {name}={value!r} (of type "
                        f"{type(value).__name__}); nothing is rounded or parsed silently")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, received {name}={value!r}")
    return int(value)


# ---------------------------------------------------------------------------------- hooks
def _hook(model, cbs, phase, every_batch, progbar):
    begin_name = f"on_{phase}_batch_begin"
    end_name = f"on_{phase}_batch_end"

    def hook(begin, step, logs):
        if begin:
            getattr(cbs, begin_name)(step, logs)
        elif every_batch:
            getattr(cbs, end_name)(step - 1, logs)
        elif progbar:
            getattr(cbs.progbar, end_name)(step - 1, logs)
        return bool(model.stop_training) if phase == "train" else False
    return hook


def loop_args(model, cbs, phase):
    """(hook, every batch, batch-begin too, interval) for model._core.run; without callbacks a
    hook that only lets Ctrl-C through."""
    if cbs is None:
        return None, False, False, SIGNAL_INTERVAL
    needs = getattr(cbs, f"needs_{phase}_batch_hooks")
    progbar = cbs.progbar_wants_batches
    interval = PROGRESS_INTERVAL if progbar else SIGNAL_INTERVAL
    return _hook(model, cbs, phase, needs, progbar), needs, needs, interval


def _count_steps(cbs, done):
    """Tells the progress bar how many batches ran, which it cannot know for a dataset of unknown
    length when no batch hook happened to fire near the end ("10/Unknown", not "0/Unknown")."""
    progbar = getattr(cbs, "progbar", None)
    if progbar is not None and hasattr(progbar, "seen"):
        progbar.seen = max(progbar.seen, done)


def _run(model, source, mode, epoch, max_steps, cbs, phase, count_steps=True):
    """One call of the C++ loop: (logs or outputs, batches run). count_steps=False for fit's
    validation pass, whose batches are not the epoch's (the bar shows the training steps)."""
    hook, every, begin, interval = loop_args(model, cbs, phase)
    out, done = model._core.run(source, mode, epoch, max_steps, hook, every, begin, interval)
    if cbs is not None and count_steps:
        _count_steps(cbs, done)
    return out, done


def _warn_recaptures(model):
    """Warns once per model when its training steps were captured more than a few times."""
    stats = model._core.graph_stats
    captures = stats["train_captures"]
    if captures <= RECAPTURE_WARNING_AFTER or model.__dict__.get("_recapture_warned"):
        return
    model.__dict__["_recapture_warned"] = True
    signatures = [s for s in dict.fromkeys(stats["signatures"]) if s.startswith("train")][-8:]
    warnings.warn(
        f"{captures} captures of this model's training step so far (a few are expected: one "
        "per signature). Each batch size, target shape or dtype and check-numerics setting is a "
        "signature of its own, and the captures are redone when the model's buffers change (a "
        "larger batch, compile, frozen layers). Signatures captured: " +
        "; ".join(signatures) + ". Use one batch size (drop_remainder=True for a dataset) to "
        "avoid this.", UserWarning, stacklevel=user_stacklevel())


# ---------------------------------------------------------------------------------- adapters
def _array_adapter(model, x, y, batch_size, shuffle=False, steps=None, what=("x", "y"),
                   targets=True):
    """An ArrayAdapter over x (and y unless not `targets`, for predict), prepared and checked;
    `what` names x and y in messages."""
    adapters.refuse_unsupported_input(x, what[0])
    xs, integer = model._prepare_inputs(x, what[0])
    if len(xs[0]) == 0:
        raise ValueError(f"{what[0]} has no samples (its first dimension is 0): there is nothing "
                         "to train on, evaluate or predict")
    ys = model._prepare_targets(y, len(xs[0]), what[1]) if targets else []
    return adapters.ArrayAdapter(xs, ys, batch_size, shuffle, steps), integer


def _validation(model, validation_data, validation_batch_size, default_batch_size):
    """An adapter for fit's validation_data: a dataset or a tuple (x_val, y_val)."""
    if adapters.is_dataset(validation_data):
        adapters.refuse_with_dataset(validation_batch_size, "validation_data")
        return ("dataset", distributed.shard_dataset(model, validation_data))
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("validation_data must be a dataset or a tuple (x_val, y_val)")
    if len(validation_data) == 3 and validation_data[2] is not None:
        raise ValueError("validation sample weights are not supported yet")
    batch = positive_int(validation_batch_size, "validation_batch_size", default_batch_size)
    adapter, _ = _array_adapter(model, validation_data[0], validation_data[1], batch,
                                what=("validation x", "validation y"))
    return ("arrays", adapter)


def _validate(model, val, validation_steps, cbs):
    """fit's validation pass: an evaluate run that calls the callbacks' on_test_* hooks, as
    Keras's fit does (the progress bar stays silent during it)."""
    if val[0] == "dataset":
        adapter = adapters.DatasetAdapter(model, val[1], "evaluate", validation_steps)
        source, max_steps = adapter.single_pass()
    else:
        source, _ = val[1].epoch_source(0)
        max_steps = -1 if validation_steps is None else positive_int(validation_steps,
                                                                     "validation_steps")
    cbs.on_test_begin()
    logs, _ = _run(model, source, "evaluate", -1, max_steps, cbs, "test", count_steps=False)
    logs = dict(logs)
    cbs.on_test_end(logs)
    return {"val_" + k: v for k, v in logs.items()}


# ---------------------------------------------------------------------------------- fit
def fit(model, x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data,
        shuffle, class_weight, sample_weight, initial_epoch, steps_per_epoch, validation_steps,
        validation_batch_size, validation_freq):
    verbose = verbose_of(distributed.verbose(model, verbose))
    epochs = count_arg(epochs, "epochs")
    initial_epoch = count_arg(initial_epoch, "initial_epoch")
    if initial_epoch > epochs:
        raise ValueError(f"initial_epoch={initial_epoch} must be between 0 and epochs={epochs}")
    steps_per_epoch = positive_int(steps_per_epoch, "steps_per_epoch")
    validation_freq = positive_int(validation_freq, "validation_freq", 1)
    if validation_steps is not None:
        positive_int(validation_steps, "validation_steps")
    if not isinstance(validation_split, numbers.Real) or isinstance(validation_split, bool) \
            or not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be a number in [0, 1), received "
                         f"{validation_split!r}")
    if validation_data is not None and validation_split:
        raise ValueError("Pass either validation_data or validation_split, not both")

    val = None
    if adapters.is_dataset(x):
        adapters.refuse_with_dataset(batch_size, "x", y=y, class_weight=class_weight,
                                     sample_weight=sample_weight)
        if validation_split:
            raise ValueError("validation_split is only supported for NumPy arrays; with a "
                             "dataset, pass validation_data (e.g. another dataset, or split with "
                             "take/skip)")
        x = distributed.shard_dataset(model, x)  # ff.distribute: this worker's files
        train = adapters.DatasetAdapter(model, x, "fit", steps_per_epoch)
        if validation_data is not None:
            val = _validation(model, validation_data, validation_batch_size, 32)
    else:
        if class_weight is not None or sample_weight is not None:
            raise ValueError("class_weight and sample_weight are not supported yet")
        batch_size = positive_int(batch_size, "batch_size", 32)
        train, integer = _array_adapter(model, x, y, batch_size, shuffle, steps_per_epoch)
        if validation_split:
            # Keras: the last fraction of the arrays, taken before shuffling.
            n = train.rows
            split_at = int(n * (1.0 - validation_split))
            if split_at == 0 or split_at == n:
                raise ValueError(f"validation_split={validation_split} leaves no training or no "
                                 f"validation samples out of {n}")
            val_adapter = adapters.ArrayAdapter(
                [a[split_at:] for a in train.xs], [None if a is None else a[split_at:]
                                                    for a in train.ys],
                positive_int(validation_batch_size, "validation_batch_size", batch_size))
            val = ("arrays", val_adapter)
            train = adapters.ArrayAdapter([a[:split_at] for a in train.xs],
                                          [None if a is None else a[:split_at] for a in train.ys],
                                          batch_size, shuffle, steps_per_epoch)
        elif validation_data is not None:
            val = _validation(model, validation_data, validation_batch_size, batch_size)
        if not model._first_batch_checked:
            model._first_batch_checked = True
            xs0, ys0 = train.first_batch()
            _checks.first_batch(model, xs0, integer, ys0)
        # On a GPU, arrays that fit a share of its free memory are uploaded once for the whole
        # fit (ff.config.experimental.set_resident_array_fraction).
        train.keep_on_device(model)
        if val is not None and val[0] == "arrays":
            val[1].keep_on_device(model)

    cbs = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=model,
                       verbose=verbose, epochs=epochs, steps=train.steps)
    model.stop_training = False
    logs = {}
    cbs.on_train_begin()
    # BackupAndRestore (in on_train_begin) may ask to resume at a saved epoch and step.
    resume = model.__dict__.pop("_resume_request", None) or {}
    if isinstance(train, adapters.ArrayAdapter):
        if train.shuffle and resume.get("shuffle_seed") is not None:
            train.shuffle_seed = resume["shuffle_seed"]
    else:
        train.start_fit(resume.get("epoch"), initial_epoch)
    distributed.start_fit(model, train, resume)  # ff.distribute: every worker starts alike
    initial_epoch = resume.get("epoch", initial_epoch)
    skip_steps = resume.get("step", 0)
    model._fit_position = {"shuffle_seed": getattr(train, "shuffle_seed", None),
                           "epoch": initial_epoch, "step_offset": 0,
                           "steps_in_epoch": train.steps}
    for epoch in range(initial_epoch, epochs):
        model._fit_position.update(epoch=epoch, step_offset=skip_steps)
        cbs.on_epoch_begin(epoch)
        source, max_steps = train.epoch_source(epoch, skip_steps)
        skip_steps = 0
        raw, done = _run(model, source, "train", epoch, max_steps, cbs, "train")
        _warn_recaptures(model)
        logs = dict(raw)
        ran_out = False
        if isinstance(train, adapters.DatasetAdapter):
            ran_out = train.check_epoch(epoch, done, model.stop_training)
        if val is not None and (epoch + 1) % validation_freq == 0:
            logs.update(_validate(model, val, validation_steps, cbs))
        cbs.on_epoch_end(epoch, logs)
        if ran_out:
            adapters.warn_ran_out()
            break
        if model.stop_training:
            break
    cbs.on_train_end(logs)
    distributed.end_fit(model)
    return cbs.history


# ---------------------------------------------------------------------------------- evaluate
def evaluate(model, x, y, batch_size, verbose, sample_weight, steps, callbacks, return_dict):
    verbose = verbose_of(distributed.verbose(model, verbose))
    distributed.attach(model)
    steps = positive_int(steps, "steps")
    if adapters.is_dataset(x):
        adapters.refuse_with_dataset(batch_size, "x", y=y, sample_weight=sample_weight)
        adapter = adapters.DatasetAdapter(model, distributed.shard_dataset(model, x), "evaluate",
                                          steps)
        source, max_steps = adapter.single_pass()
    else:
        if sample_weight is not None:
            raise ValueError("sample_weight is not supported yet")
        adapter, _ = _array_adapter(model, x, y, positive_int(batch_size, "batch_size", 32),
                                    steps=steps)
        source, max_steps = adapter.epoch_source(0)
    cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=model, verbose=verbose,
                       epochs=1, steps=adapter.steps)
    cbs.on_test_begin()
    raw, _ = _run(model, source, "evaluate", -1, max_steps, cbs, "test")
    logs = dict(raw)
    cbs.on_test_end(logs)
    return model._format_logs(logs, return_dict)


# ---------------------------------------------------------------------------------- predict
def predict(model, x, batch_size, verbose, steps, callbacks):
    verbose = verbose_of(verbose)
    steps = positive_int(steps, "steps")
    if adapters.is_dataset(x):
        adapters.refuse_with_dataset(batch_size, "x")
        adapter = adapters.DatasetAdapter(model, x, "predict", steps)
        source, max_steps = adapter.single_pass()
    else:
        adapter, _ = _array_adapter(model, x, None, positive_int(batch_size, "batch_size", 32),
                                    steps=steps, targets=False)
        source, max_steps = adapter.epoch_source(0)
    cbs = None
    if verbose != 0 or callbacks:
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=model, verbose=verbose,
                           epochs=1, steps=adapter.steps)
        cbs.on_predict_begin()
    out, _ = _run(model, source, "predict", -1, max_steps, cbs, "predict")
    if cbs is not None:
        cbs.on_predict_end()
    return model._format_predictions(out)


# ---------------------------------------------------------------------------------- one batch
def train_on_batch(model, x, y):
    distributed.attach(model)
    adapter, _ = _array_adapter(model, x, y, 1)
    adapter.batch_size = adapter.rows  # the whole batch as one step
    source, _ = adapter.epoch_source(-1)
    logs, _ = _run(model, source, "train", -1, 1, None, "train")
    return dict(logs)


def test_on_batch(model, x, y):
    distributed.attach(model)
    adapter, _ = _array_adapter(model, x, y, 1)
    adapter.batch_size = adapter.rows
    source, _ = adapter.epoch_source(0)
    logs, _ = _run(model, source, "evaluate", -1, 1, None, "test")
    return dict(logs)
