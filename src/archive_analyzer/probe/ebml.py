"""EBML, the binary format under Matroska / WebM: variable-length IDs and sizes, and the
element IDs of the Matroska elements this prober reads.

IDs keep their length-marker bits (as the specification writes them, ``0x1A45DFA3``); a size
whose value bits are all ones means "unknown" (live streams) and is returned as None.
"""

from __future__ import annotations

import math
import struct

# Element IDs (with their length marker bits, as written).
EBML = 0x1A45DFA3
DOCTYPE = 0x4282
SEGMENT = 0x18538067
SEEKHEAD = 0x114D9B74
SEEK = 0x4DBB
SEEK_ID = 0x53AB
SEEK_POSITION = 0x53AC
INFO = 0x1549A966
TIMECODE_SCALE = 0x2AD7B1
DURATION = 0x4489
DATE_UTC = 0x4461
TRACKS = 0x1654AE6B
TRACK_ENTRY = 0xAE
TRACK_NUMBER = 0xD7
TRACK_TYPE = 0x83
CODEC_ID = 0x86
CODEC_PRIVATE = 0x63A2
DEFAULT_DURATION = 0x23E383
LANGUAGE = 0x22B59C
LANGUAGE_BCP47 = 0x22B59D
VIDEO = 0xE0
PIXEL_WIDTH = 0xB0
PIXEL_HEIGHT = 0xBA
FLAG_INTERLACED = 0x9A
FIELD_ORDER = 0x9D
AUDIO = 0xE1
SAMPLING_FREQUENCY = 0xB5
OUTPUT_SAMPLING_FREQUENCY = 0x78B5
CHANNELS = 0x9F
BIT_DEPTH = 0x6264
CLUSTER = 0x1F43B675
CLUSTER_TIMESTAMP = 0xE7
SIMPLE_BLOCK = 0xA3
BLOCK_GROUP = 0xA0
BLOCK = 0xA1
BLOCK_DURATION = 0x9B
VOID = 0xEC
TAGS = 0x1254C367
TAG = 0x7373
TARGETS = 0x63C0
TAG_TRACK_UID = 0x63C5
SIMPLE_TAG = 0x67C8
TAG_NAME = 0x45A3
TAG_STRING = 0x4487
CRC32 = 0xBF


def read_id(data: bytes, pos: int) -> tuple[int, int]:
    """An element ID at ``pos`` (marker bits kept) and its length in bytes."""
    first = data[pos]
    if first == 0:
        raise ValueError("invalid EBML ID")
    length = 8 - first.bit_length() + 1
    if length > 4:
        raise ValueError("EBML ID longer than 4 bytes")
    if pos + length > len(data):
        raise IndexError("EBML ID past the data")
    return int.from_bytes(data[pos : pos + length], "big"), length


def read_size(data: bytes, pos: int) -> tuple[int | None, int]:
    """An EBML size varint at ``pos``: (value or None for "unknown", length in bytes)."""
    first = data[pos]
    if first == 0:
        raise ValueError("invalid EBML size")
    length = 8 - first.bit_length() + 1
    if pos + length > len(data):
        raise IndexError("EBML size past the data")
    value = first & (0xFF >> length)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    if value == (1 << (7 * length)) - 1:
        return None, length
    return value, length


def children(data: bytes) -> list[tuple[int, bytes]]:
    """The (id, body) pairs of a master element's body; stops at the first bad element."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos + 2 <= len(data):
        try:
            el_id, id_len = read_id(data, pos)
            el_size, size_len = read_size(data, pos + id_len)
        except (IndexError, ValueError):
            break
        if el_size is None:
            break
        body = pos + id_len + size_len
        out.append((el_id, data[body : body + el_size]))
        pos = body + el_size
    return out


def find_child(data: bytes, wanted: int) -> bytes | None:
    for el_id, body in children(data):
        if el_id == wanted:
            return body
    return None


def float_value(body: bytes) -> float | None:
    if len(body) == 4:
        value = float(struct.unpack(">f", body)[0])
    elif len(body) == 8:
        value = float(struct.unpack(">d", body)[0])
    else:
        return None
    return value if math.isfinite(value) else None
