"""The run-tracking store: one SQLite file (standard-library sqlite3) shared by every process.

Concurrency: WAL journal (readers never block the writer), a 30 s busy timeout, every write in
a short ``BEGIN IMMEDIATE`` transaction (so a writer waits for the lock up front instead of
failing when upgrading a read), and a retry loop with backoff for the "database is locked"
errors SQLite can still return. Two processes training at once both get complete records.

Schema (version in the ``meta`` table, key ``schema_version``; a file from a newer forgeflow is
refused rather than misread):

    meta(key TEXT PRIMARY KEY, value TEXT)
    runs(id TEXT PRIMARY KEY, started_at REAL, ended_at REAL, status TEXT,  -- running /
         error TEXT,                     -- finished / failed / interrupted; error text if failed
         model_name, model_class, model_config TEXT (JSON), param_count INTEGER,
         optimizer_config TEXT (JSON), loss_config TEXT (JSON), metrics TEXT (JSON list),
         batch_size, epochs, initial_epoch, steps_per_epoch INTEGER,
         data_fingerprint TEXT, forgeflow_version, python_version, numpy_version, device,
         hostname TEXT, pid INTEGER)
    epoch_metrics(run_id, epoch INTEGER, name TEXT, value REAL)  -- one row per logged value
    artifacts(run_id, kind TEXT, path TEXT, created_at REAL)     -- checkpoints, saved models

Times are Unix seconds (UTC). NaN is stored as NULL by SQLite; it reads back as NaN.
"""
import json
import math
import os
import random
import sqlite3
import threading
import time

__all__ = ["SCHEMA_VERSION", "Database", "TrackingDatabaseError", "RunNotFoundError"]

SCHEMA_VERSION = 1
_BUSY_TIMEOUT_S = 30.0
_RETRIES = 20

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    started_at REAL NOT NULL,
    ended_at REAL,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),
    error TEXT,
    model_name TEXT,
    model_class TEXT,
    model_config TEXT,
    param_count INTEGER,
    optimizer_config TEXT,
    loss_config TEXT,
    metrics TEXT,
    batch_size INTEGER,
    epochs INTEGER,
    initial_epoch INTEGER,
    steps_per_epoch INTEGER,
    data_fingerprint TEXT,
    forgeflow_version TEXT,
    python_version TEXT,
    numpy_version TEXT,
    device TEXT,
    hostname TEXT,
    pid INTEGER
);
CREATE INDEX IF NOT EXISTS runs_started_at ON runs (started_at);
CREATE TABLE IF NOT EXISTS epoch_metrics (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    name TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, epoch, name)
);
CREATE TABLE IF NOT EXISTS artifacts (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS artifacts_run ON artifacts (run_id);
"""

_JSON_COLUMNS = ("model_config", "optimizer_config", "loss_config", "metrics")
_RUN_COLUMNS = ("id", "started_at", "ended_at", "status", "error", "model_name", "model_class",
                "model_config", "param_count", "optimizer_config", "loss_config", "metrics",
                "batch_size", "epochs", "initial_epoch", "steps_per_epoch", "data_fingerprint",
                "forgeflow_version", "python_version", "numpy_version", "device", "hostname",
                "pid")


class TrackingDatabaseError(RuntimeError):
    """The tracking database cannot be used (unreadable, newer schema, not a database)."""


class RunNotFoundError(LookupError):
    """No run with the given id (or an ambiguous id prefix)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


def _is_busy(error):
    text = str(error).lower()
    return "locked" in text or "busy" in text


def _retry(fn):
    """Run ``fn`` again on SQLite busy/locked errors, with jittered exponential backoff."""
    delay = 0.005
    for attempt in range(_RETRIES):
        try:
            return fn()
        except sqlite3.OperationalError as e:
            if not _is_busy(e) or attempt == _RETRIES - 1:
                raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.5)


def _dumps(value):
    return None if value is None else json.dumps(value, default=str, sort_keys=False)


_SHARED_LOCK = threading.Lock()
_SHARED = {}       # (pid, path) -> Database, the few most recently used
_SHARED_MAX = 2


