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
from dataclasses import dataclass, field

from archive_analyzer.catalog.media import MediaInfo
from archive_analyzer.web import capabilities, tracks
from archive_analyzer.web.capabilities import Capabilities

# Browsers decode H.264 in 8-bit 4:2:0 only; 4:2:2 / 10-bit H.264 (XAVC, AVC-Intra) transcodes.
_BROWSER_PIX_FMTS = frozenset({None, "", "yuv420p", "yuvj420p", "nv12"})
_BROWSER_AUDIO = frozenset({"aac"})


class Mode(enum.Enum):
    """How a file reaches the browser."""

    DIRECT = "direct"  # the file's bytes as they are (/stream, HTTP ranges)
    REMUX = "remux"  # H.264 copied into MPEG-TS segments; audio made AAC
    TRANSCODE = "transcode"  # video re-encoded to H.264, audio to AAC


@dataclass(frozen=True, slots=True)
class Plan:
    """The decision for one file: mode, and what the segments do with each stream.

    ``audio`` lists the audio options; with more than one (``separate_audio``) HLS has a
    master playlist with video-only segments and one audio rendition per option.
    """

    mode: Mode
    copy_video: bool
    copy_audio: bool
    has_audio: bool
    input_options: tuple[str, ...] = ()
    audio: tuple[tracks.AudioOption, ...] = field(default_factory=tuple)

    @property
    def separate_audio(self) -> bool:
        return len(self.audio) > 1


def audio_streams(facts: MediaInfo) -> tuple[tracks.AudioStream, ...]:
    """The file's audio streams as the track rules see them."""
    return tuple(tracks.AudioStream(a.codec or None, a.channels, a.language) for a in facts.audio)


def plan(facts: MediaInfo, caps: Capabilities | None = None, *, file_name: str = "") -> Plan:
    """Direct play when the browser plays every stream as it is (``capabilities.direct``),
    remux for other H.264 8-bit 4:2:0, else transcode. ``file_name`` (the played file's name)
    gives the extension and, for untagged two-language broadcasts, the track languages.

    Without ``caps`` the baseline (H.264/AAC in MP4, every browser) decides.
    """
    caps = caps or Capabilities.parse(None)
    options = tuple(tracks.audio_options(audio_streams(facts), file_name))
    has_audio = bool(options)
    single = options[0] if len(options) == 1 else None
    copy_audio = (
        single is not None
        and len(single.streams) == 1
        and facts.audio_codecs[single.streams[0]] in _BROWSER_AUDIO
    )
    h264 = facts.video_codec == "h264" and facts.pix_fmt in _BROWSER_PIX_FMTS
    opts = tuple(input_options(facts.container))
    playable = capabilities.direct(
        caps,
        container=facts.container,
        ext=file_name.rsplit(".", 1)[-1].lower() if "." in file_name else "",
        video_codec=facts.video_codec,
        pix_fmt=facts.pix_fmt,
        audio_codecs=facts.audio_codecs,
        subtitle_codecs=[track.codec for track in facts.subtitles],
    )
    if playable:
        return Plan(Mode.DIRECT, True, copy_audio, has_audio, opts, options)
    if h264:
        return Plan(Mode.REMUX, True, copy_audio, has_audio, opts, options)
    return Plan(Mode.TRANSCODE, False, False, has_audio, opts, options)


def hls_plan(facts: MediaInfo, *, file_name: str = "") -> Plan:
    """The plan for HLS segments: like ``plan`` but never DIRECT (direct files remux).

    It does not depend on the browser: segments are the same for every viewer (one cache).
    """
    chosen = plan(facts, file_name=file_name)
    if chosen.mode is Mode.DIRECT:
        return Plan(
            Mode.REMUX,
            True,
            chosen.copy_audio,
            chosen.has_audio,
            chosen.input_options,
            chosen.audio,
        )
    return chosen


