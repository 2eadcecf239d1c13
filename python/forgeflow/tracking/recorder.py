"""Records a fit in the tracking database: ``tracked_fit`` wraps ``Model.fit`` and adds a
``FitRecorder`` callback (it overrides no batch hook, so the loop stays in C++).

A distributed fit (ff.distribute) is one run, recorded by worker 0 with its number of workers
(the epoch logs are every worker's, summed by the loop).

The run row is written at ``on_train_begin`` (status "running"), the epoch logs at each
``on_epoch_end``, and the status when fit returns ("finished"), raises KeyboardInterrupt
("interrupted") or raises anything else ("failed", with the error text). A fit rejected by
argument checks before training starts is not recorded. A database problem never stops
training: it warns once (TrackingDatabaseWarning) and that fit goes unrecorded; a damaged
database (``PRAGMA quick_check``, once per process and path) is not written at all.

Run ids: ``YYYYMMDD-HHMMSS-`` (UTC) and 24 hex digits, 96 random bits, so ids drawn in the same
second do not meet (the 24 bits of older versions did, 3 runs in 38,051 from 8 writers in 30 s);
an id that is taken anyway is replaced by a fresh one. The row also stores the pid, host and
process start time (process.py), from which a reader tells a fit that died from a running one.
"""
import functools
import inspect
import numbers
import os
import platform
import secrets
import socket
import sqlite3
import sys
import threading
import time
import warnings

import numpy as np

from ..callbacks.callback import Callback
from ..distribute import _training as _distributed
from . import settings
from .database import Database, TrackingDatabaseError, TrackingDatabaseWarning
from .fingerprint import data_fingerprint
from .process import process_start

__all__ = ["tracked_fit", "FitRecorder", "active_run_id"]

_local = threading.local()


def _active_stack():
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def active_run_id():
    """The id of the run of the fit in progress in this thread (innermost), or None."""
    for recorder in reversed(_active_stack()):
        if recorder.run_id is not None:
            return recorder.run_id
    return None


def _new_run_id():
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(12)


_process_start = {}  # pid -> process_start(), computed once per process (forks get their own)


def _this_process_start():
    pid = os.getpid()
    if pid not in _process_start:
        _process_start[pid] = process_start(pid)
    return _process_start[pid]


def _safe(fn, default=None):
    try:
        return fn()
    except Exception:
        return default


def _model_config(model):
    get_config = getattr(model, "get_config", None)
    if callable(get_config):
        config = _safe(get_config)
        if config is not None:
            return config
    rows = _safe(model._summary_rows, [])
    return {"layers": [{"name": r[0], "class_name": r[1], "output_shape": r[2], "params": r[3]}
                       for r in rows]}


def _loss_config(model):
    out = []
    for loss in getattr(model, "_losses", []) or []:
        if loss is None:
            out.append(None)
            continue
        config = _safe(loss.get_config) if hasattr(loss, "get_config") else None
        if config is None:
            config = {"name": getattr(loss, "name", None),
                      "from_logits": getattr(loss, "from_logits", None)}
        out.append({"class_name": type(loss).__name__, "config": config})
    return out[0] if len(out) == 1 else out


def _versions():
    ff = sys.modules.get("forgeflow")
    return {"forgeflow_version": getattr(ff, "__version__", None),
            "python_version": platform.python_version(),
            "numpy_version": np.__version__}


