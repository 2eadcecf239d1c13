"""The run-tracking store: one SQLite file (standard-library sqlite3) shared by every process.

Concurrency: WAL journal (readers never block the writer), a 30 s busy timeout, every write in
a short ``BEGIN IMMEDIATE`` transaction (so a writer waits for the lock up front instead of
failing when upgrading a read), and a retry loop with backoff for the "database is locked"
errors SQLite can still return. Two processes training at once both get complete records.

Writers (``Database(path)``, ``Database.shared(path)``) create the file and schema and switch it
to WAL; ``Database.shared`` also runs ``PRAGMA quick_check`` once per process and path and
refuses a damaged file (writing into one can spread the damage). Readers
(``Database(path, create=False)``, behind ``list_runs`` / ``get_run`` / ``forgeflow runs``) never
write: no schema, no journal-mode switch, ``query_only``; a file or folder that is not writable
is opened ``mode=ro``, and a WAL database whose -shm file cannot be created there (a read-only
folder or mount, with no -wal file left to read) ``immutable``. A damaged file loses only what
is on its damaged pages: the listing reads the rest row by row (TrackingDatabaseWarning says how
many runs were lost), a field that does not decode (bad JSON, bad UTF-8, a number that is not
one) is None with the reason in the run's ``unreadable`` dict, and whatever cannot be read at
all is a TrackingDatabaseError, never an sqlite3 error.

Schema (version in the ``meta`` table, key ``schema_version``; a file from a newer forgeflow is
refused rather than misread; columns added since version 1, which older versions ignore, are
added by the first writer that opens an older file):

    meta(key TEXT PRIMARY KEY, value TEXT)
    runs(id TEXT PRIMARY KEY, started_at REAL, ended_at REAL, status TEXT,  -- running /
         error TEXT,                     -- finished / failed / interrupted; error text if failed
         model_name, model_class, model_config TEXT (JSON), param_count INTEGER,
         optimizer_config TEXT (JSON), loss_config TEXT (JSON), metrics TEXT (JSON list),
         batch_size, epochs, initial_epoch, steps_per_epoch INTEGER,
         data_fingerprint TEXT, forgeflow_version, python_version, numpy_version, device,
         hostname TEXT, pid INTEGER,
         process_start TEXT,   -- added: "<boot id>:<pid namespace>:<start ticks>" (process.py)
         workers INTEGER)      -- added: the processes of a distributed fit (ff.distribute), 1
                               -- alone; NULL in runs recorded before it was added
    epoch_metrics(run_id, epoch INTEGER, name TEXT, value REAL)  -- one row per logged value
    artifacts(run_id, kind TEXT, path TEXT, created_at REAL)     -- checkpoints, saved models

Run ids are ``YYYYMMDD-HHMMSS-`` (UTC start second, so ids sort by time) and 24 hex digits (96
random bits); a taken id is replaced by a fresh one. Older rows have 6 hex digits; both kinds
live side by side. A stored "running" run whose process on this host is gone reads as "died"
(derived when read, never written). Times are Unix seconds (UTC). NaN is stored as NULL by
SQLite; it reads back as NaN.
"""
import json
import math
import os
import random
import socket
import sqlite3
import threading
import time
import urllib.parse

from .process import process_state

__all__ = ["SCHEMA_VERSION", "Database", "TrackingDatabaseError", "TrackingDatabaseWarning",
           "RunNotFoundError"]

SCHEMA_VERSION = 1
_BUSY_TIMEOUT_S = 30.0
_RETRIES = 20
_ID_ATTEMPTS = 8

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
    pid INTEGER,
    process_start TEXT,
    workers INTEGER
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
_TABLES = ("meta", "runs", "epoch_metrics", "artifacts")
# columns added after version 1 (older files get them from the first writer that opens them)
_ADDED_COLUMNS = (("runs", "process_start", "TEXT"), ("runs", "workers", "INTEGER"))

_JSON_COLUMNS = ("model_config", "optimizer_config", "loss_config", "metrics")
_JSON_KINDS = {"model_config": (dict,), "optimizer_config": (dict,), "loss_config": (dict, list),
               "metrics": (list,)}
_RUN_COLUMNS = ("id", "started_at", "ended_at", "status", "error", "model_name", "model_class",
                "model_config", "param_count", "optimizer_config", "loss_config", "metrics",
                "batch_size", "epochs", "initial_epoch", "steps_per_epoch", "data_fingerprint",
                "forgeflow_version", "python_version", "numpy_version", "device", "hostname",
                "pid", "process_start", "workers")
