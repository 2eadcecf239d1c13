"""A minimal writer of TensorBoard event files (scalars only), with no TensorFlow dependency.

File format (stable since TensorFlow 1.0; what ``tf.summary`` writes and TensorBoard reads):

* File name ``events.out.tfevents.<unix seconds, 10 digits>.<hostname>.<pid>.<counter>.v2``;
  TensorBoard loads every file whose name contains "tfevents", in name order.
* The file is a sequence of TFRecords. Each record is::

      uint64  length            little-endian, of the data
      uint32  masked_crc32c(the 8 length bytes)
      bytes   data[length]      one serialized ``Event`` protobuf
      uint32  masked_crc32c(data)

  where crc32c is CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) and
  ``masked(c) = ((c >> 15 | c << 17) + 0xA282EAD8) mod 2**32``.
* The first record is an Event with ``file_version = "brain.Event:2"``.

Protobuf fields written (tensorflow/core/util/event.proto, summary.proto); encoded by hand,
tag byte = field_number << 3 | wire_type:

    Event:          1 wall_time  double  (wire 1, 64-bit)   tag 0x09
                    2 step       int64   (wire 0, varint)   tag 0x10
                    3 file_version string (wire 2)          tag 0x1A
                    5 summary    Summary (wire 2)           tag 0x2A
    Summary:        1 value      repeated Summary.Value     tag 0x0A
    Summary.Value:  1 tag        string                     tag 0x0A
                    2 simple_value float (wire 5, 32-bit)   tag 0x15

Scalars use ``simple_value``, which every TensorBoard version reads (the scalars dashboard
converts it to its tensor form on load).
"""

import os
import socket
import struct
import threading
import time

__all__ = ["crc32c", "masked_crc32c", "EventFileWriter", "encode_scalar_event"]


def _make_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _make_table()


def crc32c(data):
    """CRC-32C (Castagnoli) of ``data`` (bytes)."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(value):
    if value < 0:
        value += 1 << 64  # int64 negatives: ten-byte two's complement, as protobuf
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _length_delimited(tag, payload):
    return bytes([tag]) + _varint(len(payload)) + payload


def _event(wall_time, step=None, file_version=None, summary=None):
    out = b"\x09" + struct.pack("<d", wall_time)
    if step is not None:
        out += b"\x10" + _varint(int(step))
    if file_version is not None:
        out += _length_delimited(0x1A, file_version.encode("utf-8"))
    if summary is not None:
        out += _length_delimited(0x2A, summary)
    return out


def encode_scalar_event(tag, value, step, wall_time=None):
    """The serialized Event holding one scalar ``tag`` = ``value`` at ``step``."""
    value_msg = _length_delimited(0x0A, tag.encode("utf-8")) + b"\x15" + struct.pack("<f", value)
    summary = _length_delimited(0x0A, value_msg)
    return _event(time.time() if wall_time is None else wall_time, step=step, summary=summary)


def _record(data):
    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", masked_crc32c(header)) + data
            + struct.pack("<I", masked_crc32c(data)))


_counter_lock = threading.Lock()
_counter = [0]


class EventFileWriter:
    """Appends scalar events to a new event file in ``logdir`` (created if needed). Not
    thread-safe; one writer per directory per run."""

    def __init__(self, logdir):
        self.logdir = os.fspath(logdir)
        os.makedirs(self.logdir, exist_ok=True)
        with _counter_lock:
            _counter[0] += 1
            uid = _counter[0]
        now = time.time()
        name = "events.out.tfevents.%010d.%s.%d.%d.v2" % (int(now), socket.gethostname(),
                                                         os.getpid(), uid)
        self.path = os.path.join(self.logdir, name)
        self._file = open(self.path, "wb")
        self._file.write(_record(_event(now, file_version="brain.Event:2")))
        self._file.flush()

    def add_scalar(self, tag, value, step, wall_time=None):
        self._file.write(_record(encode_scalar_event(tag, float(value), step, wall_time)))

    def flush(self):
        if not self._file.closed:
            self._file.flush()

    def close(self):
        if not self._file.closed:
            self._file.flush()
            self._file.close()

    @property
    def closed(self):
        return self._file.closed
