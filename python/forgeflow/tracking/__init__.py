"""Run tracking: every ``fit`` is recorded in an embedded SQLite database (a lineage record).

    ff.tracking.set_database("runs.db")   # or None to turn it off; env FORGEFLOW_TRACKING
    model.fit(x, y, epochs=5)
    run = ff.tracking.list_runs()[0]       # newest first
    ff.tracking.get_run(run["id"])["epoch_metrics"]

A run holds: id (``YYYYMMDD-HHMMSS-`` UTC start and 96 random bits), start and end time, status
(running / finished / failed with the error / interrupted, or "died" when the process on this
host that was running it is gone: killed, crashed, powered off), forgeflow / Python / NumPy
versions, device, model config and parameter count, optimizer and loss config, batch size and
epochs, a fingerprint of the training data, the per-epoch metrics and the artifacts
(checkpoints, saved models) logged with ``log_artifact``. Command line:
``forgeflow runs list | show ID | compare ID ID``. See database.py for the schema.

Reading never writes the database (a read-only file, folder or mount can be listed). A damaged
database is read around: ``list_runs`` lists the runs it can read and warns
(TrackingDatabaseWarning) how many it could not; a field that does not decode (bad JSON, say)
is None, with the reason in the run's ``unreadable`` dict; what cannot be read at all raises
TrackingDatabaseError. A fit never stops for its record: when the database cannot be written,
or is damaged (checked once per process), the fit warns and trains unrecorded.
"""
import os
import sqlite3
import warnings

from . import settings
from .database import (SCHEMA_VERSION, Database, RunNotFoundError, TrackingDatabaseError,
                       TrackingDatabaseWarning)
from .recorder import active_run_id, tracked_fit
from .settings import DEFAULT_DATABASE, get_database, set_database

_STATUSES = ("running", "finished", "failed", "interrupted", "died")

__all__ = ["set_database", "get_database", "list_runs", "get_run", "log_artifact",
           "active_run_id", "RunNotFoundError", "TrackingDatabaseError",
           "TrackingDatabaseWarning", "SCHEMA_VERSION", "DEFAULT_DATABASE"]


def _open(database, create=False):
    path = database if database is not None else get_database()
    if path is None:
        raise TrackingDatabaseError(
            "Run tracking is off (FORGEFLOW_TRACKING=off or set_database(None)); pass "
            "database=PATH to read a database.")
    return Database(os.path.expanduser(os.fspath(path)), create=create)


def list_runs(limit=None, status=None, database=None):
    """Runs as plain dicts, newest first; each has the run fields plus ``epochs_completed`` and
    ``final_metrics`` (the last epoch's logs) and ``unreadable`` (``{field: reason}`` for the
    fields a damaged record could not give; those fields are None). ``status`` is one of
    "running", "finished", "failed", "interrupted", "died". An absent database holds no runs.
    A damaged database lists the runs it can read, with a TrackingDatabaseWarning; one that
    cannot be read raises TrackingDatabaseError."""
    if status is not None and status not in _STATUSES:
        raise ValueError(f"list_runs: status must be one of {', '.join(_STATUSES)}, received "
                         f"{status!r}")
    path = database if database is not None else get_database()
    if path is None or not os.path.exists(os.path.expanduser(os.fspath(path))):
        return []
    with _open(database) as db:
        runs = db.list_runs(limit=limit, status=status)
    for problem in db.problems:
        warnings.warn(problem, TrackingDatabaseWarning, stacklevel=2)
    return runs


def get_run(run_id, database=None):
    """One run (by id or unique id prefix) as a plain dict, with ``epoch_metrics`` (a list of
    ``{"epoch": e, name: value, ...}``), ``artifacts`` (``{"kind", "path", "created_at"}``) and
    ``unreadable`` (as in ``list_runs``). Raises RunNotFoundError if there is no such run, and
    TrackingDatabaseError if the database or this run's row cannot be read."""
    path = database if database is not None else get_database()
    if path is not None and not os.path.exists(os.path.expanduser(os.fspath(path))):
        raise RunNotFoundError(f"No run with id {run_id!r}: no tracking database at {path}")
    with _open(database) as db:
        return db.get_run(run_id)


def log_artifact(path, kind="checkpoint", run_id=None, model=None):
    """Attach a file (checkpoint, saved model, ...) to a run: ``run_id`` if given, else the fit
    in progress in this thread, else ``model``'s last tracked fit. Returns the run id, or None
    when there is no run to attach to (the fit or model's run is not in the database tracking
    uses now) or tracking is off (then nothing is written). Raises RunNotFoundError for an
    unknown ``run_id`` and TrackingDatabaseError when the database cannot be written."""
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"log_artifact: kind must be a non-empty string, received {kind!r}")
    target = run_id or active_run_id() or getattr(model, "_tracking_run_id", None)
    database = get_database()
    if target is None or database is None:
        return None
    db = Database.shared(database)
    try:
        target = db.resolve_id(target)
    except RunNotFoundError:
        if run_id is not None:
            raise
        return None  # recorded in another database (set_database changed since)
    try:
        db.log_artifact(target, os.path.abspath(os.fspath(path)), kind)
    except sqlite3.Error as e:
        raise TrackingDatabaseError(
            f"Cannot write to the run-tracking database {database}: {e}") from e
    return target
