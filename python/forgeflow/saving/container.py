"""The forgeflow file container (format version 1; docs/saved-model-format.md is the
specification): a fixed header, a section table, then the sections back to back. Every byte of
the file lies in exactly one checksummed region (header + table, or one section), so a flipped
bit anywhere is detected. Sections hold JSON (UTF-8) or a tensor table.

The reader trusts nothing it reads: every count, size, offset, dtype and shape is checked against
the real file length and the format's limits before it is used, and nothing is allocated from a
size read from the file (arrays are views of the file's bytes, copied only after the checks).
Errors are CorruptFileError / UnsupportedVersionError saying what is wrong and where."""
import json
import os
import re
import struct
import zlib

import numpy as np

from .atomic import atomic_write
from .errors import CorruptFileError, UnsupportedVersionError

__all__ = ["MAGIC", "FORMAT_VERSION", "SectionWriter", "json_section", "tensor_section",
           "write_file", "read_file", "parse_json", "parse_tensors", "Container"]

MAGIC = b"\x89FFM\r\n\x1a\n"
FORMAT_VERSION = 1

# magic, version, flags, file_size, section_count, header_crc
HEADER = struct.Struct("<8sIIQII")
# tag, flags, offset, length, crc32, reserved
SECTION = struct.Struct("<4sIQQII")
# tensor table: count, reserved; per tensor: name_len, dtype, ndim, crc32, nbytes
TENSOR_TABLE = struct.Struct("<II")
TENSOR_ENTRY = struct.Struct("<HBBIQ")
DIM = struct.Struct("<q")

SECTION_OPTIONAL = 0x1  # a reader that does not know the tag may skip the section

MAX_SECTIONS = 64
MAX_NDIM = 8
MAX_DIM = 1 << 40
MAX_NAME_BYTES = 1024
MAX_JSON_DEPTH = 64  # configs nest about 8 deep; deeper input could exhaust the Python stack later

# dtype code <-> little-endian NumPy dtype
DTYPES = {1: np.dtype("<f4"), 2: np.dtype("<f8"), 3: np.dtype("<i4"), 4: np.dtype("<i8"),
          5: np.dtype("|u1"), 6: np.dtype("<u8")}

SECTION_NAMES = {b"META": "metadata", b"ARCH": "architecture", b"COMP": "compile settings",
                 b"WGTS": "weights", b"OPTS": "optimizer state", b"RNGS": "random-number state",
                 b"TPOS": "training position", b"USER": "user data"}


def _crc(chunks):
    crc = 0
    for c in chunks:
        crc = zlib.crc32(c, crc)
    return crc & 0xFFFFFFFF


def _describe(tag):
    name = SECTION_NAMES.get(tag)
    shown = tag.decode("ascii", "backslashreplace")
    return f'section "{shown}" ({name})' if name else f'section "{shown}"'


# ---------------------------------------------------------------------------------- writing
class SectionWriter:
    """One section to write: a 4-byte tag, flags and the payload as a list of bytes-like chunks
    (tensor data is passed as memoryviews of the arrays, not copied)."""

    def __init__(self, tag, chunks, flags=0):
        if len(tag) != 4:
            raise ValueError(f"section tag must be 4 bytes, received {tag!r}")
        self.tag, self.flags = tag, flags
        self.chunks = [memoryview(c).cast("B") for c in chunks]
        self.length = sum(c.nbytes for c in self.chunks)
        self.crc = _crc(self.chunks)


