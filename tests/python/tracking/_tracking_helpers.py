"""Helpers of the run-tracking tests: a database of runs written without training, the pages of
one table found by walking SQLite's b-tree (the file format at sqlite.org/fileformat.html, not
forgeflow's code), one page damaged, and a command run with a folder mounted read-only."""
import os
import sqlite3
import subprocess
import sys

T0 = 1_700_000_000.0


def make_database(path, n, journal_mode="wal"):
    """``n`` finished runs (old-style ids, model names ``model-0000``...) with two epochs of
    metrics each, the connection closed (the WAL checkpointed into the file). Returns the ids,
    oldest first."""
    from forgeflow.tracking.database import Database
    db = Database(os.fspath(path))
    ids = []
    layers = [{"class_name": "Dense", "config": {"units": 8, "activation": "relu" * 10}}] * 4
    for i in range(n):
        run_id = f"20231114-{i // 3600:02d}{i // 60 % 60:02d}{i % 60:02d}-{i:06x}"
        db.insert_run({"id": run_id, "started_at": T0 + i, "ended_at": T0 + i + 0.5,
                       "status": "finished", "model_name": f"model-{i:04d}",
                       "model_class": "Sequential", "model_config": {"layers": layers},
                       "param_count": i, "epochs": 2, "metrics": ["loss"]})
        db.log_epoch(run_id, 0, {"loss": 1.0 / (i + 1)})
        db.log_epoch(run_id, 1, {"loss": 0.5 / (i + 1)})
        ids.append(run_id)
    db._really_close()
    if journal_mode != "wal":
        conn = sqlite3.connect(os.fspath(path))
        assert conn.execute(f"PRAGMA journal_mode = {journal_mode}").fetchone()[0] == journal_mode
        conn.close()
    return ids


def leaf_pages(path, table):
    """The leaf pages (1-based numbers) of ``table``'s b-tree, in key order."""
    with open(path, "rb") as f:
        data = f.read()
    page_size = int.from_bytes(data[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    conn = sqlite3.connect(f"file:{os.fspath(path)}?mode=ro", uri=True)
    (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    conn.close()

    def walk(number):
        page = data[(number - 1) * page_size:number * page_size]
        header = 100 if number == 1 else 0
        kind = page[header]
        if kind in (0x0a, 0x0d):  # index / table leaf
            return [number]
        assert kind in (0x02, 0x05), f"page {number} is not a b-tree page ({kind:#x})"
        cells = int.from_bytes(page[header + 3:header + 5], "big")
        children = []
        for i in range(cells):
            at = int.from_bytes(page[header + 12 + 2 * i:header + 14 + 2 * i], "big")
            children.append(int.from_bytes(page[at:at + 4], "big"))
        children.append(int.from_bytes(page[header + 8:header + 12], "big"))  # right-most
        return [leaf for child in children for leaf in walk(child)]

    return walk(root)


def _varint(data, at):
    value = 0
    for i in range(9):
        byte = data[at + i]
        if i == 8:
            return (value << 8) | byte, at + 9
        value = (value << 7) | (byte & 0x7f)
        if byte < 0x80:
            return value, at + i + 1


def cells(path, number):
    """The payloads of the live cells of table-leaf page ``number`` (freed space on a page can
    still hold old bytes, so searching the whole page would find rows that moved away)."""
    with open(path, "rb") as f:
        data = f.read()
    page_size = int.from_bytes(data[16:18], "big")
    page = data[(number - 1) * page_size:number * page_size]
    header = 100 if number == 1 else 0
    assert page[header] == 0x0d, f"page {number} is not a table leaf"
    out = []
    for i in range(int.from_bytes(page[header + 3:header + 5], "big")):
        at = int.from_bytes(page[header + 8 + 2 * i:header + 10 + 2 * i], "big")
        size, at = _varint(page, at)
        _, at = _varint(page, at)  # rowid
        out.append(page[at:at + size])
    return out


def damage_page(path, number):
    """Overwrite the cell-pointer array of b-tree leaf page ``number`` with 0xff: every cell then
    points outside the page, which SQLite reports as "database disk image is malformed" when the
    page is read."""
    with open(path, "rb") as f:
        data = f.read()
    page_size = int.from_bytes(data[16:18], "big")
    header = (number - 1) * page_size + (100 if number == 1 else 0)
    count = int.from_bytes(data[header + 3:header + 5], "big")
    with open(path, "r+b") as f:
        f.seek(header + 8)
        f.write(b"\xff" * (2 * max(count, 1)))


def read_only_view(folder):
    """A command prefix that runs a command with ``folder`` bind-mounted read-only (a private
    mount namespace: ``unshare -rm``), so that even root cannot write there; None where that is
    not allowed."""
    prefix = ["unshare", "-rm", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"',
              os.fspath(folder)]
    try:
        probe = subprocess.run(prefix + ["sh", "-c", ': > "$0/probe"', os.fspath(folder)],
                               capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    if "Read-only file system" not in probe.stderr:
        if os.path.exists(os.path.join(folder, "probe")):
            os.remove(os.path.join(folder, "probe"))
        return None
    return prefix


def python_env():
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
