"""Atomic file replacement: write a temporary file in the destination's directory, flush and
fsync it, rename it onto the final name, fsync the directory. A process killed at any moment
leaves either the old file or the new one under the final name, never a mix or a partial file;
on an error the temporary file is removed and the old file is untouched."""
import os
import tempfile

__all__ = ["atomic_write"]


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


def atomic_write(path, chunks, overwrite=True):
    """Writes the bytes-like ``chunks`` in order to ``path`` atomically.

    ``overwrite=False`` raises FileExistsError if ``path`` exists (checked atomically: the
    temporary file is hard-linked to the final name, which fails when it exists)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    if not base:
        raise IsADirectoryError(f"Cannot save to {path!r}: it names a directory, not a file")
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=directory)
    try:
        try:
            os.fchmod(fd, _FILE_MODE)
        except (AttributeError, OSError):
            pass
        with os.fdopen(fd, "wb") as f:
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
                raise FileExistsError(f"{path} exists and overwrite=False; nothing was written") from None
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
