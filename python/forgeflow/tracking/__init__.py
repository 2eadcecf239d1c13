"""Run tracking: every ``fit`` is recorded in an embedded SQLite database (a lineage record).

    ff.tracking.set_database("runs.db")   # or None to turn it off; env FORGEFLOW_TRACKING
    model.fit(x, y, epochs=5)
    run = ff.tracking.list_runs()[0]       # newest first
    ff.tracking.get_run(run["id"])["epoch_metrics"]

A run holds: id, start and end time, status (running / finished / failed with the error /
interrupted), forgeflow / Python / NumPy versions, device, model config and parameter count,
optimizer and loss config, batch size and epochs, a fingerprint of the training data, the
per-epoch metrics and the artifacts (checkpoints, saved models) logged with ``log_artifact``.
Command line: ``forgeflow runs list | show ID | compare ID ID``. See database.py for the schema.
"""
import os

from . import settings
from .database import SCHEMA_VERSION, Database, RunNotFoundError, TrackingDatabaseError
from .recorder import active_run_id, tracked_fit
from .settings import DEFAULT_DATABASE, get_database, set_database

__all__ = ["set_database", "get_database", "list_runs", "get_run", "log_artifact",
           "active_run_id", "RunNotFoundError", "TrackingDatabaseError", "SCHEMA_VERSION",
           "DEFAULT_DATABASE"]


def _open(database, create=False):
    path = database if database is not None else get_database()
    if path is None:
        raise TrackingDatabaseError(
            "Run tracking is off (FORGEFLOW_TRACKING=off or set_database(None)); pass "
            "database=PATH to read a database.")
    return Database(os.path.expanduser(os.fspath(path)), create=create)


def list_runs(limit=None, status=None, database=None):
    """Runs as plain dicts, newest first; each has the run fields plus ``epochs_completed`` and
    ``final_metrics`` (the last epoch's logs). An absent database holds no runs."""
    path = database if database is not None else get_database()
    if path is None or not os.path.exists(os.path.expanduser(os.fspath(path))):
        return []
    with _open(database) as db:
        return db.list_runs(limit=limit, status=status)


def get_run(run_id, database=None):
    """One run (by id or unique id prefix) as a plain dict, with ``epoch_metrics`` (a list of
    ``{"epoch": e, name: value, ...}``) and ``artifacts`` (``{"kind", "path", "created_at"}``).
    Raises RunNotFoundError if there is no such run."""
    path = database if database is not None else get_database()
    if path is not None and not os.path.exists(os.path.expanduser(os.fspath(path))):
        raise RunNotFoundError(f"No run with id {run_id!r}: no tracking database at {path}")
    with _open(database) as db:
        return db.get_run(run_id)


def log_artifact(path, kind="checkpoint", run_id=None, model=None):
    """Attach a file (checkpoint, saved model, ...) to a run: ``run_id`` if given, else the fit
    in progress in this thread, else ``model``'s last tracked fit. Returns the run id, or None
    when there is no run to attach to or tracking is off (then nothing is written)."""
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"log_artifact: kind must be a non-empty string, received {kind!r}")
    target = run_id or active_run_id() or getattr(model, "_tracking_run_id", None)
    database = get_database()
    if target is None or database is None:
        return None
    db = Database.shared(database)
    target = db.resolve_id(target)
    db.log_artifact(target, os.path.abspath(os.fspath(path)), kind)
    return target