def _jsonable(value, where):
    """JSON-ready copy of a config: tuples become lists, NumPy scalars and arrays plain values;
    anything else that JSON cannot hold raises a TypeError naming where it is."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: config keys must be strings, received {k!r}")
            out[k] = _jsonable(v, f"{where}.{k}")
        return out
    raise TypeError(f"{where} holds {type(value).__name__} {value!r}, which a saved file cannot "
                    "hold: configs are data only (numbers, strings, lists, dicts). Return plain "
                    "values from get_config().")


def json_section(tag, obj, where=None, flags=0):
    text = json.dumps(_jsonable(obj, where or _describe(tag)), ensure_ascii=False,
                      allow_nan=True, separators=(",", ":"))
    return SectionWriter(tag, [text.encode("utf-8")], flags)


def tensor_section(tag, named_arrays, flags=0):
    """A tensor table: [(name, ndarray)] in order."""
    index, data = [TENSOR_TABLE.pack(len(named_arrays), 0)], []
    for name, array in named_arrays:
        array = np.asarray(array)
        code = next((c for c, dt in DTYPES.items()
                     if dt.kind == array.dtype.kind and dt.itemsize == array.dtype.itemsize), None)
        if code is None:
            raise TypeError(f"tensor {name!r}: dtype {array.dtype} cannot be saved")
        array = np.asarray(array, dtype=DTYPES[code], order="C")  # keeps 0-d arrays 0-d
        encoded = name.encode("utf-8")
        if len(encoded) > MAX_NAME_BYTES or array.ndim > MAX_NDIM:
            raise ValueError(f"tensor {name!r}: name or rank too large to save")
        payload = memoryview(array.reshape(-1).view(np.uint8))
        index.append(TENSOR_ENTRY.pack(len(encoded), code, array.ndim, _crc([payload]),
                                       array.nbytes))
        index.extend(DIM.pack(d) for d in array.shape)
        index.append(encoded)
        data.append(payload)
    return SectionWriter(tag, index + data, flags)


def write_file(path, sections, overwrite=True):
    """Writes the sections as one file, atomically."""
    tags = [s.tag for s in sections]
    if len(set(tags)) != len(tags):
        raise ValueError(f"duplicate section tags {tags}")
    offset = HEADER.size + SECTION.size * len(sections)
    table = []
    for s in sections:
        table.append(SECTION.pack(s.tag, s.flags, offset, s.length, s.crc, 0))
        offset += s.length
    header = HEADER.pack(MAGIC, FORMAT_VERSION, 0, offset, len(sections), 0)
    crc = _crc([header] + table)
    header = HEADER.pack(MAGIC, FORMAT_VERSION, 0, offset, len(sections), crc)
    chunks = [header] + table
    for s in sections:
        chunks.extend(s.chunks)
    atomic_write(path, chunks, overwrite=overwrite)


# ---------------------------------------------------------------------------------- reading
class Container:
    """A read, verified file: ``version`` and ``sections`` (tag -> memoryview of its bytes)."""

    def __init__(self, path, version, sections):
        self.path, self.version, self.sections = path, version, sections

    def has(self, tag):
        return tag in self.sections

    def json(self, tag):
        return parse_json(self.sections[tag], tag, self.path)

    def tensors(self, tag):
        return parse_tensors(self.sections[tag], tag, self.path)


def _read_all(path):
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        buf = bytearray(size)  # the file's real size, never a size read from it
        view = memoryview(buf)
        got = 0
        while got < size:
            n = f.readinto(view[got:])
            if not n:
                break
            got += n
    return bytes(view[:got])


def read_file(path):
    """Reads and verifies a file: header, section table, section bounds and checksums."""
    data = _read_all(path)
    return parse_container(data, os.fspath(path))


def parse_container(data, path="<bytes>"):
    size = len(data)
    where = f"{path}"
    if size < HEADER.size:
        if size >= len(MAGIC) and data[:len(MAGIC)] != MAGIC:
            raise CorruptFileError(f"{where} is not a forgeflow file (wrong magic bytes)")
        raise CorruptFileError(f"{where} is truncated: {size} bytes, shorter than the "
                               f"{HEADER.size}-byte header")
    magic, version, flags, file_size, count, header_crc = HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise CorruptFileError(f"{where} is not a forgeflow file (wrong magic bytes "
                               f"{magic!r}, expected {MAGIC!r})")
    if version == 0 or version > FORMAT_VERSION:
        raise UnsupportedVersionError(
            f"{where} has format version {version}; this forgeflow reads versions 1 to "
            f"{FORMAT_VERSION}" + (" (written by a newer forgeflow: upgrade to load it)"
                                   if version > FORMAT_VERSION else ""))
    if count > MAX_SECTIONS:
        raise CorruptFileError(f"{where}: header says {count} sections (at most {MAX_SECTIONS})")
    table_end = HEADER.size + SECTION.size * count
    if table_end > size:
        raise CorruptFileError(f"{where} is truncated inside the section table: {size} bytes, "
                               f"the table of {count} sections ends at byte {table_end}")
    zeroed = HEADER.pack(magic, version, flags, file_size, count, 0)
    if _crc([zeroed, data[HEADER.size:table_end]]) != header_crc:
        raise CorruptFileError(f"{where}: header checksum mismatch (the header or section table "
                               "is damaged)")
    if flags != 0:
        raise UnsupportedVersionError(f"{where}: unknown header flags {flags:#x}")
    if file_size != size:
        what = "truncated" if size < file_size else "longer than written (trailing bytes)"
        raise CorruptFileError(f"{where} is {what}: the header says {file_size} bytes, the file "
                               f"has {size}")
    sections = {}
    expected_offset = table_end
    view = memoryview(data)
    for i in range(count):
        tag, sflags, offset, length, crc, reserved = SECTION.unpack_from(data, HEADER.size + SECTION.size * i)
        label = _describe(tag)
        if offset != expected_offset:
            raise CorruptFileError(f"{where}: {label} (table entry {i}) starts at byte {offset}, "
                                   f"expected {expected_offset} (sections lie back to back)")
        if length > size - offset:
            raise CorruptFileError(f"{where}: {label} (table entry {i}) of {length} bytes at "
                                   f"byte {offset} extends past the end of the file ({size} bytes)")
        if reserved != 0 or sflags & ~SECTION_OPTIONAL:
            raise CorruptFileError(f"{where}: {label}: unknown flags or non-zero reserved field")
        if tag in sections:
            raise CorruptFileError(f"{where}: {label} appears twice")
        payload = view[offset:offset + length]
        if _crc([payload]) != crc:
            raise CorruptFileError(f"{where}: checksum mismatch in {label} (bytes {offset} to "
                                   f"{offset + length}): the file is damaged")
        expected_offset = offset + length
        if tag not in SECTION_NAMES:
            if sflags & SECTION_OPTIONAL:
                continue
            raise UnsupportedVersionError(f"{where}: required {label} is unknown to this version "
                                          "of forgeflow (written by a newer one?)")
        sections[tag] = payload
    if expected_offset != size:
        raise CorruptFileError(f"{where}: {size - expected_offset} bytes after the last section "
                               "belong to no section")
    return Container(where, version, sections)


def _reject_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def parse_json(payload, tag, path="<bytes>"):
    label = _describe(tag)
    try:
        text = bytes(payload).decode("utf-8")
        value = json.loads(text, object_pairs_hook=_reject_duplicates)
    except UnicodeDecodeError as e:
        raise CorruptFileError(f"{path}: {label} is not valid UTF-8 ({e.reason} at byte "
                               f"{e.start})") from None
    except RecursionError:
        raise CorruptFileError(f"{path}: {label} nests too deeply") from None
    except ValueError as e:
        raise CorruptFileError(f"{path}: {label} is not valid JSON: {e}") from None
    if not isinstance(value, dict):
        raise CorruptFileError(f"{path}: {label} must hold a JSON object, found "
                               f"{type(value).__name__}")
    depth = _depth(value)
    if depth > MAX_JSON_DEPTH:
        raise CorruptFileError(f"{path}: {label} nests {depth} levels deep (at most "
                               f"{MAX_JSON_DEPTH})")
    if _MAYBE_SURROGATE.search(text):  # only a \uD800-\uDFFF escape can make one
        where = _lone_surrogate(value)
        if where is not None:
            raise CorruptFileError(f"{path}: {label} holds a lone surrogate escape (a \\uD800 to "
                                   f"\\uDFFF escape without its pair) in {where}: the text is not "
                                   "valid Unicode")
    return value


# A \u escape of a UTF-16 surrogate in JSON text (also matched by an escaped backslash followed
# by "ud800": the walk then finds nothing), and a surrogate in a parsed string.
_MAYBE_SURROGATE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_SURROGATES = re.compile("[\ud800-\udfff]")


def _lone_surrogate(value):
    """Where a parsed JSON value holds a string (key or value) with a lone surrogate (json.loads
    turns an unpaired \\uD800 escape into one; it cannot be encoded, so saving the model again
    would fail), as a path like ``["config"]["name"]``, or None. Iterative: no recursion depth."""
    stack = [(value, ())]
    while stack:
        v, at = stack.pop()
        if isinstance(v, str):
            if _SURROGATES.search(v):
                break
        elif isinstance(v, dict):
            for k, x in v.items():
                if _SURROGATES.search(k):
                    return "a key of " + ("".join(at) or "the top-level object")
                stack.append((x, at + (f"[{k!r}]",)))
        elif isinstance(v, list):
            stack.extend((x, at + (f"[{i}]",)) for i, x in enumerate(v))
    else:
        return None
    return "".join(at)


def _depth(value):
    """Nesting depth of a parsed JSON value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return deepest