class FitRecorder(Callback):
    """Writes one fit's run to the database at ``path``. Created by ``tracked_fit``."""

    def __init__(self, path, model, arguments):
        super().__init__()
        self.path = path
        self._fit_model = model
        self.arguments = arguments
        self.run_id = None
        self._db = None
        self._failed = False

    def _warn(self, error):
        if not self._failed:
            self._failed = True
            warnings.warn(f"Run tracking is off for this fit: the database {self.path} cannot be "
                          f"written ({type(error).__name__}: {error}). Training goes on. Set "
                          "FORGEFLOW_TRACKING=off or ff.tracking.set_database(...) to change it.",
                          TrackingDatabaseWarning, stacklevel=2)
        self.run_id = None
        self._close()

    def _close(self):
        if self._db is not None:
            _safe(self._db.close)
            self._db = None

    def on_train_begin(self, logs=None):
        if self.run_id is not None or self._failed:
            return
        model = self._fit_model
        strategy = _distributed.strategy_of(model)
        if strategy is not None and not strategy.is_chief:
            return  # ff.distribute: worker 0 records the one run of all the workers
        args = self.arguments
        x = args.get("x")
        batch_size = args.get("batch_size")
        if batch_size is None and isinstance(x, (np.ndarray, list, tuple, dict)):
            batch_size = 32  # fit's default for arrays
        params = self.params or {}
        optimizer = getattr(model, "optimizer", None)
        run = {
            "id": _new_run_id(),
            "started_at": time.time(),
            "status": "running",
            "model_name": getattr(model, "name", None),
            "model_class": type(model).__name__,
            "model_config": _model_config(model),
            "param_count": _safe(model.count_params),
            "optimizer_config": (_safe(optimizer.get_config) if optimizer is not None else None),
            "loss_config": _safe(lambda: _loss_config(model)),
            "metrics": _safe(lambda: list(model.metrics_names)),
            "batch_size": batch_size if isinstance(batch_size, numbers.Integral) else None,
            "epochs": _safe(lambda: int(args.get("epochs", 1))),
            "initial_epoch": _safe(lambda: int(args.get("initial_epoch", 0))),
            "steps_per_epoch": params.get("steps"),
            "data_fingerprint": data_fingerprint(x, args.get("y")),
            "device": "CPU",
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "process_start": _this_process_start(),
            "workers": 1 if strategy is None else strategy.num_replicas_in_sync,
            **_versions(),
        }
        try:
            self._db = Database.shared(self.path)
            self.run_id = self._db.insert_run(run, new_id=_new_run_id)
            try:
                model._tracking_run_id = self.run_id
            except AttributeError:
                pass
        except (TrackingDatabaseError, OSError, ValueError, sqlite3.Error) as e:
            self._warn(e)

    def on_epoch_end(self, epoch, logs=None):
        if self.run_id is None:
            return
        values = {}
        for name, value in (logs or {}).items():
            if isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(
                    value, bool):
                values[name] = float(value)
            elif isinstance(value, np.ndarray) and value.ndim == 0:
                values[name] = float(value)
        try:
            self._db.log_epoch(self.run_id, epoch, values)
        except Exception as e:  # noqa: BLE001 - never stop training for the record
            self._warn(e)

    def finish(self, status, error=None):
        if self.run_id is not None and self._db is not None:
            try:
                self._db.end_run(self.run_id, status, error)
            except Exception as e:  # noqa: BLE001
                self._warn(e)
        self._close()


def _with_recorder(callbacks, recorder):
    if callbacks is None:
        return [recorder]
    if isinstance(callbacks, (list, tuple)):
        return [*callbacks, recorder]
    inner = getattr(callbacks, "callbacks", None)  # a CallbackList: keep it flat
    if isinstance(inner, list):
        return [*inner, recorder]
    return [callbacks, recorder]


def tracked_fit(fit):
    """Decorator for ``Model.fit``: record the call in the tracking database (if enabled)."""
    signature = inspect.signature(fit)

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        path = settings.get_database()
        if path is None:
            return fit(self, *args, **kwargs)
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError:
            return fit(self, *args, **kwargs)  # let fit report the bad call itself
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        recorder = FitRecorder(path, self, arguments)
        bound.arguments["callbacks"] = _with_recorder(arguments.get("callbacks"), recorder)
        stack = _active_stack()
        stack.append(recorder)
        try:
            result = fit(*bound.args, **bound.kwargs)
        except KeyboardInterrupt:
            recorder.finish("interrupted", "KeyboardInterrupt")
            raise
        except BaseException as e:
            text = str(e)
            recorder.finish("failed", f"{type(e).__name__}: {text}" if text else type(e).__name__)
            raise
        finally:
            stack.remove(recorder)
        recorder.finish("finished")
        return result

    return wrapper
