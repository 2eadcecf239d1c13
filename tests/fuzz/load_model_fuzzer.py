"""Fuzz harness (atheris, libFuzzer-driven) for the model loader: every input is loaded as a
file, twice: as it is (exercising the header and checksum checks) and with its checksums and
sizes repaired (so mutations reach the section parsers, the config checks, the graph builder and
the core layers behind them). The only acceptable outcomes are a model or a
ff.saving.SavedModelError; any other exception, a crash, a hang (-timeout) or a large allocation
(-rss_limit_mb / -malloc_limit_mb) is a finding, and so is any file the load opens (an audit hook
watches: a load reads its bytes and nothing else, SECURITY.md).

    pip install atheris
    PYTHONPATH=python python3 tests/fuzz/load_model_fuzzer.py /tmp/new_inputs \\
        tests/fuzz/corpus/load_model -max_total_time=600 -timeout=10 -rss_limit_mb=2048

New interesting inputs go to the first folder; merge the useful ones into the seed corpus with
-merge=1. tests/python/saving/test_saving_fuzz_replay.py replays the seed corpus in the normal
test run (without atheris).
"""
import os
import struct
import sys
import zlib

import atheris

with atheris.instrument_imports(include=["forgeflow.saving"]):
    from forgeflow.saving import SavedModelError
    from forgeflow.saving.model_io import load_model_from_bytes

HEADER = struct.Struct("<8sIIQII")
SECTION = struct.Struct("<4sIQQII")
ENTRY = struct.Struct("<HBBIQ")
TENSOR_TAGS = (b"WGTS", b"OPTS")


def _crc(data):
    return zlib.crc32(data) & 0xFFFFFFFF


def _repair_tensors(payload):
    """Recomputes each tensor's checksum where the table parses; the payload otherwise as is."""
    out = bytearray(payload)
    if len(out) < 8:
        return bytes(out)
    count = min(struct.unpack_from("<I", out, 0)[0], 4096)
    pos, entries = 8, []
    for _ in range(count):
        if pos + ENTRY.size > len(out):
            return bytes(out)
        name_len, _, ndim, _, nbytes = ENTRY.unpack_from(out, pos)
        entries.append((pos, nbytes))
        pos += ENTRY.size + 8 * ndim + name_len
    for entry_pos, nbytes in entries:
        if pos + nbytes > len(out):
            break
        struct.pack_into("<I", out, entry_pos + 4, _crc(bytes(out[pos:pos + nbytes])))
        pos += nbytes
    return bytes(out)


def repair(data):
    """The input with file size, section offsets and every checksum made consistent, or None
    when it has no parseable header."""
    if len(data) < HEADER.size:
        return None
    magic, version, flags, _, count, _ = HEADER.unpack_from(data, 0)
    count = min(count, 64)
    table_end = HEADER.size + SECTION.size * count
    if table_end > len(data):
        return None
    sections, pos = [], table_end
    for i in range(count):
        tag, sflags, _, length, _, reserved = SECTION.unpack_from(data, HEADER.size + SECTION.size * i)
        payload = data[pos:pos + length]
        pos += len(payload)
        if tag in TENSOR_TAGS:
            payload = _repair_tensors(payload)
        sections.append((tag, sflags, reserved, payload))
    offset = table_end
    table = b""
    for tag, sflags, reserved, payload in sections:
        table += SECTION.pack(tag, sflags, offset, len(payload), _crc(payload), reserved)
        offset += len(payload)
    header = HEADER.pack(magic, version, flags, offset, count, 0)
    header = HEADER.pack(magic, version, flags, offset, count, _crc(header + table))
    return header + table + b"".join(s[3] for s in sections)


class FileAccessDuringLoad(BaseException):
    """A load opened a file (a BaseException, so no `except Exception` in the loader hides it)."""


_loading = False
_MODULE_FILES = (".py", ".pyc", ".so")  # a module imported for the first time during a load


def _no_file_access(event, args):
    if _loading and event == "open" and args and isinstance(args[0], (str, bytes)):
        path = os.fsdecode(args[0])
        if not path.endswith(_MODULE_FILES):
            raise FileAccessDuringLoad(f"the load opened {path!r} (mode {args[1]!r})")


sys.addaudithook(_no_file_access)  # PEP 578: stays for the process, idle outside _load


def _load(data):
    global _loading
    _loading = True
    try:
        load_model_from_bytes(data)
    except SavedModelError:
        pass
    finally:
        _loading = False


def TestOneInput(data):
    _load(data)
    fixed = repair(data)
    if fixed is not None and fixed != data:
        _load(fixed)


def main():
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