def parse_tensors(payload, tag, path="<bytes>"):
    """[(name, ndarray)] from a tensor table; arrays are fresh copies, made after every check."""
    label = f"{path}: {_describe(tag)}"
    length = len(payload)
    if length < TENSOR_TABLE.size:
        raise CorruptFileError(f"{label}: {length} bytes, too short for its tensor count")
    count, reserved = TENSOR_TABLE.unpack_from(payload, 0)
    if reserved != 0:
        raise CorruptFileError(f"{label}: non-zero reserved field in the tensor table")
    if count > (length - TENSOR_TABLE.size) // TENSOR_ENTRY.size:
        raise CorruptFileError(f"{label}: says {count} tensors, more than its {length} bytes "
                               "can index")
    pos = TENSOR_TABLE.size
    entries = []
    names = set()
    for i in range(count):
        if pos + TENSOR_ENTRY.size > length:
            raise CorruptFileError(f"{label}: tensor index entry {i} runs past the section end")
        name_len, code, ndim, crc, nbytes = TENSOR_ENTRY.unpack_from(payload, pos)
        pos += TENSOR_ENTRY.size
        if ndim > MAX_NDIM:
            raise CorruptFileError(f"{label}: tensor {i} has rank {ndim} (at most {MAX_NDIM})")
        if name_len > MAX_NAME_BYTES:
            raise CorruptFileError(f"{label}: tensor {i} has a {name_len}-byte name (at most "
                                   f"{MAX_NAME_BYTES})")
        if pos + DIM.size * ndim + name_len > length:
            raise CorruptFileError(f"{label}: tensor index entry {i} runs past the section end")
        dims = [DIM.unpack_from(payload, pos + DIM.size * d)[0] for d in range(ndim)]
        pos += DIM.size * ndim
        try:
            name = bytes(payload[pos:pos + name_len]).decode("utf-8")
        except UnicodeDecodeError:
            raise CorruptFileError(f"{label}: tensor {i} has a name that is not UTF-8") from None
        pos += name_len
        if name in names:
            raise CorruptFileError(f"{label}: tensor name {name!r} appears twice")
        names.add(name)
        dtype = DTYPES.get(code)
        if dtype is None:
            raise CorruptFileError(f"{label}: tensor {name!r} has unknown dtype code {code}")
        for d in dims:
            if d < 0 or d > MAX_DIM:
                raise CorruptFileError(f"{label}: tensor {name!r} has dimension {d} in shape "
                                       f"{tuple(dims)} (must be 0 to {MAX_DIM})")
        numel = 1
        for d in dims:
            numel *= d  # Python integers: no overflow
        if numel * dtype.itemsize != nbytes:
            raise CorruptFileError(f"{label}: tensor {name!r} of shape {tuple(dims)} and dtype "
                                   f"{dtype.name} needs {numel * dtype.itemsize} bytes, the index "
                                   f"says {nbytes}")
        entries.append((name, dtype, tuple(dims), nbytes, crc))
    total = sum(e[3] for e in entries)
    if pos + total != length:
        raise CorruptFileError(f"{label}: the index ends at byte {pos} and the tensors need "
                               f"{total} bytes, but the section has {length} (expected "
                               f"{pos + total})")
    out = []
    for name, dtype, dims, nbytes, crc in entries:
        chunk = payload[pos:pos + nbytes]
        if _crc([chunk]) != crc:
            raise CorruptFileError(f"{label}: checksum mismatch in tensor {name!r}")
        if nbytes == 0:
            out.append((name, np.zeros(dims, dtype=dtype)))  # no elements: nothing allocated
        else:
            out.append((name, np.frombuffer(chunk, dtype=dtype).reshape(dims).copy()))
        pos += nbytes
    return out
