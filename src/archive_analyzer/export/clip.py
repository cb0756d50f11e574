"""Cutting a clip out of an original with ffmpeg: fast (stream copy) or exact (re-encode).

- **fast** (default): stream copy, original quality, seconds for any length. A copy can only
  start on a key frame, so the cut widens to the key frames around the range: in = the last
  key frame at or before the hand's start, out = the first key frame at or after its end (or
  the end of the file). Both are found with libavformat (PyAV): a seek to the start lands on
  the key frame before it (one small read in an indexed container; MPEG-TS is searched by
  its time stamps), and the end is the next key frame after a seek to the end (reading at most
  one GOP). Intra-only material (ProRes, DNxHD, every frame a key frame) cuts exactly. The
  result says the in and out it got.
- **exact**: re-encoded from the frame at the start to the frame before the end (ffmpeg's
  accurate input seeking): H.264 / AAC in MP4 by default, or a mezzanine codec
  (``prores`` -> ProRes 422 HQ / PCM, ``dnxhr`` -> DNxHR HQ / PCM, in MOV).

Times are seconds from the file's start (the player's clock): libavformat's time stamps are
taken relative to the container's start time, as ffmpeg's ``-ss`` is. Progress comes from
ffmpeg's ``-progress`` lines.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from archive_analyzer.errors import ExportError

log = logging.getLogger(__name__)

ExactCodec = Literal["h264", "prores", "dnxhr"]
EXACT_CODECS: tuple[ExactCodec, ...] = ("h264", "prores", "dnxhr")
# Containers a stream copy is written to: the source's own, where ffmpeg muxes what it reads.
_COPY_CONTAINERS = {"mp4", "mov", "m4v", "mkv", "webm", "mxf", "ts", "m2ts", "mts", "mpg", "avi"}
_INTRA = frozenset({"prores", "dnxhd", "mjpeg", "rawvideo", "v210", "ffv1", "jpeg2000", "dvvideo"})
_GOP_READ_CAP = 64 * 1024 * 1024  # bytes read looking for the key frame after the end

Progress = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class ClipOptions:
    """How exact clips are encoded, and the limit of one ffmpeg run."""

    exact_codec: ExactCodec = "h264"
    preset: str = "veryfast"
    crf: int = 18
    timeout_s: float = 6 * 3600.0


@dataclass(frozen=True, slots=True)
class ClipResult:
    """What was written: the real in and out (seconds from the file's start)."""

    path: Path
    real_in: float
    real_out: float
    exact: bool
    size: int

    @property
    def duration(self) -> float:
        return self.real_out - self.real_in


def extension(source_ext: str, exact: bool, options: ClipOptions) -> str:
    """The output file's extension for a clip of a file with ``source_ext``."""
    if exact:
        return "mp4" if options.exact_codec == "h264" else "mov"
    ext = source_ext.lower().lstrip(".")
    return ext if ext in _COPY_CONTAINERS else "mkv"


def key_frames(input_arg: str, start: float, end: float) -> tuple[float, float]:
    """(last key frame <= start, first key frame >= end or the file's end), in seconds from
    the file's start. A file without video cuts where asked."""
    import av

    try:
        container = av.open(input_arg, timeout=30)
    except (av.FFmpegError, OSError) as exc:
        raise ExportError(f"cannot open the original: {exc}") from exc
    try:
        if not container.streams.video:
            return start, end
        stream = container.streams.video[0]
        base = (container.start_time or 0) / 1_000_000
        length = (container.duration or 0) / 1_000_000
        if stream.codec_context.name in _INTRA:
            return start, end
        real_in = _key_before(container, stream, base, start)
        real_out = _key_after(container, stream, base, end, length)
        return real_in, max(real_out, min(end, length) if length else end)
    except av.FFmpegError as exc:
        raise ExportError(f"cannot read the original's key frames: {exc}") from exc
    finally:
        container.close()


def _key_before(container: Any, stream: Any, base: float, start: float) -> float:
    back = 0.0
    for _ in range(8):  # a seek can land after the wanted time in unindexed containers
        target = max(0.0, start - back)
        container.seek(int((base + target) / stream.time_base), stream=stream, backward=True)
        for packet in container.demux(stream):
            if packet.pts is None or not packet.is_keyframe:
                continue
            found = float(packet.pts * stream.time_base) - base
            if found <= start + 1e-6 or target == 0.0:
                return max(0.0, min(found, start))
            break
        if target == 0.0:
            return 0.0
        back = max(2.0, back * 4)
    return 0.0


def _key_after(container: Any, stream: Any, base: float, end: float, length: float) -> float:
    if length and end >= length:
        return length
    container.seek(int((base + end) / stream.time_base), stream=stream, backward=True)
    read = 0
    for packet in container.demux(stream):
        if packet.pts is None:
            continue
        read += packet.size
        at = float(packet.pts * stream.time_base) - base
        if packet.is_keyframe and at >= end - 1e-6:
            return at
        if read > _GOP_READ_CAP:
            break
    return length or end


def cut(
    input_arg: str,
    out: Path,
    start: float,
    end: float,
    *,
    exact: bool,
    options: ClipOptions,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    timecode_at: Callable[[float], str | None] | None = None,
) -> ClipResult:
    """Write the clip ``[start, end)`` of ``input_arg`` to ``out`` (its extension picks the
    container). ``timecode_at(seconds)`` gives the source timecode of a time, which the clip
    then starts at (editors see the original's timecode in the clip too). Raises
    ``ExportError`` with ffmpeg's last words when it fails."""
    if end <= start:
        raise ExportError(f"the range {start:.3f}-{end:.3f} s is empty")
    if exact:
        real_in, real_out = start, end
    else:
        real_in, real_out = key_frames(input_arg, start, end)
    label = timecode_at(real_in) if timecode_at is not None else None
    args = ffmpeg_args(
        input_arg, out, real_in, real_out, exact=exact, options=options, timecode=label
    )
    _run(args, real_out - real_in, options.timeout_s, progress, cancelled)
    if not out.exists() or out.stat().st_size == 0:
        raise ExportError("ffmpeg wrote no clip")
    return ClipResult(out, real_in, real_out, exact, out.stat().st_size)


def ffmpeg_args(
    input_arg: str,
    out: Path,
    real_in: float,
    real_out: float,
    *,
    exact: bool,
    options: ClipOptions,
    timecode: str | None = None,
) -> list[str]:
    """The ffmpeg command line of a cut (see the module doc)."""
    base = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-nostats", "-y"]
    base += ["-progress", "pipe:1", "-ss", f"{real_in:.6f}", "-i", input_arg]
    base += ["-t", f"{real_out - real_in:.6f}", "-map", "0:v:0?", "-map", "0:a?"]
    if timecode is not None:
        # MOV/MP4 and MXF write a timecode track from -timecode; others keep it as a tag
        muxed = out.suffix.lower() in (".mov", ".mp4", ".m4v", ".mxf")
        base += ["-timecode", timecode] if muxed else ["-metadata", f"timecode={timecode}"]
    if not exact:
        extra = ["-map", "0:s?"] if out.suffix.lower() in (".mkv", ".ts", ".m2ts") else []
        return [*base, *extra, "-c", "copy", "-avoid_negative_ts", "make_zero", str(out)]
    if options.exact_codec == "prores":
        video = ["-c:v", "prores_ks", "-profile:v", "3", "-pix_fmt", "yuv422p10le"]
        audio = ["-c:a", "pcm_s24le"]
    elif options.exact_codec == "dnxhr":
        video = ["-c:v", "dnxhd", "-profile:v", "dnxhr_hq", "-pix_fmt", "yuv422p"]
        audio = ["-c:a", "pcm_s16le"]
    else:
        video = ["-c:v", "libx264", "-preset", options.preset, "-crf", str(options.crf)]
        video += ["-pix_fmt", "yuv420p"]
        audio = ["-c:a", "aac", "-b:a", "192k", "-movflags", "+faststart"]
    return [*base, *video, *audio, str(out)]


def _run(
    args: list[str],
    duration: float,
    timeout_s: float,
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
) -> None:
    log.debug("clip: %s", " ".join(args))
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace"
    )
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.extend(proc.stderr or []), daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout_s
    try:
        for line in proc.stdout or []:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and value.isdigit() and progress and duration > 0:
                progress(min(1.0, int(value) / 1e6 / duration))
            if cancelled is not None and cancelled():
                proc.kill()
                raise ExportError("the export was stopped")
            if time.monotonic() > deadline:
                proc.kill()
                raise ExportError("ffmpeg timed out")
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        raise ExportError("ffmpeg timed out") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
    if code != 0:
        last = errors[-1].strip() if errors else f"exit status {code}"
        raise ExportError(f"ffmpeg could not cut the clip: {last}")
    if progress:
        progress(1.0)
