"""Which container a file is, from its first bytes (magic numbers, not the file name).

``sniff(head)`` returns the name of the parser module (``mp4``, ``mkv``, ``ts``, ``mxf``,
``avi``, ``asf``) or None when no parser of ours claims the bytes. MPEG-TS, M2TS and
MPEG-PS all go to ``ts``.
"""

from __future__ import annotations

import struct

from archive_analyzer.probe.mp4 import TOP_LEVEL

SNIFF_BYTES = 4096
# The names sniff() returns; probe/parsers.py has a parser for each.
KINDS = ("mp4", "mkv", "ts", "mxf", "avi", "asf")

_EBML = b"\x1a\x45\xdf\xa3"
_ASF = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
_MXF_PARTITION = bytes.fromhex("060e2b34020501010d01020101")  # then 02..04: the pack kind
_PACK_START = b"\x00\x00\x01\xba"
_SYNC = 0x47


def sniff(head: bytes) -> str | None:
    """The parser module name for a file starting with ``head``, or None."""
    if len(head) < 8:
        return None
    if head.startswith(_EBML):
        return "mkv"
    if head.startswith(_ASF):
        return "asf"
    if head[:4] == b"RIFF" and head[8:12] in (b"AVI ", b"AVIX"):
        return "avi"
    if _is_mp4(head):
        return "mp4"
    if _is_ts(head, 188, 0) or _is_ts(head, 192, 4) or _is_ts(head, 204, 0):
        return "ts"
    if head.startswith(_PACK_START):
        return "ts"
    # MXF may start with a run-in of up to 64 KiB; archive files have none or a short one.
    pos = head.find(_MXF_PARTITION)
    if pos != -1 and len(head) > pos + 14 and head[pos + 13] in (2, 3, 4):
        return "mxf"
    return None


def _is_mp4(head: bytes) -> bool:
    size, kind = struct.unpack(">I4s", head[:8])
    if kind not in TOP_LEVEL:
        return False
    return size in (0, 1) or size >= 8


def _is_ts(head: bytes, packet: int, prefix: int) -> bool:
    """Three sync bytes a packet apart (fewer when the file is shorter than three packets)."""
    positions = [prefix + i * packet for i in range(3) if prefix + i * packet < len(head)]
    return bool(positions) and all(head[p] == _SYNC for p in positions) and len(positions) >= 2
