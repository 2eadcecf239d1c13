"""Saves are atomic: a save failing at any point leaves the old file untouched and no temporary
file behind; a process killed with SIGKILL at random moments of repeated saves leaves a file
that loads and holds one consistent save (never a mix of two)."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import forgeflow as ff
from forgeflow.saving import atomic

L = ff.layers


def _model(value):
    model = ff.Sequential([ff.Input(shape=(8,)), L.Dense(8), L.Dense(2)])
    model.set_weights([np.full(w.shape, value, "float32") for w in model.get_weights()])
    return model


class _FailingFile:
    """Wraps a file; write() raises once `limit` bytes have gone through."""

    def __init__(self, f, limit):
        self._f, self._left = f, limit

    def write(self, data):
        n = memoryview(data).nbytes
        if n > self._left:
            self._f.write(bytes(memoryview(data).cast("B")[:self._left]))
            raise OSError(28, "No space left on device (simulated)")
        self._left -= n
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()
        return False


@pytest.mark.parametrize("failure", ["write_start", "write_middle", "fsync", "replace"])
def test_failed_save_leaves_old_file_and_no_temp(tmp_path, monkeypatch, failure):
    path = tmp_path / "model.ff"
    _model(1.0).save(path)
    before = path.read_bytes()
    if failure.startswith("write"):
        limit = 0 if failure == "write_start" else len(before) // 2
        real_fdopen = os.fdopen
        monkeypatch.setattr(atomic.os, "fdopen",
                            lambda fd, *a, **k: _FailingFile(real_fdopen(fd, *a, **k), limit))
    elif failure == "fsync":
        def fail(fd):
            raise OSError(5, "I/O error (simulated)")
        monkeypatch.setattr(atomic.os, "fsync", fail)
    else:
        def fail(src, dst):
            raise OSError(18, "Invalid cross-device link (simulated)")
        monkeypatch.setattr(atomic.os, "replace", fail)
    with pytest.raises(OSError, match="simulated"):
        _model(2.0).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.ff"]
    assert np.all(ff.models.load_model(path).get_weights()[0] == 1.0)


def test_unserializable_config_fails_before_touching_the_file(tmp_path):
    path = tmp_path / "model.ff"
    model = _model(1.0)
    model.save(path)
    before = path.read_bytes()
    model._data_schema = {"bad": object()}
    with pytest.raises(TypeError, match="data only"):
        model.save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.ff"]


def test_saved_file_permissions_follow_the_umask(tmp_path):
    path = tmp_path / "model.ff"
    _model(1.0).save(path)
    assert os.stat(path).st_mode & 0o777 == atomic._FILE_MODE


_SAVER = textwrap.dedent("""
    import sys, numpy as np, forgeflow as ff
    path = sys.argv[1]
    model = ff.Sequential([ff.Input(shape=(256,)), ff.layers.Dense(512), ff.layers.Dense(256)])
    shapes = [w.shape for w in model.get_weights()]
    i = 0
    while True:
        model.set_weights([np.full(s, float(i), "float32") for s in shapes])
        model._training_position = {"epoch": i}
        model.save(path)
        if i == 0:
            print("ready", flush=True)
        i += 1
""")


def test_sigkill_during_repeated_saves_leaves_a_loadable_consistent_file(tmp_path):
    script = tmp_path / "saver.py"
    script.write_text(_SAVER)
    path = tmp_path / "ckpt.ff"
    rng = np.random.default_rng(7)
    for trial in range(6):
        proc = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE)
        try:
            assert proc.stdout.readline().strip() == b"ready"
            time.sleep(float(rng.uniform(0.0, 0.4)))
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            proc.stdout.close()
        model = ff.models.load_model(path)
        epoch = model._training_position["epoch"]
        for w in model.get_weights():  # one save, not a mix of two
            assert np.all(w == float(epoch))
    leftovers = [n for n in os.listdir(tmp_path) if n not in ("saver.py", "ckpt.ff")]
    assert all(n.startswith(".ckpt.ff.") and n.endswith(".tmp") for n in leftovers)


_KILLED_INSIDE_A_SAVE = textwrap.dedent("""
    import os, signal, sys, numpy as np, forgeflow as ff
    from forgeflow.saving import atomic
    model = ff.Sequential([ff.Input(shape=(64,)), ff.layers.Dense(64)])
    def die(fd):  # SIGKILL inside the save, once the temporary file is written in full
        os.kill(os.getpid(), signal.SIGKILL)
    atomic.os.fsync = die
    model.save(sys.argv[1])
""")

_HOLD_LOCK = ("import fcntl, os, sys\n"
              "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
              "fcntl.flock(fd, fcntl.LOCK_EX)\n"
              "print('locked', flush=True)\n"
              "sys.stdin.read()\n")


def _age(path, seconds):
    when = time.time() - seconds
    os.utime(path, (when, when), follow_symlinks=False)


def test_the_next_save_removes_what_a_killed_save_left_and_nothing_else(tmp_path):
    path = tmp_path / "m.ff"
    script = tmp_path / "killed.py"
    script.write_text(_KILLED_INSIDE_A_SAVE)
    assert subprocess.run([sys.executable, str(script), str(path)]).returncode == -signal.SIGKILL
    (stale,) = [n for n in os.listdir(tmp_path) if n.startswith(".m.ff.")]
    assert len(stale) == len(".m.ff.12345678.tmp") and stale.endswith(".tmp")
    assert (tmp_path / stale).stat().st_size > 64 * 64 * 4  # a full-size file
    # Look-alikes, all old enough to be stale: none of them is ours to remove.
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    others = [".m.ff.abcdefg.tmp", ".m.ff.abcdefghi.tmp", ".m.ff.ABCDEFGH.tmp",
              ".other.ff.abcdefgh.tmp", ".m.ff.abcdefgh.tmp.bak", "m.ff.abcdefgh.tmp",
              ".m.ff.abcdefgh.TMP", ".n.ff.abcdefgh.tmp"]
    for name in others:
        (tmp_path / name).write_text("x")
    (tmp_path / ".m.ff.dir_dir_.tmp").mkdir()
    os.symlink(outside, tmp_path / ".m.ff.symlink_.tmp")
    os.mkfifo(tmp_path / ".m.ff.fifofifo.tmp")
    held = tmp_path / ".m.ff.held_by1.tmp"  # a save in progress elsewhere: locked
    held.write_text("x")
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(held)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"locked"
        everything = sorted(os.listdir(tmp_path))
        for name in everything:
            _age(tmp_path / name, 3600)
        _age(tmp_path / stale, 0)  # just killed: too fresh to tell from a save starting now
        _model(1.0).save(path)
        assert sorted(os.listdir(tmp_path)) == sorted(everything + ["m.ff"])
        _age(tmp_path / stale, atomic.STALE_AFTER_S + 1)
        _model(2.0).save(path)
        assert sorted(os.listdir(tmp_path)) == sorted(set(everything + ["m.ff"]) - {stale})
    finally:
        holder.stdin.close()
        holder.wait()
        holder.stdout.close()
    assert outside.read_text() == "keep"
    assert np.all(ff.models.load_model(path).get_weights()[0] == 2.0)
    _model(3.0).save(path)  # the lock is gone with its process: now that file is stale too
    assert not held.exists()