class Database:
    """A connection to the tracking database at ``path`` (created with its folder if needed).

    ``Database.shared(path)`` returns a connection kept open for the process (the two most
    recently used paths), so successive fits do not pay for opening and for the WAL checkpoint
    that closing the last connection does (~10 ms each on a disk with slow fsync)."""

    @classmethod
    def shared(cls, path):
        key = (os.getpid(), os.path.abspath(os.fspath(path)))
        with _SHARED_LOCK:
            db = _SHARED.pop(key, None)
            if db is None:
                db = cls(key[1])
                db._shared = True
            else:
                try:
                    db.check_schema()  # the file may have been upgraded meanwhile
                except BaseException:
                    db._really_close()
                    raise
            _SHARED[key] = db  # most recent last
            while len(_SHARED) > _SHARED_MAX:
                old_key = next(iter(_SHARED))
                old = _SHARED.pop(old_key)
                if old_key[0] == os.getpid():  # never touch a connection inherited by fork
                    old._really_close()
            return db

    def __init__(self, path, create=True):
        self._lock = threading.RLock()
        self._shared = False
        self.path = os.fspath(path)
        if not create and not os.path.exists(self.path):
            raise TrackingDatabaseError(f"No tracking database at {self.path}")
        if create:
            folder = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(folder, exist_ok=True)
        try:
            self._conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None,
                                         check_same_thread=False)
            self._conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
            _retry(lambda: self._conn.execute("PRAGMA journal_mode = WAL").fetchone())
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._init_schema()
        except sqlite3.DatabaseError as e:
            raise TrackingDatabaseError(
                f"Cannot use the run-tracking database {self.path}: {e}") from e

    # ------------------------------------------------------------------ plumbing
    def close(self):
        """Close, unless this is a shared connection (those stay open for the process)."""
        if not self._shared:
            self._conn.close()

    def _really_close(self):
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _write(self, statements):
        """Run ``[(sql, params), ...]`` in one IMMEDIATE transaction, retried when busy."""
        def attempt():
            conn = self._conn
            with self._lock:
                self._transaction(conn, statements)
        _retry(attempt)

    @staticmethod
    def _transaction(conn, statements):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for sql, params in statements:
                if isinstance(params, list):
                    conn.executemany(sql, params)
                else:
                    conn.execute(sql, params)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _read(self, sql, params=()):
        def attempt():
            with self._lock:
                return self._conn.execute(sql, params).fetchall()
        return _retry(attempt)

    def _init_schema(self):
        def attempt():
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                if row is None:
                    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                                 (str(SCHEMA_VERSION),))
                    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('created_at', ?)",
                                 (repr(time.time()),))
                conn.execute("COMMIT")
                return row
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        row = _retry(attempt)
        if row is not None:
            self._check_version(row)

    def check_schema(self):
        """Raise TrackingDatabaseError if the file now holds a newer schema."""
        row = self._read("SELECT value FROM meta WHERE key = 'schema_version'")
        if row:
            self._check_version(row[0])

    def _check_version(self, row):
        try:
            version = int(row[0])
        except ValueError:
            raise TrackingDatabaseError(f"{self.path}: unreadable schema_version {row[0]!r}")
        if version > SCHEMA_VERSION:
            raise TrackingDatabaseError(
                f"{self.path} was written by a newer forgeflow (tracking schema version "
                f"{version}; this version reads up to {SCHEMA_VERSION}). Upgrade forgeflow or "
                "use another database (ff.tracking.set_database / FORGEFLOW_TRACKING).")

    # ------------------------------------------------------------------ writes
    def insert_run(self, run):
        """Insert a run dict (keys from the runs columns; JSON columns as Python objects)."""
        row = dict(run)
        for key in _JSON_COLUMNS:
            if key in row:
                row[key] = _dumps(row[key])
        cols = [c for c in _RUN_COLUMNS if c in row]
        sql = (f"INSERT INTO runs ({', '.join(cols)}) VALUES "
               f"({', '.join('?' for _ in cols)})")
        self._write([(sql, tuple(row[c] for c in cols))])

    def end_run(self, run_id, status, error=None, ended_at=None):
        self._write([("UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE id = ?",
                      (status, error, time.time() if ended_at is None else ended_at, run_id))])

    def log_epoch(self, run_id, epoch, logs):
        rows = [(run_id, int(epoch), str(name), float(value)) for name, value in logs.items()]
        if rows:
            self._write([("INSERT OR REPLACE INTO epoch_metrics (run_id, epoch, name, value) "
                          "VALUES (?, ?, ?, ?)", rows)])

    def log_artifact(self, run_id, path, kind):
        self._write([("INSERT INTO artifacts (run_id, kind, path, created_at) VALUES (?, ?, ?, ?)",
                      (run_id, kind, path, time.time()))])

    # ------------------------------------------------------------------ reads
    def schema_version(self):
        row = self._read("SELECT value FROM meta WHERE key = 'schema_version'")
        return int(row[0][0])

    def resolve_id(self, run_id):
        """The full id for ``run_id`` or a unique prefix of one."""
        run_id = str(run_id)
        if self._read("SELECT 1 FROM runs WHERE id = ?", (run_id,)):
            return run_id
        escaped = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._read("SELECT id FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY id",
                          (escaped + "%",))
        if len(rows) == 1:
            return rows[0][0]
        if not rows:
            raise RunNotFoundError(f"No run with id {run_id!r} in {self.path}")
        raise RunNotFoundError(f"Run id {run_id!r} is ambiguous in {self.path}: it starts "
                               f"{len(rows)} runs ({', '.join(r[0] for r in rows[:5])}"
                               f"{', ...' if len(rows) > 5 else ''})")

    def _run_dict(self, row):
        run = dict(zip(_RUN_COLUMNS, row))
        for key in _JSON_COLUMNS:
            if run.get(key) is not None:
                run[key] = json.loads(run[key])
        return run

    def _metrics(self, run_id):
        by_epoch = {}
        for epoch, name, value in self._read(
                "SELECT epoch, name, value FROM epoch_metrics WHERE run_id = ? "
                "ORDER BY epoch, name", (run_id,)):
            by_epoch.setdefault(epoch, {"epoch": epoch})[name] = (
                math.nan if value is None else value)
        return [by_epoch[e] for e in sorted(by_epoch)]

    def get_run(self, run_id):
        run_id = self.resolve_id(run_id)
        row = self._read(f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs WHERE id = ?", (run_id,))
        run = self._run_dict(row[0])
        run["epoch_metrics"] = self._metrics(run_id)
        run["artifacts"] = [
            {"kind": kind, "path": path, "created_at": created}
            for kind, path, created in self._read(
                "SELECT kind, path, created_at FROM artifacts WHERE run_id = ? "
                "ORDER BY created_at, rowid", (run_id,))]
        return run

    def list_runs(self, limit=None, status=None):
        sql = f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs"
        params = []
        if status is not None:
            sql += " WHERE status = ?"
            params.append(status)
        sql += " ORDER BY started_at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        runs = []
        for row in self._read(sql, tuple(params)):
            run = self._run_dict(row)
            metrics = self._metrics(run["id"])
            run["epochs_completed"] = len(metrics)
            run["final_metrics"] = ({k: v for k, v in metrics[-1].items() if k != "epoch"}
                                    if metrics else {})
            runs.append(run)
        return runs
