"""MPEG-PS (program stream: ``.mpg``, ``.vob``): packs of PES packets, no stream table.

Streams are known by their PES stream id (and, in private stream 1, a sub-stream id) in the
order they first appear; their codecs come from the ids and the payload headers. Duration is
the last PTS in the tail minus the first in the head, as for TS (see ``pes.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from archive_analyzer.errors import ParseError
from archive_analyzer.probe import elementary, pes
from archive_analyzer.probe.facts import Facts, Reader, malformed_is_parse_error
from archive_analyzer.probe.pes import Stream

_Callback = Callable[[bytes], bool]

CONTAINER = "mpeg"
LONG_NAME = "MPEG-PS (MPEG-2 Program Stream)"

PACK = b"\x00\x00\x01\xba"
_CHUNK = 32 * 1024
_MAX_PACKET = 65_536 + 1024  # the largest PES packet (65,541 bytes) and a pack header
_HEAD_MAX = 2 * 1024 * 1024
_MIN_PACKETS = 16  # streams may first appear a few packs in
_TAIL_STEPS = (64 * 1024, 256 * 1024, 1024 * 1024, 2 * 1024 * 1024)


def looks_like_ps(head: bytes) -> bool:
    """True when ``head`` starts (after at most a little junk) with an MPEG pack header."""
    pos = head.find(PACK, 0, 2048)
    return pos >= 0 and pos + 12 <= len(head) and _pack_length(head, pos) is not None


@malformed_is_parse_error("mpeg-ps: malformed pack")
def parse(reader: Reader) -> Facts:
    """Read an MPEG program stream's facts from its head and tail.

    Raises ParseError when the bytes are not a program stream; lets BudgetExceeded through.
    """
    size = reader.size
    head = reader.read(0, min(size, _CHUNK))
    start = head.find(PACK, 0, 2048)
    if start < 0:
        raise ParseError("mpeg-ps: no pack header")
    streams: dict[int, Stream] = {}
    order: list[int] = []
    packets = 0

    def on_packet(packet: bytes) -> bool:
        nonlocal packets
        packets += 1
        found = _stream_for(packet, streams, order)
        if found is not None:
            stream, pts, payload = found
            if pts is not None:
                pes.note_pts(stream, pts)
            if not stream.done:
                pes.sniff(stream, payload)
        return packets >= _MIN_PACKETS and bool(streams) and all(s.done for s in streams.values())

    _walk(reader, start, min(size, _HEAD_MAX), on_packet)
    if not streams:
        raise ParseError("mpeg-ps: no audio or video packets in the head")

    tail, have = b"", size  # grown backwards: each step reads only the bytes not yet read
    for span in _TAIL_STEPS:
        tail_start = max(0, size - span)
        tail = reader.read(tail_start, have - tail_start) + tail
        have = tail_start
        first = tail.find(PACK)
        if first >= 0:
            _walk_buffer(tail, first, lambda packet: _tail_packet(packet, streams))
        if all(s.last_pts is not None for s in streams.values() if s.first_pts is not None):
            break
        if tail_start == 0:
            break
    return pes.facts(CONTAINER, LONG_NAME, [streams[k] for k in order])


def _tail_packet(packet: bytes, streams: dict[int, Stream]) -> bool:
    header = pes.pes_header(packet)
    if header is None or header[1] is None:
        return False
    key = _key(packet, header[0], header[2])
    stream = streams.get(key) if key is not None else None
    if stream is not None:
        pes.note_tail_pts(stream, header[1])
    return False


def _stream_for(
    packet: bytes, streams: dict[int, Stream], order: list[int]
) -> tuple[Stream, int | None, bytes] | None:
    header = pes.pes_header(packet)
    if header is None:
        return None
    stream_id, pts, offset = header
    key = _key(packet, stream_id, offset)
    if key is None:
        return None
    payload = packet[offset:]
    if stream_id == 0xBD:
        payload = payload[4:] if key >> 8 == 0xBD and 0xA0 <= key & 0xFF <= 0xAF else payload[1:]
    stream = streams.get(key)
    if stream is None:
        kind_codec = _kind(key)
        if kind_codec is None:
            return None
        stream = Stream(
            key=key, kind=kind_codec[0], codec=kind_codec[1], guess_codec=kind_codec[0] == "video"
        )
        streams[key] = stream
        order.append(key)
    if stream.codec == "pcm_dvd" and stream.audio is None and len(payload) >= 2:
        stream.audio = _lpcm(packet[offset:])
    return stream, pts, payload


def _key(packet: bytes, stream_id: int, offset: int) -> int | None:
    if 0xC0 <= stream_id <= 0xEF:
        return stream_id
    if stream_id == 0xBD and offset < len(packet):
        return 0xBD00 | packet[offset]
    return None


def _kind(key: int) -> tuple[str, str] | None:
    if 0xE0 <= key <= 0xEF:
        return "video", "mpeg2video"
    if 0xC0 <= key <= 0xDF:
        return "audio", "mp2"
    sub = key & 0xFF
    if key >> 8 != 0xBD:
        return None
    if 0x80 <= sub <= 0x87 or 0xC0 <= sub <= 0xCF:
        return "audio", "ac3"
    if 0x88 <= sub <= 0x9F:
        return "audio", "dts"
    if 0xA0 <= sub <= 0xAF:
        return "audio", "pcm_dvd"
    if 0xB0 <= sub <= 0xBF:
        return "audio", "truehd"
    if 0x20 <= sub <= 0x3F:
        return "subtitle", "dvd_subtitle"
    return None


_LPCM_RATES = (48000, 96000, 44100, 32000)


def _lpcm(payload: bytes) -> elementary.AudioHeader | None:
    # sub-stream id, frames, first-unit pointer (2), emphasis, then quant/rate/channels
    if len(payload) < 7:
        return None
    info = payload[5]
    return elementary.AudioHeader("pcm_dvd", (info & 0x07) + 1, _LPCM_RATES[(info >> 4) & 0x03])


def _walk(reader: Reader, start: int, limit: int, on_packet: _Callback) -> None:
    pos = start
    want = _CHUNK
    while pos + 4 <= limit:
        buf = reader.read(pos, min(want, limit - pos))
        if len(buf) < 16:
            return
        consumed, stop = _walk_buffer(buf, 0, on_packet)
        if stop:
            return
        if consumed == 0:
            if want >= _MAX_PACKET or len(buf) < want:
                return  # no whole packet even in a maximal chunk: junk, or the end
            want = _MAX_PACKET  # one PES packet larger than a chunk
            continue
        want = _CHUNK
        pos += consumed


def _walk_buffer(buf: bytes, pos: int, on_packet: _Callback) -> tuple[int, bool]:
    """Walk packs and packets in ``buf`` from ``pos``; returns (bytes consumed, stopped)."""
    resyncs = 0
    while pos + 6 <= len(buf):
        if buf[pos : pos + 3] != b"\x00\x00\x01":
            nxt = buf.find(b"\x00\x00\x01", pos + 1)
            resyncs += 1
            if nxt < 0 or resyncs > 64:
                return max(pos, len(buf) - 3), False
            pos = nxt
            continue
        code = buf[pos + 3]
        if code == 0xBA:
            length = _pack_length(buf, pos)
            if length is None:
                pos += 4
                continue
        elif code == 0xB9:
            length = 4
        elif code >= 0xBB:
            length = 6 + ((buf[pos + 4] << 8) | buf[pos + 5])
            if pos + length > len(buf):
                return pos, False  # the packet continues in the next chunk
            if code != 0xBB and on_packet(buf[pos : pos + length]):
                return pos + length, True
        else:
            pos += 3
            continue
        pos += length
    return pos, False


def _pack_length(buf: bytes, pos: int) -> int | None:
    if pos + 14 > len(buf):
        return 12 if pos + 12 <= len(buf) and buf[pos + 4] >> 4 == 0x2 else None
    marker = buf[pos + 4]
    if marker >> 6 == 0x1:  # MPEG-2 pack header + stuffing
        return 14 + (buf[pos + 13] & 0x07)
    if marker >> 4 == 0x2:  # MPEG-1
        return 12
    return None
