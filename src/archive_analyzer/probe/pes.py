"""PES packets and elementary streams: what MPEG-TS and MPEG-PS share.

Both containers carry no duration: it is the last presentation timestamp (from the tail of the
file) minus the first (from the head), on the 33-bit 90 kHz clock. Stream facts (size, frame
rate, channels, sample rate) come from the first bytes of each stream's payload.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

from archive_analyzer.probe import elementary, h264
from archive_analyzer.probe.elementary import AudioHeader, VideoHeader
from archive_analyzer.probe.facts import Facts
from archive_analyzer.probe.result import AudioInfo, ProbeStatus, VideoInfo

PTS_WRAP = 1 << 33
CLOCK = 90_000
_SNIFF_BYTES = 8 * 1024  # payload kept per PES for header sniffing
_RATE_SAMPLES = 12  # video PTS kept to estimate a frame rate without timing info
_TIMED = ("video", "audio")  # streams whose timestamps make the duration


@dataclass(slots=True)
class Stream:
    """One elementary stream as the head / tail walk found it."""

    key: int  # PID (TS) or stream id (PS)
    kind: str  # "video" | "audio" | "subtitle" | "data" | "probe" (codec from the payload)
    codec: str | None
    language: str | None = None
    first_pts: int | None = None
    last_pts: int | None = None  # furthest PTS seen, unwrapped relative to first_pts
    video: VideoHeader | None = None
    audio: AudioHeader | None = None
    pts_seen: list[int] = field(default_factory=list)
    pes_seen: int = 0
    vps_rate: float | None = None
    guess_codec: bool = False  # PS video: the codec is known only from the payload
    timecode: str | None = None  # MPEG-1/2: the first GOP header's time code

    @property
    def done(self) -> bool:
        """True once the head has given everything this stream can tell."""
        if self.kind in ("subtitle", "data"):
            return True  # sparse streams: their facts are in the tables already
        if self.first_pts is None:
            return False
        if self.kind == "video":
            if self.video is None:
                return self.pes_seen > 64  # give up on the size after many frames
            return self.video.frame_rate is not None or len(self.pts_seen) >= _RATE_SAMPLES
        if self.kind == "audio":
            return self.audio is not None or self.pes_seen > 16
        if self.kind == "probe":
            return self.pes_seen > 4
        return True


def pes_header(data: bytes) -> tuple[int, int | None, int] | None:
    """Parse a PES header at the start of ``data``: (stream id, PTS or None, payload offset).

    Handles MPEG-2 PES headers and MPEG-1 (program stream) ones; None when ``data`` does not
    start with a PES start code.
    """
    if len(data) < 9 or data[0:3] != b"\x00\x00\x01":
        return None
    stream_id = data[3]
    if stream_id in (0xBC, 0xBE, 0xBF, 0xF0, 0xF1, 0xF2, 0xF8, 0xFF):
        return stream_id, None, 6
    if data[6] & 0xC0 == 0x80:  # MPEG-2
        header_len = data[8]
        pts = _pts(data[9:14]) if data[7] & 0x80 and len(data) >= 14 else None
        return stream_id, pts, 9 + header_len
    pos = 6  # MPEG-1: stuffing, optional STD buffer, then PTS/DTS flags
    while pos < len(data) and data[pos] == 0xFF and pos < 6 + 16:
        pos += 1
    if pos < len(data) and data[pos] & 0xC0 == 0x40:
        pos += 2
    if pos >= len(data):
        return None
    marker = data[pos] >> 4
    if marker in (0x2, 0x3) and pos + 5 <= len(data):
        pts = _pts(data[pos : pos + 5])
        return stream_id, pts, pos + (5 if marker == 0x2 else 10)
    if data[pos] == 0x0F:
        return stream_id, None, pos + 1
    return None


def _pts(b: bytes) -> int | None:
    if len(b) < 5 or not b[0] & 1 or not b[2] & 1 or not b[4] & 1:
        return None  # marker bits must be set
    return ((b[0] >> 1) & 0x07) << 30 | b[1] << 22 | (b[2] >> 1) << 15 | b[3] << 7 | b[4] >> 1


def note_pts(stream: Stream, pts: int) -> None:
    """Record a head PTS (first one, and a few for a frame-rate estimate)."""
    if stream.first_pts is None:
        stream.first_pts = pts
    if stream.kind == "video" and len(stream.pts_seen) < _RATE_SAMPLES:
        stream.pts_seen.append(pts)


def note_tail_pts(stream: Stream, pts: int) -> None:
    """Record a tail PTS, unwrapped so it is never before the stream's first PTS."""
    if stream.first_pts is None:
        return
    unwrapped = stream.first_pts + (pts - stream.first_pts) % PTS_WRAP
    if stream.last_pts is None or unwrapped > stream.last_pts:
        stream.last_pts = unwrapped


def sniff(stream: Stream, payload: bytes) -> None:
    """Look for codec headers at the start of a whole PES payload (counts the PES)."""
    stream.pes_seen += 1
    _look(stream, payload, partial=False)


def peek(stream: Stream, payload: bytes) -> None:
    """Look for codec headers in the start of a PES payload, possibly still incomplete.

    Headers sit at the very start of a payload, so a stream's facts are known after its first
    packet or two instead of at its next PES (which, for audio between large video frames,
    can be a megabyte further on). A header cut short fails to parse and is tried again.
    """
    _look(stream, payload, partial=True)


