"""HLS on demand: how a catalogued video plays, its VOD playlist and each segment's ffmpeg call.

Pure planning (values in, values out): ``plan`` decides between direct play, remux and
transcode from the probed facts; ``playlist`` writes a complete VOD playlist from the duration
alone, so a player can seek anywhere before any segment exists; ``segment_args`` is the ffmpeg
command line for segment N, cut with an input seek (``-ss`` before ``-i``) so segment N never
waits for the segments before it. Running ffmpeg, caching and limits live in ``transcode.py``.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from archive_analyzer.catalog.read import MediaInfo

# Browsers decode H.264 in 8-bit 4:2:0 only; 4:2:2 / 10-bit H.264 (XAVC, AVC-Intra) transcodes.
_BROWSER_PIX_FMTS = frozenset({None, "", "yuv420p", "yuvj420p", "nv12"})
_DIRECT_CONTAINERS = ("mp4", "mov", "m4v", "3gp")
_BROWSER_AUDIO = frozenset({"aac"})


class Mode(enum.Enum):
    """How a file reaches the browser."""

    DIRECT = "direct"  # the file's bytes as they are (/stream, HTTP ranges)
    REMUX = "remux"  # H.264 copied into MPEG-TS segments; audio made AAC
    TRANSCODE = "transcode"  # video re-encoded to H.264, audio to AAC


@dataclass(frozen=True, slots=True)
class Plan:
    """The decision for one file: mode, and what the segments do with each stream."""

    mode: Mode
    copy_video: bool
    copy_audio: bool
    has_audio: bool
    input_options: tuple[str, ...] = ()


def plan(facts: MediaInfo) -> Plan:
    """Direct play for browser-playable MP4/MOV, remux for other H.264, else transcode."""
    has_audio = bool(facts.audio_codecs)
    copy_audio = has_audio and facts.audio_codecs[0] in _BROWSER_AUDIO
    h264 = facts.video_codec == "h264" and facts.pix_fmt in _BROWSER_PIX_FMTS
    container = (facts.container or "").lower()
    direct_container = any(part in _DIRECT_CONTAINERS for part in container.split(","))
    opts = tuple(input_options(container))
    if facts.browser_playable or (h264 and direct_container and (copy_audio or not has_audio)):
        return Plan(Mode.DIRECT, True, copy_audio, has_audio, opts)
    if h264:
        return Plan(Mode.REMUX, True, copy_audio, has_audio, opts)
    return Plan(Mode.TRANSCODE, False, False, has_audio, opts)


def hls_plan(facts: MediaInfo) -> Plan:
    """The plan for HLS segments: like ``plan`` but never DIRECT (direct files remux)."""
    chosen = plan(facts)
    if chosen.mode is Mode.DIRECT:
        return Plan(Mode.REMUX, True, chosen.copy_audio, chosen.has_audio, chosen.input_options)
    return chosen


def input_options(container: str | None) -> list[str]:
    """Demuxer options placed before ``-i`` for a container (ffmpeg's ``format_name``).

    Fragmented MP4: seek with the ``mfra`` index at the end of the file instead of walking
    every fragment from the start (measured: 0.3 MB instead of 30 MB read for a 2-hour file).
    """
    if container and any(part in ("mov", "mp4") for part in container.split(",")):
        return ["-use_mfra_for", "pts"]
    return []


def segment_count(duration_s: float, segment_s: float) -> int:
    """How many segments cover ``duration_s`` (at least one); see ``segment_span``."""
    first, second = segment_s / 3, segment_s
    if duration_s <= first + 1e-6:
        return 1
    if duration_s <= second + 1e-6:
        return 2
    return 2 + math.ceil((duration_s - second) / segment_s - 1e-6)


def segment_span(n: int, duration_s: float, segment_s: float) -> tuple[float, float]:
    """(start, length) in seconds of segment ``n``.

    The first two segments are a third and two thirds of ``segment_s`` (2 s and 4 s for 6 s),
    then every segment is ``segment_s``: a transcoded start is ready three times sooner, and
    every boundary still follows from the duration alone. The last one is shorter.
    """
    if n == 0:
        start, length = 0.0, segment_s / 3
    elif n == 1:
        start, length = segment_s / 3, segment_s * 2 / 3
    else:
        start, length = (n - 1) * segment_s, segment_s
    return start, max(0.0, min(length, duration_s - start))


def segment_at(position_s: float, segment_s: float) -> int:
    """The segment holding ``position_s``."""
    if position_s < segment_s / 3:
        return 0
    if position_s < segment_s:
        return 1
    return 1 + int(position_s // segment_s)


def playlist(duration_s: float, segment_s: float, uri: str = "{n}.ts") -> str:
    """A complete VOD playlist (``#EXT-X-ENDLIST``): every segment listed up front.

    ``uri`` is formatted with ``n`` for each segment's URI.
    """
    count = segment_count(duration_s, segment_s)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{math.ceil(segment_s)}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
    ]
    for n in range(count):
        _, length = segment_span(n, duration_s, segment_s)
        lines.append(f"#EXTINF:{length:.3f},")
        lines.append(uri.format(n=n))
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class Encoding:
    """Transcode parameters (from settings)."""

    max_height: int = 720
    preset: str = "veryfast"
    crf: int = 23
    audio_bitrate: str = "128k"


def segment_args(
    source: str,
    output: str,
    chosen: Plan,
    n: int,
    duration_s: float,
    segment_s: float,
    encoding: Encoding = Encoding(),
    ffmpeg: str = "ffmpeg",
) -> list[str]:
    """The ffmpeg command writing segment ``n`` of ``source`` (a path or URL) to ``output``.

    The input seek lands at (remux: the key frame before) ``n * segment_s``; the output keeps
    the source timeline (``-output_ts_offset``), so segments made by separate processes line
    up in the player. Transcoded segments start with a key frame exactly at their start.
    """
    start, length = segment_span(n, duration_s, segment_s)
    if chosen.copy_video and start > 0:
        # Stream copy starts at a key frame, and MPEG-TS seeks by time, not key frame: cut at
        # the start, segment N would begin at the next key frame, a hole of up to a GOP. Start
        # up to half a segment earlier instead: an overlap the player replaces seamlessly.
        lead = min(start, segment_s / 2)
        start, length = start - lead, length + lead
    args = [ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y", *chosen.input_options]
    if start > 0:
        args += ["-ss", f"{start:.3f}"]
    args += ["-i", source, "-t", f"{length:.3f}", "-map", "0:v:0", "-map", "0:a:0?", "-sn", "-dn"]
    if chosen.copy_video:
        args += ["-c:v", "copy"]
    else:
        scale = f"scale=-2:'min({encoding.max_height},ih)':flags=fast_bilinear"
        args += [
            "-vf",
            f"yadif=deint=interlaced,{scale}",
            "-c:v",
            "libx264",
            "-preset",
            encoding.preset,
            "-crf",
            str(encoding.crf),
            "-pix_fmt",
            "yuv420p",
            "-profile:v",
            "high",
            "-force_key_frames",
            "expr:eq(n,0)",
        ]
    if chosen.has_audio:
        if chosen.copy_audio:
            args += ["-c:a", "copy"]
        else:
            args += ["-c:a", "aac", "-b:a", encoding.audio_bitrate, "-ac", "2", "-ar", "48000"]
    args += ["-output_ts_offset", f"{start:.3f}", "-f", "mpegts", output]
    return args
