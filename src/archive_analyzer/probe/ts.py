"""MPEG-TS (188-byte packets) and M2TS (192 bytes: a 4-byte timestamp prefix), and MPEG-PS.

No header holds a duration. The head gives the program tables (PAT -> PMT: the streams, their
types and languages), the first PTS of each stream and the codec headers at the start of their
payloads; the tail gives the last PTS. Duration is last - first on the 33-bit 90 kHz clock
(a wrap in between is undone; splice discontinuities are not followed). ffprobe reports both
TS and M2TS as ``mpegts``; program streams (``.vob``, ``.mpg``) go to ``ps.py`` (``mpeg``).
"""

from __future__ import annotations

from archive_analyzer.errors import ParseError
from archive_analyzer.probe import pes, ps
from archive_analyzer.probe.facts import Facts, Reader, malformed_is_parse_error
from archive_analyzer.probe.pes import Stream
from archive_analyzer.probe.result import ProbeStatus

CONTAINER = "mpegts"
LONG_NAME = "MPEG-TS (MPEG-2 Transport Stream)"

SYNC = 0x47
_CHUNK = 32 * 1024
_MAX_SECTION = 4096  # PSI sections are at most 1,024 bytes; more is garbage
_PATIENCE = 512 * 1024  # head bytes after which unidentified private streams are let go
_HEAD_MAX = 2 * 1024 * 1024  # a GOP at broadcast bit rates; head + tail stay within 4 MiB
_TAIL_STEPS = (64 * 1024, 256 * 1024, 1024 * 1024, 2 * 1024 * 1024)

# stream_type -> (kind, ffprobe codec name); from libavformat's mpegts.c tables.
_TYPES: dict[int, tuple[str, str]] = {
    0x01: ("video", "mpeg2video"),
    0x02: ("video", "mpeg2video"),
    0x03: ("audio", "mp3"),
    0x04: ("audio", "mp3"),
    0x0F: ("audio", "aac"),
    0x10: ("video", "mpeg4"),
    0x11: ("audio", "aac_latm"),
    0x1B: ("video", "h264"),
    0x1C: ("audio", "aac"),
    0x20: ("video", "h264"),
    0x21: ("video", "jpeg2000"),
    0x24: ("video", "hevc"),
    0x42: ("video", "cavs"),
    0xD1: ("video", "dirac"),
    0xD2: ("video", "avs2"),
    0xEA: ("video", "vc1"),
    0x81: ("audio", "ac3"),
    0x87: ("audio", "eac3"),
    0x8A: ("audio", "dts"),
}
# Blu-ray (HDMV) types, used in M2TS and when a registration descriptor says "HDMV".
_HDMV_TYPES: dict[int, tuple[str, str]] = {
    0x80: ("audio", "pcm_bluray"),
    0x81: ("audio", "ac3"),
    0x82: ("audio", "dts"),
    0x83: ("audio", "truehd"),
    0x84: ("audio", "eac3"),
    0x85: ("audio", "dts"),
    0x86: ("audio", "dts"),
    0x90: ("subtitle", "hdmv_pgs_subtitle"),
    0x92: ("subtitle", "hdmv_text_subtitle"),
    0xA1: ("audio", "eac3"),
    0xA2: ("audio", "dts"),
    0xEA: ("video", "vc1"),
}
# Registration descriptor format identifiers on private streams.
_REGISTRATIONS: dict[bytes, tuple[str, str]] = {
    b"AC-3": ("audio", "ac3"),
    b"EAC3": ("audio", "eac3"),
    b"DTS1": ("audio", "dts"),
    b"DTS2": ("audio", "dts"),
    b"DTS3": ("audio", "dts"),
    b"Opus": ("audio", "opus"),
    b"BSSD": ("audio", "s302m"),
    b"HEVC": ("video", "hevc"),
    b"VC-1": ("video", "vc1"),
    b"AV01": ("video", "av1"),
    b"KLVA": ("data", "klv"),
}
# Descriptor tags that give a private stream (0x06) its codec.
_DESCRIPTOR_CODECS: dict[int, tuple[str, str]] = {
    0x6A: ("audio", "ac3"),
    0x7A: ("audio", "eac3"),
    0x7B: ("audio", "dts"),
    0x59: ("subtitle", "dvb_subtitle"),
    0x56: ("subtitle", "dvb_teletext"),
}