def _look(stream: Stream, payload: bytes, *, partial: bool) -> None:
    chunk = payload[:_SNIFF_BYTES]
    if stream.kind == "video" and stream.video is None:
        stream.video = _video_header(stream, chunk, partial=partial)
        if stream.video is not None and stream.video.codec in ("mpeg1video", "mpeg2video"):
            stream.timecode = elementary.mpeg2_gop_timecode(chunk, stream.video.frame_rate)
    elif stream.kind == "audio" and stream.audio is None:
        stream.audio = _audio_header(stream.codec, chunk, partial=partial)
    elif stream.kind == "probe":
        # a private stream without a telling descriptor: libavformat probes the payload
        found = (
            elementary.adts(chunk[:7])
            or (elementary.ac3(chunk[:8]) if chunk[:2] == b"\x0b\x77" else None)
            or elementary.mpeg_audio(chunk[:4])
        )
        if found is not None:
            stream.kind, stream.codec = "audio", found.codec
            stream.audio = _audio_header(found.codec, chunk, partial=partial)


def _video_header(stream: Stream, chunk: bytes, *, partial: bool) -> VideoHeader | None:
    codec = stream.codec
    if codec in ("mpeg2video", "mpeg1video"):
        found_mpeg = elementary.mpeg2_sequence(chunk)
        if (
            partial
            and found_mpeg is not None
            and found_mpeg.codec == "mpeg2video"
            and found_mpeg.field_order is None
        ):
            return None  # interlaced: the first picture's extension may be in the next packet
        if found_mpeg is not None or not stream.guess_codec:
            return found_mpeg
        codec = "h264"  # a program stream's video id says nothing about the codec
    if codec == "h264":
        nals = elementary.nal_units(chunk)
        for nal in nals:
            sps = h264.parse_sps(nal, vui=True)
            if sps is None:
                continue
            header = VideoHeader(
                "h264",
                sps.width,
                sps.height,
                sps.frame_rate,
                sps.profile,
                sps.pix_fmt,
                sps.field_order,
            )
            if header.field_order is None:  # may be interlaced: the first picture tells
                order = h264.field_order(nals)
                if order is None and partial:
                    return None  # its slice header may be in the next packet
                header = replace(header, field_order=order)
            return header
    if codec == "hevc":
        for nal in elementary.nal_units(chunk):
            rate = elementary.hevc_vps_rate(nal)
            if rate is not None:
                stream.vps_rate = rate
            found = elementary.hevc_sps(nal)
            if found is not None:
                return replace(found, frame_rate=stream.vps_rate)
    return None


def _audio_header(codec: str | None, chunk: bytes, *, partial: bool) -> AudioHeader | None:
    if codec == "aac":
        return elementary.adts(chunk, partial=partial)
    if codec == "aac_latm":
        return elementary.latm(chunk)
    if codec in ("mp1", "mp2", "mp3"):
        return elementary.mpeg_audio(chunk)
    if codec in ("ac3", "eac3"):
        return elementary.ac3(chunk)
    return None


def timing(streams: list[Stream]) -> tuple[float | None, float | None]:
    """(start seconds, duration seconds) from the streams' first and last PTS.

    As libavformat does: the earliest first PTS to the latest last PTS plus one video frame.
    """
    starts = [s.first_pts for s in streams if s.first_pts is not None and s.kind in _TIMED]
    if not starts:
        return None, None
    start = min(starts)
    end: float | None = None
    for s in streams:
        if s.last_pts is None or s.kind not in _TIMED:
            continue
        last = float(s.last_pts)
        rate = frame_rate(s)
        if s.kind == "video" and rate:
            last += CLOCK / rate
        end = last if end is None else max(end, last)
    if end is None or end <= start:
        return start / CLOCK, None
    return start / CLOCK, (end - start) / CLOCK


def frame_rate(stream: Stream) -> float | None:
    """The stream's frame rate: from its parameter set, else from its PTS spacing."""
    if stream.video is not None and stream.video.frame_rate:
        return stream.video.frame_rate
    seen = sorted(set(stream.pts_seen))
    steps = sorted(b - a for a, b in itertools.pairwise(seen) if 0 < b - a < CLOCK)
    if len(steps) < 2:
        return None
    return CLOCK / steps[len(steps) // 2]


def facts(
    container: str,
    long_name: str,
    streams: list[Stream],
    *,
    status: ProbeStatus = ProbeStatus.OK,
) -> Facts:
    """Assemble Facts from the streams (in the order ffprobe lists them)."""
    _, duration = timing(streams)
    video: VideoInfo | None = None
    audio: list[AudioInfo] = []
    subtitles = 0
    timecode: str | None = None
    for s in streams:
        if s.kind == "video" and video is None:
            timecode = s.timecode
            codec = s.video.codec if s.video is not None else s.codec
            video = VideoInfo(
                codec=codec,
                profile=s.video.profile if s.video is not None else None,
                width=s.video.width if s.video is not None else None,
                height=s.video.height if s.video is not None else None,
                frame_rate=frame_rate(s),
                pix_fmt=s.video.pix_fmt if s.video is not None else None,
                field_order=s.video.field_order if s.video is not None else None,
            )
        elif s.kind == "audio":
            head = s.audio
            audio.append(
                AudioInfo(
                    codec=head.codec if head is not None else s.codec,
                    channels=head.channels if head is not None else None,
                    sample_rate=head.sample_rate if head is not None else None,
                    language=s.language,
                )
            )
        elif s.kind == "subtitle":
            subtitles += 1
    return Facts(
        container=container,
        format_long_name=long_name,
        status=status,
        duration_s=duration,
        video=video,
        audio=tuple(audio),
        subtitle_count=subtitles,
        timecode=timecode,
    )
