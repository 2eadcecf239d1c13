"""Strict reader/writer for IDX files (the MNIST / Fashion-MNIST file format).

Layout: two zero bytes, a dtype code (only 0x08 = unsigned byte is accepted),
the number of dimensions, then one big-endian uint32 per dimension, then exactly
prod(dims) bytes of data. Files may be gzip-compressed (detected from the
content, not the name). Any deviation raises ValueError naming the file, what
was expected and what was found.
"""

import gzip
import math
import os
import zlib

import numpy as np

__all__ = ["read_idx", "write_idx", "IDX_UBYTE"]

IDX_UBYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"
_DTYPE_NAMES = {
    0x08: "unsigned byte",
    0x09: "signed byte",
    0x0B: "int16",
    0x0C: "int32",
    0x0D: "float32",
    0x0E: "float64",
}


def _read_bytes(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:
        raise ValueError(
            f"{path}: expected a complete gzip-compressed IDX file, but the gzip "
            f"stream is truncated or corrupt ({type(e).__name__}: {e}). "
            "Delete the file and download it again."
        ) from None


def read_idx(path, expected_ndim=None, expected_shape=None):
    """Read an unsigned-byte IDX file (optionally gzipped) into a uint8 array.

    Args:
        path: file path.
        expected_ndim: if given, the number of dimensions the file must have.
        expected_shape: if given, a tuple whose non-None entries the dims must
            match (e.g. ``(None, 28, 28)``).

    Raises:
        ValueError: bad magic, dtype other than 0x08, wrong rank or dims, or a
            data size that is not exactly the product of the dims.
    """
    path = os.fspath(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(
            f"{path}: expected an IDX file (at least a 4-byte header), found only "
            f"{len(data)} byte(s); the file is truncated or empty."
        )
    if data[0] != 0 or data[1] != 0:
        raise ValueError(
            f"{path}: expected an IDX file starting with bytes 00 00, found "
            f"{data[:4].hex(' ')}; this is not an IDX file (or it is compressed "
            "with something other than gzip)."
        )
    code, ndim = data[2], data[3]
    if code != IDX_UBYTE:
        found = _DTYPE_NAMES.get(code, "unknown")
        raise ValueError(
            f"{path}: expected IDX dtype code 0x08 (unsigned byte), found "
            f"0x{code:02x} ({found})."
        )
    if expected_ndim is not None and ndim != expected_ndim:
        raise ValueError(
            f"{path}: expected an IDX file with {expected_ndim} dimension(s), "
            f"found {ndim}."
        )
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise ValueError(
            f"{path}: expected a {header_len}-byte header for {ndim} dimension(s), "
            f"found only {len(data)} byte(s); the file is truncated."
        )
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    if expected_shape is not None:
        expected_shape = tuple(expected_shape)
        ok = len(expected_shape) == len(dims) and all(
            e is None or int(e) == d for e, d in zip(expected_shape, dims)
        )
        if not ok:
            exp = "(" + ", ".join("N" if e is None else str(e) for e in expected_shape) + ")"
            raise ValueError(
                f"{path}: expected dimensions {exp}, found {dims}."
            )
    expected = math.prod(dims)  # Python integers: dims of 2^32 - 1 cannot wrap (np.int64 did)
    found = len(data) - header_len
    if found != expected:
        what = "is truncated" if found < expected else "has trailing bytes"
        raise ValueError(
            f"{path}: expected {expected} data bytes after the header for dimensions "
            f"{dims}, found {found}; the file {what}."
        )
    arr = np.frombuffer(data, dtype=np.uint8, offset=header_len).reshape(dims)
    return arr.copy()


def write_idx(path, array, compress=None):
    """Write a uint8 array as an IDX file; gzip when ``compress`` is True or,
    by default, when the name ends with ``.gz`` (deterministic: mtime 0)."""
    path = os.fspath(path)
    arr = np.ascontiguousarray(array)
    if arr.dtype != np.uint8:
        raise ValueError(f"{path}: write_idx expects a uint8 array, got {arr.dtype}.")
    if arr.ndim > 255:
        raise ValueError(f"{path}: too many dimensions for IDX ({arr.ndim}).")
    header = bytes([0, 0, IDX_UBYTE, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    payload = header + arr.tobytes()
    if compress is None:
        compress = path.endswith(".gz")
    if compress:
        payload = gzip.compress(payload, compresslevel=9, mtime=0)
    with open(path, "wb") as f:
        f.write(payload)