def input_options(container: str | None) -> list[str]:
    """Demuxer options placed before ``-i`` for a container (ffmpeg's ``format_name``).

    Fragmented MP4: seek with the ``mfra`` index at the end of the file instead of walking
    every fragment from the start (measured: 0.3 MB instead of 30 MB read for a 2-hour file).
    """
    if container and any(part in ("mov", "mp4") for part in container.split(",")):
        return ["-use_mfra_for", "pts"]
    return []


# The first segments ramp up to the full length (1/6, 1/3 and 1/2 of ``segment_s``: 1 s, 2 s
# and 3 s for 6 s): a cold transcode has its first frame after one second of media is made,
# and each ramp segment is ready before the one before it has played out.
RAMP: tuple[float, ...] = (1 / 6, 1 / 3, 1 / 2)
_RAMP_ENDS: tuple[float, ...] = tuple(sum(RAMP[: k + 1]) for k in range(len(RAMP)))  # 1/6, 1/2, 1


def segment_count(duration_s: float, segment_s: float) -> int:
    """How many segments cover ``duration_s`` (at least one); see ``segment_span``."""
    for k, end in enumerate(_RAMP_ENDS):
        if duration_s <= end * segment_s + 1e-6:
            return k + 1
    return len(RAMP) + math.ceil((duration_s - segment_s) / segment_s - 1e-6)


def segment_span(n: int, duration_s: float, segment_s: float) -> tuple[float, float]:
    """(start, length) in seconds of segment ``n``.

    The first ``len(RAMP)`` segments ramp up (``RAMP``) and end at ``segment_s``; then every
    segment is ``segment_s``, so every boundary still follows from the duration alone. The
    last one is shorter.
    """
    if n < len(RAMP):
        start, length = (_RAMP_ENDS[n] - RAMP[n]) * segment_s, RAMP[n] * segment_s
    else:
        start, length = (n - len(RAMP) + 1) * segment_s, segment_s
    return start, max(0.0, min(length, duration_s - start))


