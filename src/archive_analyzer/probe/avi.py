"""AVI (RIFF): the ``hdrl`` list in the first KB: ``avih``, one ``strl`` per stream (``strh``
stream header, ``strf`` format: BITMAPINFOHEADER or WAVEFORMATEX) and OpenDML's ``dmlh``.

Durations are per stream, ``dwLength`` x ``dwScale`` / ``dwRate`` (libavformat leaves constant
rate audio with a sample size out); the format duration is the longest. Past 1 GiB an AVI is
OpenDML: ``avih.dwTotalFrames`` counts only the first RIFF chunk and ``dmlh`` has the total.
A first RIFF chunk that claims to run past the end of the file means truncated.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from archive_analyzer.errors import ParseError
from archive_analyzer.probe import codecs, elementary, riff
from archive_analyzer.probe.facts import Facts, Reader, malformed_is_parse_error
from archive_analyzer.probe.result import AudioInfo, ProbeStatus, VideoInfo

CONTAINER = "avi"
LONG_NAME = "AVI (Audio Video Interleaved)"

_HEAD = 16 * 1024  # the RIFF header and the start of hdrl (read whole by its size)
_MAX_HDRL = 1024 * 1024
_MAX_CHUNKS = 256
_FRAME_CHUNKS = 16  # chunks walked from hdrl to the first video frame
_FRAME_PEEK = 1024  # of the first video frame: its sequence / parameter set headers


@dataclass(slots=True)
class _Stream:
    kind: bytes  # b"vids" | b"auds" | b"txts" | ...
    scale: int = 0
    rate: int = 0
    length: int = 0
    sample_size: int = 0
    video: riff.BitmapInfo | None = None
    audio: riff.WaveFormat | None = None

    def duration_s(self) -> float | None:
        if not self.scale or not self.rate or not self.length:
            return None
        if self.kind == b"auds" and self.sample_size:
            return None  # constant-rate audio: libavformat gives no stream duration
        return self.length * self.scale / self.rate


@malformed_is_parse_error("avi: malformed chunk")
def parse(reader: Reader) -> Facts:
    """Read an AVI file's facts from its ``hdrl`` header list.

    Raises ParseError when the bytes are not AVI; lets BudgetExceeded through.
    """
    size = reader.size
    head = reader.read(0, min(size, _HEAD))
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] not in (b"AVI ", b"AVIX"):
        raise ParseError("avi: no RIFF AVI header")
    riff_size = struct.unpack_from("<I", head, 4)[0]
    pos = 12
    hdrl: bytes | None = None
    for _ in range(_MAX_CHUNKS):
        if pos + 12 > len(head):
            break
        fourcc, chunk_size = head[pos : pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
        if fourcc == b"LIST" and head[pos + 8 : pos + 12] == b"hdrl":
            if chunk_size > _MAX_HDRL:
                raise ParseError("avi: hdrl list too large")
            hdrl = reader.read(pos + 12, chunk_size - 4)
            pos += 8 + chunk_size + (chunk_size & 1)
            break
        if fourcc == b"LIST" and head[pos + 8 : pos + 12] == b"movi":
            break
        pos += 8 + chunk_size + (chunk_size & 1)
    if hdrl is None:
        raise ParseError("avi: no hdrl list")

    avih_frames = 0
    avih_usec = 0
    total_frames = 0
    streams: list[_Stream] = []
    for fourcc, body in _chunks(hdrl):
        if fourcc == b"avih" and len(body) >= 20:
            avih_usec, _, _, _, avih_frames = struct.unpack_from("<IIIII", body, 0)
        elif fourcc == b"LIST" and body[:4] == b"strl":
            stream = _strl(body[4:])
            if stream is not None:
                streams.append(stream)
        elif fourcc == b"LIST" and body[:4] == b"odml":
            for sub, sub_body in _chunks(body[4:]):
                if sub == b"dmlh" and len(sub_body) >= 4:
                    total_frames = struct.unpack_from("<I", sub_body, 0)[0]
    if not streams:
        raise ParseError("avi: no stream headers")

    video: VideoInfo | None = None
    audio: list[AudioInfo] = []
    durations: list[float] = []
    for s in streams:
        if s.kind == b"vids" and total_frames > s.length:
            s.length = total_frames  # OpenDML: strh may count only the first RIFF chunk
        seconds = s.duration_s()
        if seconds:
            durations.append(seconds)
        if s.kind == b"vids" and video is None:
            rate = s.rate / s.scale if s.rate and s.scale else None
            if rate is None and avih_usec:
                rate = 1e6 / avih_usec
            info = s.video
            codec = info.codec if info else None
            config = _in_band(reader, pos, streams.index(s), codec)
            video = VideoInfo(
                codec=codec,
                profile=config.profile,
                width=info.width if info else None,
                height=info.height if info else None,
                frame_rate=rate,
                pix_fmt=config.pix_fmt,
                field_order=config.field_order,
            )
        elif s.kind == b"auds":
            wave = s.audio
            audio.append(
                AudioInfo(
                    codec=wave.codec if wave else None,
                    channels=wave.channels if wave else None,
                    sample_rate=wave.sample_rate if wave else None,
                )
            )
    duration = max(durations) if durations else None
    if duration is None and avih_usec and (total_frames or avih_frames):
        duration = (total_frames or avih_frames) * avih_usec / 1e6
    status = ProbeStatus.TRUNCATED if 8 + riff_size > size else ProbeStatus.OK
    return Facts(
        container=CONTAINER,
        format_long_name=LONG_NAME,
        status=status,
        duration_s=duration,
        video=video,
        audio=tuple(audio),
        subtitle_count=sum(1 for s in streams if s.kind == b"txts"),
    )


def _in_band(reader: Reader, pos: int, index: int, codec: str | None) -> codecs.VideoConfig:
    """Profile / pix_fmt / field order from the headers in the stream's first frame.

    ``pos`` is the first top-level chunk after ``hdrl``; the ``movi`` list follows within a
    few chunks (JUNK padding, INFO). Codecs with one output format need no frame.
    """
    fixed = codecs.fixed_pix_fmt(codec)
    if fixed is not None or codec not in ("h264", "mpeg1video", "mpeg2video", "mpeg4", "dnxhd"):
        return codecs.VideoConfig(pix_fmt=fixed)
    wanted = (f"{index:02d}dc".encode(), f"{index:02d}db".encode())
    for _ in range(_FRAME_CHUNKS):
        header = reader.read(pos, 12)
        if len(header) < 12:
            break
        fourcc, size = header[:4], struct.unpack_from("<I", header, 4)[0]
        if fourcc == b"LIST" and header[8:12] in (b"movi", b"rec "):
            pos += 12  # descend: the frames are its chunks
            continue
        if fourcc in wanted:
            found = elementary.in_band_at(reader, codec, pos + 8, min(size, _FRAME_PEEK))
            return found or codecs.VideoConfig()
        pos += 8 + size + (size & 1)
    return codecs.VideoConfig()


def _strl(data: bytes) -> _Stream | None:
    stream: _Stream | None = None
    for fourcc, body in _chunks(data):
        if fourcc == b"strh" and len(body) >= 48:
            kind = body[:4]
            scale, rate, _start, length = struct.unpack_from("<IIII", body, 20)
            sample_size = struct.unpack_from("<I", body, 44)[0]
            stream = _Stream(kind, scale, rate, length, sample_size)
        elif fourcc == b"strf" and stream is not None:
            if stream.kind == b"vids":
                stream.video = riff.parse_bitmapinfo(body)
            elif stream.kind == b"auds":
                stream.audio = riff.parse_waveformat(body)
    return stream


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(FourCC, body) of the RIFF chunks in ``data``; stops at the first that overruns."""
    out: list[tuple[bytes, bytes]] = []
    pos = 0
    while pos + 8 <= len(data) and len(out) < _MAX_CHUNKS:
        fourcc = data[pos : pos + 4]
        size = struct.unpack_from("<I", data, pos + 4)[0]
        out.append((fourcc, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return out
