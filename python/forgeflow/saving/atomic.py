"""Atomic file replacement: write a temporary file in the destination's directory, flush and
fsync it, rename it onto the final name, fsync the directory. A process killed at any moment
leaves either the old file or the new one under the final name, never a mix or a partial file;
on an error the temporary file is removed and the old file is untouched.

A process killed during a save leaves its temporary file (``.<name>.<8 random>.tmp``) behind; the
next save to the same name removes such files when they are stale. The writer holds an exclusive
``flock`` on its temporary file from creating it until it is renamed, so a stale file is one
that no process holds (the kernel drops the lock of a killed process) and that has not been
modified for ``STALE_AFTER_S`` seconds (which covers the instant between creating and locking,
and writers without the lock: forgeflow 0.1.0). Only regular files of exactly that name pattern
for that target are touched; where ``fcntl`` is missing (Windows), nothing is removed."""
import os
import re
import stat
import tempfile
import time

try:
    import fcntl
except ImportError:  # Windows: no flock, so no way to tell a live writer's file from a stale one
    fcntl = None

__all__ = ["atomic_write", "remove_stale_temporaries", "STALE_AFTER_S"]

STALE_AFTER_S = 60.0
_RANDOM = "[a-z0-9_]{8}"  # tempfile.mkstemp's random part


def _umask():
    """The process umask, read without changing it where Linux allows (else by set-and-restore,
    once at import)."""
    try:
        with open("/proc/self/status", "r", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()


def _fsync_directory(directory):
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:  # platforms that cannot open directories (Windows): nothing to sync
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename itself is atomic
    finally:
        os.close(fd)


def _temporary_pattern(base):
    return re.compile(re.escape(f".{base}.") + _RANDOM + re.escape(".tmp"))


def _remove_if_stale(directory, name, now):
    """Removes directory/name if it is a regular file that no process holds locked and that has
    not been modified for STALE_AFTER_S seconds; any doubt (or error) leaves it."""
    path = os.path.join(directory, name)
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or now - info.st_mtime < STALE_AFTER_S:
            return False
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while a live writer holds it
        opened, current = os.fstat(fd), os.lstat(path)
        if (opened.st_dev, opened.st_ino) != (current.st_dev, current.st_ino):
            return False  # replaced since it was listed
        os.unlink(path)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def remove_stale_temporaries(path):
    """Removes the stale temporary files that interrupted saves to ``path`` left behind (see the
    module docstring); returns their names. Never raises: a file it cannot check stays."""
    if fcntl is None:
        return []
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    pattern = _temporary_pattern(os.path.basename(path))
    try:
        with os.scandir(directory) as entries:
            names = [e.name for e in entries if pattern.fullmatch(e.name)]
    except OSError:
        return []
    now = time.time()
    return [name for name in names if _remove_if_stale(directory, name, now)]


def atomic_write(path, chunks, overwrite=True):
    """Writes the bytes-like ``chunks`` in order to ``path`` atomically.

    ``overwrite=False`` raises FileExistsError if ``path`` exists (checked atomically: the
    temporary file is hard-linked to the final name, which fails when it exists)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    if not base:
        raise IsADirectoryError(f"Cannot save to {path!r}: it names a directory, not a file")
    remove_stale_temporaries(path)  # before writing: they may be what fills the disk
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=directory)
    try:
        if fcntl is not None:  # held until the temporary name is gone: "a live save's file"
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                pass  # a file system without locks: the age rule alone protects this file
        try:
            os.fchmod(fd, _FILE_MODE)
        except (AttributeError, OSError):
            pass
        with os.fdopen(fd, "wb") as f:  # the file (and its lock) stays open until renamed
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
            if overwrite:
                os.replace(tmp, path)
            else:
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    raise FileExistsError(f"{path} exists and overwrite=False; nothing was "
                                          "written") from None
                except OSError:  # a file system without hard links: check, then rename
                    if os.path.lexists(path):
                        raise FileExistsError(f"{path} exists and overwrite=False; nothing was "
                                              "written") from None
                    os.replace(tmp, path)
                else:
                    os.unlink(tmp)
            tmp = None
        _fsync_directory(directory)
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