def segment_at(position_s: float, segment_s: float) -> int:
    """The segment holding ``position_s``."""
    for k, end in enumerate(_RAMP_ENDS):
        if position_s < end * segment_s:
            return k
    return len(RAMP) - 1 + int(position_s // segment_s)


def start_uris(position_s: float, segment_s: float, audio: int | None = None) -> list[str]:
    """The segment URIs a player starting at ``position_s`` asks for first: the muxed
    segment, or (``audio``: the chosen rendition of a master playlist) the video segment and
    that audio rendition's (the playlists' naming)."""
    n = segment_at(max(0.0, position_s), segment_s)
    return [f"{n}.ts"] if audio is None else [f"v{n}.ts", f"a{audio}-{n}.ts"]


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


def _quoted(value: str) -> str:
    # attribute values are quoted strings: no quotes or line breaks inside
    return '"' + value.replace('"', "'").replace("\n", " ").replace("\r", " ") + '"'


def master_playlist(
    options: tuple[tracks.AudioOption, ...], default: int, ui: str, height: int | None
) -> str:
    """A master playlist: video-only segments (``video.m3u8``) and every audio option as an
    alternate rendition (``EXT-X-MEDIA TYPE=AUDIO``, ``audio<k>.m3u8``), ``default`` first
    choice."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:4", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for option in options:
        attrs = [
            "TYPE=AUDIO",
            'GROUP-ID="audio"',
            f"NAME={_quoted(option.title(ui))}",
        ]
        if option.language:
            attrs.append(f"LANGUAGE={_quoted(option.language)}")
        attrs += [
            f"DEFAULT={'YES' if option.index == default else 'NO'}",
            "AUTOSELECT=YES",
            f'CHANNELS="{option.channels}"',
            f'URI="audio{option.index}.m3u8"',
        ]
        lines.append("#EXT-X-MEDIA:" + ",".join(attrs))
    rows = min(height or 720, 720)
    width = (rows * 16 // 9) // 2 * 2
    lines.append(
        '#EXT-X-STREAM-INF:BANDWIDTH=3000000,CODECS="avc1.64001f,mp4a.40.2",'
        f'RESOLUTION={width}x{rows},AUDIO="audio"'
    )
    lines.append("video.m3u8")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class Encoding:
    """Transcode parameters (from settings). ``start_preset`` encodes the ramp segments (the
    first ``len(RAMP)``): a cold start waits for the first one, and each must be made faster
    than the one before plays."""

    max_height: int = 720
    preset: str = "veryfast"
    crf: int = 23
    audio_bitrate: str = "128k"
    start_preset: str = "ultrafast"

    def preset_for(self, n: int) -> str:
        return self.start_preset if n < len(RAMP) else self.preset


# What one segment carries: video and the only audio ("av"), video only ("v"), or audio
# option k (an int).
Rendition = str | int
MUXED: Rendition = "av"
VIDEO: Rendition = "v"


def segment_args(
    source: str,
    output: str,
    chosen: Plan,
    n: int,
    duration_s: float,
    segment_s: float,
    encoding: Encoding = Encoding(),
    ffmpeg: str = "ffmpeg",
    rendition: Rendition = MUXED,
) -> list[str]:
    """The ffmpeg command writing segment ``n`` of ``source`` (a path or URL) to ``output``.

    The input seek lands at (remux: the key frame before) ``n * segment_s``; the output keeps
    the source timeline (``-output_ts_offset``), so segments made by separate processes line
    up in the player. Transcoded segments start with a key frame exactly at their start.
    Audio renditions are always encoded (AAC stereo): cut exactly, they need no overlap.
    """
    start, length = segment_span(n, duration_s, segment_s)
    with_video = rendition in (MUXED, VIDEO)
    if with_video and chosen.copy_video and start > 0:
        # Stream copy starts at a key frame, and MPEG-TS seeks by time, not key frame: cut at
        # the start, segment N would begin at the next key frame, a hole of up to a GOP. Start
        # up to half a segment earlier instead: an overlap the player replaces seamlessly.
        lead = min(start, segment_s / 2)
        start, length = start - lead, length + lead
    args = [ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y", *chosen.input_options]
    if start > 0:
        args += ["-ss", f"{start:.3f}"]
    args += ["-i", source, "-t", f"{length:.3f}"]
    if with_video:
        args += ["-map", "0:v:0"]
        if rendition == MUXED:
            args += ["-map", f"0:a:{chosen.audio[0].streams[0]}?" if chosen.audio else "0:a:0?"]
        args += ["-sn", "-dn"]
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
                encoding.preset_for(n),
                "-crf",
                str(encoding.crf),
                "-pix_fmt",
                "yuv420p",
                "-profile:v",
                "high",
                "-force_key_frames",
                "expr:eq(n,0)",
            ]
    aac = ["-c:a", "aac", "-b:a", encoding.audio_bitrate, "-ac", "2", "-ar", "48000"]
    if rendition == MUXED and chosen.has_audio:
        if chosen.copy_audio:
            args += ["-c:a", "copy"]
        else:
            if chosen.audio and len(chosen.audio[0].streams) == 2:
                first, second = chosen.audio[0].streams
                args = _paired(args, first, second, video=True)
            args += aac
    elif rendition == VIDEO:
        args += ["-an"]
    elif isinstance(rendition, int):
        option = chosen.audio[rendition]
        args += ["-vn", "-sn", "-dn"]
        if len(option.streams) == 2:
            args = _paired(args, *option.streams, video=False)
        else:
            args += ["-map", f"0:a:{option.streams[0]}"]
        args += aac
    args += ["-output_ts_offset", f"{start:.3f}", "-f", "mpegts", output]
    return args


def _paired(args: list[str], left: int, right: int, *, video: bool) -> list[str]:
    """Replace the audio map with two mono tracks merged into stereo (left, right)."""
    out = [a for a in args if not a.startswith("0:a:")]
    # drop the dangling "-map" left before a removed audio map
    cleaned: list[str] = []
    for i, a in enumerate(out):
        if a == "-map" and (i + 1 >= len(out) or out[i + 1].startswith("-")):
            continue
        cleaned.append(a)
    graph = f"[0:a:{left}][0:a:{right}]amerge=inputs=2[aout]"
    return [*cleaned, "-filter_complex", graph, "-map", "[aout]"]
