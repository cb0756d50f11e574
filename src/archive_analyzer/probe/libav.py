"""The fallback: libavformat (PyAV) over the same counting, seekable reader.

Used when no parser of ours claims the container or a parser gave up. PyAV opens a file-like
view of the reader, so every byte libavformat asks for counts against the file's budget and
deadline; ``BudgetExceeded`` / ``ProbeTimeout`` raised inside a read propagate out.
"""

from __future__ import annotations

import logging
from typing import Any

import av

from archive_analyzer.errors import BudgetExceeded, ParseError, ProbeTimeout, SourceError
from archive_analyzer.probe.facts import Facts
from archive_analyzer.probe.reader import CountingReader, ReaderFile
from archive_analyzer.probe.result import AudioInfo, VideoInfo

log = logging.getLogger(__name__)

# libavformat "detects" these in arbitrary bytes; none of them is a video archive's file.
_NOT_MEDIA = frozenset({"bin", "tty", "data", "txt", "ass", "srt", "webvtt", "mpjpeg"})
_PROBE_OPTIONS = {"probesize": "5000000", "analyzeduration": "5000000"}
_IO_BUFFER = 32 * 1024


def parse(reader: CountingReader) -> Facts:
    """Facts from libavformat. Raises ``ParseError`` when it finds no audio/video media."""
    view = ReaderFile(reader)
    try:
        container = av.open(view, mode="r", options=_PROBE_OPTIONS, buffer_size=_IO_BUFFER)
    except (BudgetExceeded, ProbeTimeout, SourceError):
        raise
    except Exception as exc:  # PyAV's FFmpegError family and friends
        if view.failure is not None:
            raise view.failure from exc
        _reraise_from_read(exc)
        raise ParseError(f"libavformat could not open the file: {exc}") from exc
    try:
        if view.failure is not None:
            raise view.failure  # libavformat carried on after our read failed: do not trust it
        return _facts(container)
    finally:
        container.close()


def decoded_audio(codec: str, frame: bytes) -> tuple[int, int] | None:
    """(sample rate, channels) that libavcodec's decoder reports after decoding ``frame``.

    For what a header cannot tell: an ADTS header names the AAC core only, and the decoder
    switches to HE-AAC (twice the rate; a mono core with parametric stereo is two channels)
    when it meets implicitly signalled SBR data in the frame, which is what ffprobe reports.
    None when the frame does not decode. About half a millisecond for an AAC frame.
    """
    try:
        context: Any = av.CodecContext.create(codec, "r")  # an audio decoder for audio codecs
        for decoded in context.decode(av.Packet(frame)):
            return int(decoded.sample_rate), len(decoded.layout.channels)
    except (av.error.FFmpegError, ValueError):
        return None
    return None


def _reraise_from_read(exc: BaseException) -> None:
    """PyAV may wrap an exception raised in our read callback; surface ours."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, BudgetExceeded | ProbeTimeout | SourceError):
            raise cause
        cause = cause.__cause__ or cause.__context__


def _facts(container: Any) -> Facts:
    name = container.format.name
    if name in _NOT_MEDIA:
        raise ParseError(f"not a media file (libavformat guessed {name!r})")
    video: VideoInfo | None = None
    audio: list[AudioInfo] = []
    subtitles = 0
    for stream in container.streams:
        kind = stream.type
        ctx = stream.codec_context
        if kind == "video" and video is None and not _attached_picture(stream):
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            fmt = getattr(ctx, "format", None)
            video = VideoInfo(
                codec=_codec_name(ctx),
                profile=ctx.profile,
                width=ctx.width or None,
                height=ctx.height or None,
                frame_rate=float(rate) if rate else None,
                pix_fmt=fmt.name if fmt is not None else None,
            )
        elif kind == "audio":
            layout = getattr(ctx, "layout", None)
            channels = getattr(layout, "nb_channels", None) or getattr(ctx, "channels", None)
            audio.append(
                AudioInfo(
                    codec=_codec_name(ctx),
                    channels=channels or None,
                    sample_rate=ctx.sample_rate or None,
                    language=stream.metadata.get("language"),
                )
            )
        elif kind == "subtitle":
            subtitles += 1
    if video is None and not audio:
        raise ParseError(f"no audio or video streams (libavformat format {name!r})")
    duration = container.duration / 1_000_000 if container.duration else None
    return Facts(
        container=name,
        format_long_name=container.format.long_name,
        duration_s=duration,
        video=video,
        audio=tuple(audio),
        subtitle_count=subtitles,
        creation_time=container.metadata.get("creation_time"),
        timecode=_timecode_tag(container),
    )


def _timecode_tag(container: Any) -> str | None:
    """libavformat's start timecode tag, in ffprobe's order (see ``ffprobe.timecode_tag``)."""
    streams = list(container.streams)
    video = [s for s in streams if s.type == "video"][:1]
    every = [container.metadata, *(s.metadata for s in video), *(s.metadata for s in streams)]
    for metadata in every:
        for key, value in metadata.items():
            if key.casefold() == "timecode" and value:
                return str(value)
    return None


def _codec_name(ctx: Any) -> str | None:
    """ffprobe's codec name (the codec id's), not the decoder's (``mp3float``)."""
    codec = getattr(ctx, "codec", None)
    name = getattr(codec, "canonical_name", None) or getattr(ctx, "name", None)
    return str(name) if name else None


def _attached_picture(stream: Any) -> bool:
    disposition = getattr(stream, "disposition", None)
    try:
        return bool(disposition is not None and int(disposition) & 0x400)
    except (TypeError, ValueError):
        return False
