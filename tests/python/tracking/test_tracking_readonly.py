"""Reading a tracking database never writes it (tracking/database.py): no journal-mode switch,
no schema creation, no -wal/-shm files left behind, and a database in a folder nobody may write
(a shared or archived record) can be listed and shown. As root, where permissions do not stop
writes, the file's bytes and times are compared, and the listing also runs with the folder
bind-mounted read-only."""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import forgeflow as ff

from _tracking_helpers import make_database, python_env, read_only_view


def _snapshot(folder, path):
    st = os.stat(path)
    return sorted(os.listdir(folder)), path.read_bytes(), st.st_mtime_ns, st.st_size


def _run(*command, cwd=None):
    return subprocess.run([*map(str, command)], cwd=cwd, env=python_env(), capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def read_only_folder():
    """A folder the test makes read-only (and gives back writable for the clean-up)."""
    base = tempfile.mkdtemp(prefix="ff-readonly-")
    folder = os.path.join(base, "records")
    os.mkdir(folder)
    yield Path(folder)
    for root, dirs, files in os.walk(base):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    shutil.rmtree(base)


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_reading_changes_nothing(read_only_folder, journal_mode):
    folder = read_only_folder
    path = folder / "runs.db"
    ids = make_database(path, 3, journal_mode=journal_mode)
    os.chmod(path, 0o444)
    os.chmod(folder, 0o555)
    before = _snapshot(folder, path)
    assert before[0] == ["runs.db"]
    assert [r["id"] for r in ff.tracking.list_runs(database=path)] == ids[::-1]
    assert ff.tracking.get_run(ids[1], database=path)["model_name"] == "model-0001"
    r = _run(sys.executable, "-m", "forgeflow", "--database", path, "runs", "list")
    assert r.returncode == 0, r.stderr
    assert all(i in r.stdout for i in ids)
    r = _run(sys.executable, "-m", "forgeflow", "--database", path, "runs", "show", ids[0])
    assert r.returncode == 0 and "model-0000" in r.stdout, r.stderr
    assert _snapshot(folder, path) == before  # same files, bytes, mtime


@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
def test_a_database_on_a_read_only_mount_is_listed(read_only_folder, journal_mode):
    # WAL and closed cleanly: no -wal or -shm file there, and none can be created there
    folder = read_only_folder
    path = folder / "runs.db"
    ids = make_database(path, 3, journal_mode=journal_mode)
    os.chmod(path, 0o444)
    os.chmod(folder, 0o555)
    prefix = read_only_view(folder)
    if prefix is None:
        if os.geteuid() == 0:
            pytest.skip("needs `unshare -rm` (a read-only bind mount): root ignores permissions")
        prefix = []  # the permissions are the read-only part
    before = _snapshot(folder, path)
    r = _run(*prefix, sys.executable, "-m", "forgeflow", "--database", path, "runs", "list",
             cwd=folder.parent)
    assert r.returncode == 0, r.stderr
    assert all(i in r.stdout for i in ids) and r.stderr == ""
    r = _run(*prefix, sys.executable, "-m", "forgeflow", "--database", path, "runs", "show",
             ids[2], cwd=folder.parent)
    assert r.returncode == 0 and "model-0002" in r.stdout, r.stderr
    assert _snapshot(folder, path) == before