_REAL_COLUMNS = ("started_at", "ended_at")
_INTEGER_COLUMNS = ("param_count", "batch_size", "epochs", "initial_epoch", "steps_per_epoch",
                    "pid", "workers")
STATUSES = ("running", "finished", "failed", "interrupted")


class TrackingDatabaseError(RuntimeError):
    """The tracking database cannot be used: not a database, a newer schema, unreadable or
    damaged where the record asked for lies, or not writable. Its message is one line naming the
    file; it is raised instead of the sqlite3 error (which is kept as ``__cause__``)."""


class TrackingDatabaseWarning(RuntimeWarning):
    """A tracking-database problem that does not stop the work: a fit that trains unrecorded,
    or runs (or their epoch metrics) that a damaged database lost from a listing."""


class RunNotFoundError(LookupError):
    """No run with the given id (or an ambiguous id prefix)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


def _is_busy(error):
    text = str(error).lower()
    return "locked" in text or "busy" in text


def _is_corrupt(error):
    """Damage that reading around can survive (as opposed to a file that cannot be opened)."""
    return "malformed" in str(error).lower() or getattr(
        error, "sqlite_errorname", "") == "SQLITE_CORRUPT"


def _cannot_open(error):
    text = str(error).lower()
    return "unable to open" in text or "readonly" in text or "read-only" in text


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


class _BadText(str):
    """Stored text that was not valid UTF-8, decoded with replacement characters."""


def _lenient_text(data):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _BadText(data.decode("utf-8", "replace"))


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _short(value):
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _one_line(text):
    return " ".join(str(text).split())


_SHARED_LOCK = threading.Lock()
_SHARED = {}       # (pid, path) -> Database, the few most recently used
_SHARED_MAX = 2


class Database:
    """A connection to the tracking database at ``path``: a writer (``create=True``: the file,
    its folder and the schema are created if needed) or a reader (``create=False``: the file
    must exist and is never written).

    ``Database.shared(path)`` returns a writer kept open for the process (the two most
    recently used paths), so successive fits do not pay for opening, for the integrity check and
    for the WAL checkpoint that closing the last connection does (~10 ms each on a disk with slow
    fsync)."""

    @classmethod
    def shared(cls, path):
        key = (os.getpid(), os.path.abspath(os.fspath(path)))
        with _SHARED_LOCK:
            db = _SHARED.pop(key, None)
            try:
                if db is None:
                    db = cls(key[1])
                    db._shared = True
                    db.verify()
                else:
                    db.check_schema()  # the file may have been upgraded meanwhile
            except BaseException:
                if db is not None:
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
        self._conn = None
        self.path = os.fspath(path)
        self._tables = set(_TABLES)
        self._columns = _RUN_COLUMNS
        if not create:
            self._open_reader()
            return
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
            self._really_close()
            raise TrackingDatabaseError(
                f"Cannot use the run-tracking database {self.path}: {_one_line(e)}") from e

    def _open_reader(self):
        path = self.path
        if not os.path.exists(path):
            raise TrackingDatabaseError(f"No tracking database at {path}")
        if os.path.isdir(path):
            raise TrackingDatabaseError(f"{path} is a folder, not a run-tracking database file")
        folder = os.path.dirname(os.path.abspath(path))
        uri = "file:" + urllib.parse.quote(os.path.abspath(path))
        # Where we may write, a connection that could (but is never asked to: query_only)
        # deletes the -wal/-shm files a WAL database needs when it closes; a mode=ro one would
        # leave them behind. mode=ro cannot open a WAL database where no -shm file exists or can
        # be made (a read-only folder or mount); immutable can, and misses nothing when there
        # is no -wal file with frames in it (no writer can be at work there either).
        modes = ["rw"] if os.access(path, os.W_OK) and os.access(folder, os.W_OK) else []
        modes.append("ro")
        wal = path + "-wal"
        if not (os.path.exists(wal) and os.path.getsize(wal) > 0):
            modes.append("ro&immutable=1")
        error = None
        for mode in modes:
            try:
                self._conn = sqlite3.connect(f"{uri}?mode={mode}", uri=True,
                                             timeout=_BUSY_TIMEOUT_S, isolation_level=None,
                                             check_same_thread=False)
                self._conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
                self._conn.execute("PRAGMA query_only = ON")
                tables = {name for (name,) in self._query(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")}
                error = None
                break
            except sqlite3.DatabaseError as e:
                self._really_close()
                error = e
                if not _cannot_open(e):
                    break
        if error is not None:
            raise TrackingDatabaseError(
                f"Cannot read the run-tracking database {path}: {_one_line(error)}") from error
        self._tables = tables
        if not tables:
            return  # an empty file: no runs
        missing = [t for t in _TABLES if t not in tables]
        if missing:
            self._really_close()
            raise TrackingDatabaseError(
                f"{path} is not a forgeflow run-tracking database (it has no "
                f"{', '.join(missing)} table{'s' if len(missing) > 1 else ''})")
        try:
            self.check_schema()
            present = {row[1] for row in self._read("PRAGMA table_info(runs)")}
        except BaseException:
            self._really_close()
            raise
        self._columns = tuple(c for c in _RUN_COLUMNS if c in present)

    # ------------------------------------------------------------------ plumbing
    def close(self):
        """Close, unless this is a shared connection (those stay open for the process)."""
        if not self._shared:
            self._really_close()

    def _really_close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

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

    def _query(self, sql, params=()):
        """Rows of ``sql``; sqlite3 errors other than busy propagate. Text that is not UTF-8
        comes back as a ``_BadText`` (the first decoding failure switches to the slower,
        lenient decoder for this connection)."""
        def attempt():
            with self._lock:
                try:
                    return self._conn.execute(sql, params).fetchall()
                except sqlite3.OperationalError as e:
                    if "decode" not in str(e) or self._conn.text_factory is _lenient_text:
                        raise
                    self._conn.text_factory = _lenient_text
                    return self._conn.execute(sql, params).fetchall()
        return _retry(attempt)

    def _error(self, error):
        return TrackingDatabaseError(
            f"Cannot read the run-tracking database {self.path}: {_one_line(error)}")

    def _read(self, sql, params=()):
        try:
            return self._query(sql, params)
        except sqlite3.DatabaseError as e:
            raise self._error(e) from e

    def _init_schema(self):
        def attempt():
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                for table, column, kind in _ADDED_COLUMNS:
                    present = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
                    if column not in present:
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
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
        except (TypeError, ValueError):
            raise TrackingDatabaseError(f"{self.path}: unreadable schema_version {row[0]!r}")
        if version > SCHEMA_VERSION:
            raise TrackingDatabaseError(
                f"{self.path} was written by a newer forgeflow (tracking schema version "
                f"{version}; this version reads up to {SCHEMA_VERSION}). Upgrade forgeflow or "
                "use another database (ff.tracking.set_database / FORGEFLOW_TRACKING).")

    def verify(self):
        """Raise TrackingDatabaseError if ``PRAGMA quick_check`` finds the file damaged."""
        try:
            rows = self._query("PRAGMA quick_check")
        except sqlite3.DatabaseError as e:
            rows = [(str(e),)]
        if rows == [("ok",)]:
            return
        problems = [line for (text,) in rows for line in str(text).splitlines()
                    if line and not line.startswith("***")]
        raise TrackingDatabaseError(
            f"{self.path} is damaged ({problems[0] if problems else 'quick_check failed'}); "
            "forgeflow does not write into a damaged database. `forgeflow runs list` lists what "
            f"can still be read; `sqlite3 {self.path} .recover | sqlite3 NEW.db` rescues the "
            "rest into a new file, or move the file away to start afresh.")

    # ------------------------------------------------------------------ writes
    def insert_run(self, run, new_id=None):
        """Insert a run dict (keys from the runs columns; JSON columns as Python objects) and
        return its id. If the id is taken and ``new_id`` is given, ``new_id()`` supplies
        another (a few times)."""
        row = dict(run)
        for key in _JSON_COLUMNS:
            if key in row:
                row[key] = _dumps(row[key])
        cols = [c for c in _RUN_COLUMNS if c in row]
        sql = (f"INSERT INTO runs ({', '.join(cols)}) VALUES "
               f"({', '.join('?' for _ in cols)})")
        for attempt in range(_ID_ATTEMPTS):
            try:
                self._write([(sql, tuple(row[c] for c in cols))])
                return row["id"]
            except sqlite3.IntegrityError as e:
                if new_id is None or "runs.id" not in str(e) or attempt == _ID_ATTEMPTS - 1:
                    raise
                row["id"] = new_id()

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

    def _select(self, where=""):
        return f"SELECT {', '.join(self._columns)} FROM runs{where}"

    def _salvage(self):
        """The rows of ``runs`` that can still be read, and how many indexed rows cannot: rowids
        come from every way through the file (each index, the table forwards and backwards),
        then each row is read alone, so a damaged page costs only its own rows. (A table scan
        that needs only rowids reads a damaged page's garbage without noticing, so only the
        rowids an index knows count as lost when they lead nowhere.)"""
        indexed, scanned = set(), set()
        for found, sql in (
                (indexed, "SELECT rowid FROM runs INDEXED BY runs_started_at ORDER BY started_at"),
                (indexed, "SELECT rowid FROM runs INDEXED BY sqlite_autoindex_runs_1 ORDER BY id"),
                (scanned, "SELECT rowid FROM runs NOT INDEXED ORDER BY rowid"),
                (scanned, "SELECT rowid FROM runs NOT INDEXED ORDER BY rowid DESC")):
            with self._lock:
                try:
                    for (rowid,) in self._conn.execute(sql):
                        found.add(rowid)
                except sqlite3.DatabaseError:
                    pass  # damaged (or no such index): the other ways may get further
        rows, lost = [], 0
        select = self._select(" WHERE rowid = ?")
        for rowid in sorted(indexed | scanned):
            try:
                found = self._query(select, (rowid,))
            except sqlite3.DatabaseError:
                found = []
            if found:
                rows.append(found[0])
            else:  # a damaged page may answer "no such row" as well as raise
                lost += rowid in indexed
        return rows, lost

    def resolve_id(self, run_id):
        """The full id for ``run_id`` or a unique prefix of one."""
        run_id = str(run_id)
        if not self._tables:
            raise RunNotFoundError(f"No run with id {run_id!r} in {self.path}")
        escaped = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        try:
            if self._query("SELECT 1 FROM runs WHERE id = ?", (run_id,)):
                return run_id
            ids = [r[0] for r in self._query(
                "SELECT id FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY id", (escaped + "%",))]
        except sqlite3.DatabaseError as e:
            if not _is_corrupt(e):
                raise self._error(e) from e
            ids = sorted(str(row[0]) for row in self._salvage()[0]
                         if str(row[0]).startswith(run_id))
            if run_id in ids:
                return run_id
        if len(ids) == 1:
            return ids[0]
        if not ids:
            raise RunNotFoundError(f"No run with id {run_id!r} in {self.path}")
        raise RunNotFoundError(f"Run id {run_id!r} is ambiguous in {self.path}: it starts "
                               f"{len(ids)} runs ({', '.join(ids[:5])}"
                               f"{', ...' if len(ids) > 5 else ''})")

    def _run_dict(self, row):
        """A run from a row: every field that does not decode is None, with the reason in
        ``run["unreadable"]``; a "running" run whose process here is gone is "died"."""
        run = dict.fromkeys(_RUN_COLUMNS)
        run.update(zip(self._columns, row))
        unreadable = {}
        for key, value in run.items():
            if isinstance(value, bytes):
                run[key] = value = _lenient_text(value)
                if not isinstance(value, _BadText):
                    unreadable[key] = "not text"
                    continue
            if isinstance(value, _BadText):
                run[key] = str(value)
                unreadable[key] = "not valid UTF-8 (the bad bytes read as \ufffd)"
        for key in _JSON_COLUMNS:
            if run[key] is None:
                continue
            if key in unreadable:
                run[key] = None
                continue
            try:
                value = json.loads(run[key])
            except (TypeError, ValueError) as e:
                unreadable[key] = f"not valid JSON: {e}"
                run[key] = None
                continue
            kinds = _JSON_KINDS[key]
            if value is not None and not isinstance(value, kinds):
                expected = " or ".join("object" if k is dict else "array" for k in kinds)
                unreadable[key] = f"JSON {type(value).__name__}, expected {expected}"
                value = None
            run[key] = value
        for key in _REAL_COLUMNS + _INTEGER_COLUMNS:
            value = run[key]
            integer = key in _INTEGER_COLUMNS
            if value is None or (isinstance(value, int) if integer else _is_number(value)):
                continue
            if not isinstance(value, bool) and isinstance(value, float) and integer \
                    and value.is_integer():
                run[key] = int(value)
                continue
            unreadable.setdefault(key, f"not {'an integer' if integer else 'a number'}: "
                                       f"{_short(value)}")
            run[key] = None
        if run["status"] not in STATUSES:
            unreadable.setdefault("status", f"not a status: {_short(run['status'])}")
            run["status"] = "unknown" if run["status"] is None else str(run["status"])
        run["unreadable"] = unreadable
        self._derive_status(run)
        return run

    @staticmethod
    def _derive_status(run):
        if run["status"] != "running" or run["hostname"] != socket.gethostname():
            return
        if process_state(run["pid"], run["process_start"]) == "dead":
            run["status"] = "died"
            if not run["error"]:
                run["error"] = (f"the process (pid {run['pid']} on {run['hostname']}) ended "
                                "without recording the end of the fit")

    def _metrics(self, run):
        """The run's epoch metrics; a stored value that is not a number is left out, with the
        reason in ``run["unreadable"]["epoch_metrics"]``."""
        by_epoch = {}
        for epoch, name, value in self._query(
                "SELECT epoch, name, value FROM epoch_metrics WHERE run_id = ? "
                "ORDER BY epoch, name", (run["id"],)):
            if value is not None and not _is_number(value):
                run["unreadable"].setdefault(
                    "epoch_metrics", f"epoch {epoch} {name!r} is not a number: {_short(value)}")
                continue
            by_epoch.setdefault(epoch, {"epoch": epoch})[name] = (
                math.nan if value is None else value)
        return [by_epoch[e] for e in sorted(by_epoch)]

    def _readable(self, run, key, read, default):
        """``(read(), None)``, or ``(default, error)`` with the reason in
        ``run["unreadable"][key]`` when the pages it needs are damaged."""
        try:
            return read(), None
        except sqlite3.DatabaseError as e:
            if not _is_corrupt(e):
                raise self._error(e) from e
            run["unreadable"][key] = f"cannot be read: {_one_line(e)}"
            return default, e

    def get_run(self, run_id):
        run_id = self.resolve_id(run_id)
        try:
            rows = self._query(self._select(" WHERE id = ?"), (run_id,))
        except sqlite3.DatabaseError as e:
            raise TrackingDatabaseError(
                f"Run {run_id} in {self.path} cannot be read: {_one_line(e)}") from e
        if not rows:  # the id's index entry leads to no row
            raise TrackingDatabaseError(f"Run {run_id} in {self.path} cannot be read: database "
                                        "disk image is malformed")
        run = self._run_dict(rows[0])
        run["epoch_metrics"] = self._readable(run, "epoch_metrics",
                                              lambda: self._metrics(run), [])[0]
        run["artifacts"] = self._readable(run, "artifacts", lambda: [
            {"kind": kind, "path": path, "created_at": created}
            for kind, path, created in self._query(
                "SELECT kind, path, created_at FROM artifacts WHERE run_id = ? "
                "ORDER BY created_at, rowid", (run_id,))], [])[0]
        return run

    def list_runs(self, limit=None, status=None):
        """Runs, newest first (see ``ff.tracking.list_runs``). ``self.problems`` is left
        holding one line per kind of damage met (runs lost, epoch metrics lost), else empty."""
        self.problems = []
        if not self._tables:
            return []
        derived = status in ("running", "died")  # "died" is stored as "running"
        sql = self._select()
        params = []
        if status is not None:
            sql += " WHERE status = ?"
            params.append("running" if derived else status)
        sql += " ORDER BY started_at DESC, id DESC"
        if limit is not None and not derived:
            sql += " LIMIT ?"
            params.append(int(limit))
        try:
            rows = self._query(sql, tuple(params))
        except sqlite3.DatabaseError as e:
            if not _is_corrupt(e):
                raise self._error(e) from e
            rows, lost = self._salvage()
            self.problems.append(
                f"{self.path} is damaged ({_one_line(e)}): {lost} run{'' if lost == 1 else 's'} "
                "could not be read; the readable ones are listed")
            rows.sort(key=lambda r: (r[1] if _is_number(r[1]) else -math.inf, str(r[0])),
                      reverse=True)
        runs = []
        lost_metrics = []
        for row in rows:
            run = self._run_dict(row)
            if status is not None and run["status"] != status:
                continue
            metrics, error = self._readable(run, "epoch_metrics", lambda: self._metrics(run),
                                            None)
            if error is not None:
                lost_metrics.append(error)
            run["epochs_completed"] = None if metrics is None else len(metrics)
            run["final_metrics"] = ({k: v for k, v in metrics[-1].items() if k != "epoch"}
                                    if metrics else {})
            runs.append(run)
            if limit is not None and len(runs) >= limit:
                break
        if lost_metrics:
            n = len(lost_metrics)
            self.problems.append(
                f"{self.path} is damaged: the epoch metrics of {n} run{'' if n == 1 else 's'} "
                f"could not be read ({_one_line(lost_metrics[0])})")
        return runs