@malformed_is_parse_error("mpegts: malformed packet")
def parse(reader: Reader) -> Facts:
    """Read an MPEG-TS / M2TS (or, delegated, MPEG-PS) file's facts from its head and tail.

    Raises ParseError when the bytes are neither; lets BudgetExceeded through.
    """
    size = reader.size
    head = reader.read(0, min(size, _CHUNK))
    layout = detect(head)
    if layout is None:
        if ps.looks_like_ps(head):
            return ps.parse(reader)
        raise ParseError("mpegts: no sync bytes at a packet interval")
    packet_size, start = layout
    walker = _Walker(packet_size)
    _walk_head(reader, walker, head, start)
    if not walker.pmt_done:
        raise ParseError("mpegts: no program map table in the head")
    streams = walker.ordered_streams()
    if not streams:
        raise ParseError("mpegts: the programs list no streams")
    _walk_tail(reader, walker, packet_size)
    status = ProbeStatus.OK
    prefix = 4 if packet_size == 192 else 0
    if (size - (start - prefix)) % packet_size:
        status = ProbeStatus.TRUNCATED  # the last packet was cut short
    return pes.facts(CONTAINER, LONG_NAME, streams, status=status)


def detect(head: bytes) -> tuple[int, int] | None:
    """(packet size, offset of the first sync byte) when ``head`` looks like TS or M2TS."""
    for packet_size, prefix in ((188, 0), (192, 4), (204, 0)):
        for first in range(prefix, min(len(head), packet_size + prefix)):
            if head[first] != SYNC:
                continue
            count = min(8, (len(head) - first - 1) // packet_size + 1)
            if count < 2 and len(head) > packet_size:
                continue
            if all(head[first + k * packet_size] == SYNC for k in range(count)):
                return packet_size, first
            if first > prefix + 4:
                break  # TS starts at the first bytes; a late match is chance
    return None


class _Walker:
    """Packet-level state: program tables, streams by PID, and PES payload assembly."""

    def __init__(self, packet_size: int) -> None:
        self.packet_size = packet_size
        self.pmt_pids: dict[int, int] = {}  # PMT PID -> order in the PAT
        self.pmts_seen: set[int] = set()
        self.streams: dict[int, Stream] = {}
        self.stream_order: dict[int, tuple[int, int]] = {}
        self.pending: dict[int, bytearray] = {}  # PES start awaiting more payload
        self.psi: dict[int, bytearray] = {}  # PAT / PMT section awaiting more packets
        self.pat_done = False
        self.hdmv = packet_size == 192

    @property
    def pmt_done(self) -> bool:
        return self.pat_done and bool(self.pmt_pids) and self.pmts_seen == set(self.pmt_pids)

    def head_done(self, walked: int) -> bool:
        if not self.pmt_done:
            return False
        if walked > _PATIENCE:  # a private stream that never shows its payload stays unknown
            return all(s.done for s in self.streams.values() if s.kind != "probe")
        return all(s.done for s in self.streams.values())

    def ordered_streams(self) -> list[Stream]:
        return [
            self.streams[pid] for pid in sorted(self.streams, key=lambda p: self.stream_order[p])
        ]

    def packet(self, pkt: bytes, *, tail: bool = False) -> None:
        if len(pkt) < 188 or pkt[0] != SYNC:
            return
        pid = ((pkt[1] & 0x1F) << 8) | pkt[2]
        pusi = pkt[1] & 0x40
        afc = (pkt[3] >> 4) & 0x03
        if afc in (0, 2) or pkt[1] & 0x80:
            return  # no payload, or transport error
        pos = 4
        if afc == 3:
            pos += 1 + pkt[4]
        if pos >= 188:
            return
        payload = pkt[pos:188]
        if tail:
            stream = self.streams.get(pid)
            if stream is not None and pusi:
                header = pes.pes_header(payload)
                if header is not None and header[1] is not None:
                    pes.note_tail_pts(stream, header[1])
            return
        if pid == 0 or pid in self.pmt_pids:
            sec = self._section(pid, payload, bool(pusi))
            if sec is not None and pid == 0:
                self._pat(sec)
            elif sec is not None:
                self._pmt(pid, sec)
        elif pid in self.streams:
            self._es(self.streams[pid], pid, payload, bool(pusi))

    def _section(self, pid: int, payload: bytes, pusi: bool) -> bytes | None:
        """A whole PSI section (without its CRC) once its packets are in, else None."""
        if pusi:
            buf = bytearray(payload[1 + payload[0] :])  # after the pointer field
        elif pid in self.psi:
            buf = self.psi.pop(pid) + payload
        else:
            return None
        if len(buf) < 3:
            self.psi[pid] = buf
            return None
        length = ((buf[1] & 0x0F) << 8) | buf[2]
        if len(buf) < 3 + length:
            if len(buf) < _MAX_SECTION:
                self.psi[pid] = buf
            return None
        return bytes(buf[: 3 + length - 4])

    def _pat(self, sec: bytes) -> None:
        if len(sec) < 8 or sec[0] != 0x00 or self.pat_done:
            return
        order = 0
        for pos in range(8, len(sec) - 3, 4):
            program = (sec[pos] << 8) | sec[pos + 1]
            pid = ((sec[pos + 2] & 0x1F) << 8) | sec[pos + 3]
            if program != 0:
                self.pmt_pids.setdefault(pid, order)
                order += 1
        self.pat_done = True

    def _pmt(self, pid: int, sec: bytes) -> None:
        if len(sec) < 12 or sec[0] != 0x02 or pid in self.pmts_seen:
            return
        arrival = len(self.pmts_seen)  # libavformat adds streams as PMTs arrive
        self.pmts_seen.add(pid)
        info_len = ((sec[10] & 0x0F) << 8) | sec[11]
        program_registration = _registration(sec[12 : 12 + info_len])
        if program_registration == b"HDMV":
            self.hdmv = True
        pos = 12 + info_len
        index = 0
        while pos + 5 <= len(sec):
            stream_type = sec[pos]
            es_pid = ((sec[pos + 1] & 0x1F) << 8) | sec[pos + 2]
            es_len = ((sec[pos + 3] & 0x0F) << 8) | sec[pos + 4]
            descriptors = sec[pos + 5 : pos + 5 + es_len]
            pos += 5 + es_len
            kind_codec = self._stream_kind(stream_type, descriptors)
            if kind_codec is None or es_pid in self.streams:
                continue
            kind, codec = kind_codec
            self.streams[es_pid] = Stream(
                key=es_pid, kind=kind, codec=codec, language=_language(descriptors)
            )
            self.stream_order[es_pid] = (arrival, index)
            index += 1

    def _stream_kind(self, stream_type: int, descriptors: bytes) -> tuple[str, str] | None:
        if self.hdmv and stream_type in _HDMV_TYPES:
            return _HDMV_TYPES[stream_type]
        if stream_type in _TYPES:
            return _TYPES[stream_type]
        for tag, body in _descriptors(descriptors):
            if tag in _DESCRIPTOR_CODECS:
                return _DESCRIPTOR_CODECS[tag]
            if tag == 0x05 and body[:4] in _REGISTRATIONS:
                return _REGISTRATIONS[body[:4]]
        if stream_type == 0x06:
            return "probe", ""
        return None

    def _es(self, stream: Stream, pid: int, payload: bytes, pusi: bool) -> None:
        if pusi:
            self._finish(stream, pid)
            header = pes.pes_header(payload)
            if header is None:
                return
            _, pts, offset = header
            if pts is not None:
                pes.note_pts(stream, pts)
            if not stream.done:
                self.pending[pid] = bytearray(payload[offset:])
            if not stream.done:
                pes.peek(stream, payload[offset:])
            return
        buf = self.pending.get(pid)
        if buf is not None:
            buf += payload
            if len(buf) >= 4096:
                self._finish(stream, pid)
            elif not stream.done:
                pes.peek(stream, bytes(buf))

    def _finish(self, stream: Stream, pid: int) -> None:
        buf = self.pending.pop(pid, None)
        if buf:
            pes.sniff(stream, bytes(buf))


def _walk_head(reader: Reader, walker: _Walker, head: bytes, start: int) -> None:
    ps_ = walker.packet_size
    prefix = 4 if ps_ == 192 else 0
    pos = start - prefix
    buf, buf_start = head, 0
    limit = min(reader.size, _HEAD_MAX)
    while pos + ps_ <= limit:
        if pos + ps_ > buf_start + len(buf):
            buf_start = pos
            buf = reader.read(pos, min(_CHUNK, limit - pos))
            if len(buf) < ps_:
                break
        rel = pos - buf_start
        pkt = buf[rel + prefix : rel + prefix + 188]
        if pkt[:1] != b"\x47":
            resync = _resync(buf, rel + prefix, ps_)
            if resync is None:
                pos = buf_start + len(buf)  # skip this chunk
                continue
            pos = buf_start + resync - prefix
            continue
        walker.packet(pkt)
        if walker.head_done(pos - start):
            break
        pos += ps_
    for pid, stream in walker.streams.items():
        walker._finish(stream, pid)


def _walk_tail(reader: Reader, walker: _Walker, packet_size: int) -> None:
    size = reader.size
    prefix = 4 if packet_size == 192 else 0
    tail, have = b"", size  # grown backwards: each step reads only the bytes not yet read
    for span in _TAIL_STEPS:
        start = max(0, size - span)
        tail = reader.read(start, have - start) + tail
        have = start
        first = _resync(tail, prefix, packet_size)
        pos = first
        while pos is not None and pos + 188 <= len(tail):
            if tail[pos] != SYNC:
                pos = _resync(tail, pos + 1, packet_size)
                continue
            walker.packet(tail[pos : pos + 188], tail=True)
            pos += packet_size
        found = all(
            s.last_pts is not None
            for s in walker.streams.values()
            if s.kind in ("video", "audio") and s.first_pts is not None
        )
        if found or start == 0:
            return


def _resync(buf: bytes, pos: int, packet_size: int) -> int | None:
    """The next offset >= pos where sync bytes repeat at the packet interval."""
    while True:
        pos = buf.find(b"\x47", pos)
        if pos < 0 or pos + packet_size >= len(buf):
            return pos if pos >= 0 and pos + 188 <= len(buf) else None
        if all(
            buf[pos + k * packet_size] == SYNC
            for k in range(1, min(4, (len(buf) - pos - 1) // packet_size + 1))
        ):
            return pos
        pos += 1


def _descriptors(data: bytes) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos + 2 <= len(data):
        tag, length = data[pos], data[pos + 1]
        out.append((tag, data[pos + 2 : pos + 2 + length]))
        pos += 2 + length
    return out


def _registration(data: bytes) -> bytes | None:
    for tag, body in _descriptors(data):
        if tag == 0x05 and len(body) >= 4:
            return body[:4]
    return None


def _language(descriptors: bytes) -> str | None:
    for tag, body in _descriptors(descriptors):
        # ISO 639 language, teletext and DVB subtitling descriptors all start with the code
        if tag in (0x0A, 0x56, 0x59) and len(body) >= 3:
            code = body[:3].decode("latin-1").strip("\0 ")
            return code if code.isalpha() else None
    return None
