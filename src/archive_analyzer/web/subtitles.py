"""Subtitles as WebVTT: ffmpeg command lines and text decoding (pure apart from ``convert``).

* Embedded text streams (``0:s:N``): one ffmpeg run extracts the stream to WebVTT (teletext
  decoded as text by libzvbi). In MP4 the timed-text samples are indexed, so ffmpeg reads
  only them; in Matroska and MPEG-TS they are interleaved with the media and the run reads
  the whole file (docs/playback.md).
* Sidecar files (``NAME.srt``, ``NAME.ko.srt``, ``NAME.en.vtt``, ``.ass``): read whole
  through the Source (capped), decoded (UTF-8, else CP949, the Korean Windows code page most
  Korean SRT files use, else Latin-1) and converted by ffmpeg from stdin to WebVTT.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from archive_analyzer.web.transcode import TranscodeFailed

MAX_SIDECAR_BYTES = 8 * 1024 * 1024
_FFMPEG_FORMATS = {"srt": "srt", "vtt": "webvtt", "ass": "ass"}


def extract_args(
    source: str, output: str, index: int, codec: str, input_options: Sequence[str] = ()
) -> list[str]:
    """ffmpeg writing subtitle stream ``index`` of ``source`` as WebVTT to ``output``."""
    decoder = ["-txt_format", "text"] if codec == "dvb_teletext" else []
    return [
        *("ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *input_options),
        *decoder,
        *("-i", source, "-map", f"0:s:{index}", "-c:s", "webvtt", "-f", "webvtt", output),
    ]


def decode_text(data: bytes) -> str:
    """Subtitle file bytes as text: UTF-8 (with or without BOM, or UTF-16 with BOM), else
    CP949, else Latin-1 (which never fails)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


async def convert(text: str, fmt: str, ffmpeg: str = "ffmpeg", timeout_s: float = 30.0) -> bytes:
    """``text`` of format ``fmt`` (srt, vtt, ass) as WebVTT bytes, converted by ffmpeg."""
    args = [
        *(ffmpeg, "-nostdin", "-hide_banner", "-v", "error"),
        *("-f", _FFMPEG_FORMATS[fmt], "-i", "pipe:0", "-c:s", "webvtt", "-f", "webvtt", "pipe:1"),
    ]
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(text.encode("utf-8")), timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise TranscodeFailed(f"subtitle conversion timed out after {timeout_s:.0f} s") from None
    if proc.returncode != 0 or not out.startswith(b"WEBVTT"):
        last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise TranscodeFailed(f"subtitle conversion failed: {last[0][:300]}")
    return out
