"""What the browser says it plays, and whether a file can go to it as it is (direct play).

The player script asks the browser (``HTMLMediaElement.canPlayType`` for files,
``MediaSource.isTypeSupported`` for hls.js, ``canPlayType`` of the HLS MIME type for native
HLS) and reports what it found as tokens: ``<container>.<codec>`` for what a ``<video>``
plays from a file (``webm.vp9``, ``mp4.h264``, ``mp4.aac``), plus ``mse`` and ``hls``. They
travel in the ``aa_caps`` cookie (set by the script) or the ``caps`` query parameter of the
API (which wins). ``direct`` decides from the probed facts and those tokens alone; nothing
here is a fixed list of browsers. Without a report the baseline is what every browser with
``<video>`` plays: H.264 8-bit 4:2:0 and AAC/MP3 in MP4.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

COOKIE = "aa_caps"
QUERY = "caps"

# Everything the script may report (anything else is ignored: the value is user input).
CONTAINERS = ("mp4", "webm", "mkv")
VIDEO_CODECS = ("h264", "hevc", "hevc_10", "vp8", "vp9", "vp9_10", "av1", "av1_10")
AUDIO_CODECS = ("aac", "mp3", "opus", "vorbis", "flac", "ac3", "eac3")
FLAGS = ("mse", "hls")
KNOWN = frozenset(
    {f"{c}.{v}" for c in CONTAINERS for v in (*VIDEO_CODECS, *AUDIO_CODECS)} | set(FLAGS)
)
BASELINE = frozenset({"mp4.h264", "mp4.aac", "mp4.mp3"})
_TOKEN = re.compile(r"^[a-z0-9_.]{2,16}$")

# ffprobe's container names -> our container family
_FAMILIES = {"mov": "mp4", "mp4": "mp4", "m4a": "mp4", "3gp": "mp4", "matroska": "mkv"}
# H.264 that every decoder a browser ships takes: 8-bit 4:2:0 (not 4:2:2 / 10-bit XAVC, AVC-Intra)
_H264_PIX_FMTS = frozenset({None, "", "yuv420p", "yuvj420p", "nv12"})
# Embedded subtitles that a direct file can offer: MP4 timed text is indexed per sample, so
# ffmpeg extracts it reading only its samples; anywhere else it is interleaved with the media
# and extracting it reads the whole file (such files play through HLS; docs/playback.md).
_DIRECT_SUBTITLES = frozenset({"mov_text"})


@dataclass(frozen=True, slots=True)
class Capabilities:
    """The tokens a browser reported (``reported`` False: none came, the baseline is used)."""

    tokens: frozenset[str]
    reported: bool = True

    @classmethod
    def parse(cls, text: str | None) -> Capabilities:
        """From the cookie or query value: tokens separated by commas, unknown ones dropped."""
        if not text:
            return cls(BASELINE, reported=False)
        text = unquote(text[:4000])  # the cookie is percent-encoded by the script
        found = {t for t in text[:2000].lower().split(",") if _TOKEN.match(t) and t in KNOWN}
        return cls(frozenset(found))

    def encode(self) -> str:
        return ",".join(sorted(self.tokens))

    def plays(self, token: str) -> bool:
        return token in self.tokens

    @property
    def native_hls(self) -> bool:
        return "hls" in self.tokens and "mse" not in self.tokens


def family(container: str | None) -> str | None:
    """``mp4``, ``webm`` or ``mkv`` for ffprobe's ``format_name`` (None for other containers).

    Matroska and WebM share ``matroska,webm``: the file's extension tells them apart.
    """
    parts = (container or "").lower().split(",")
    for part in parts:
        if part in _FAMILIES:
            return _FAMILIES[part]
    return None


def video_token(codec: str | None, pix_fmt: str | None) -> str | None:
    """``h264``, ``vp9_10``... for a probed video stream (None: no browser decodes it)."""
    if codec == "h264":
        return "h264" if pix_fmt in _H264_PIX_FMTS else None
    if codec in ("hevc", "vp9", "av1"):
        if pix_fmt and "10" in pix_fmt:
            return f"{codec}_10" if "420" in pix_fmt else None
        return codec if pix_fmt in _H264_PIX_FMTS else None
    if codec == "vp8":
        return "vp8"
    return None


def direct(
    caps: Capabilities,
    *,
    container: str | None,
    ext: str,
    video_codec: str | None,
    pix_fmt: str | None,
    audio_codecs: Iterable[str | None],
    subtitle_codecs: Iterable[str | None] = (),
) -> bool:
    """Whether the browser plays the file as it is (``/stream``, HTTP ranges).

    Every stream must be playable in that container: the video, and the audio when there is
    exactly one track (several tracks go through HLS, where the player can choose one; a
    ``<video>`` plays only the first), and embedded subtitles must be extractable cheaply.
    """
    fam = family(container)
    if fam == "mkv" and ext.lower() == "webm":
        fam = "webm"
    if fam is None:
        return False
    vtoken = video_token(video_codec, pix_fmt)
    if vtoken is None or not caps.plays(f"{fam}.{vtoken}"):
        return False
    audio = list(audio_codecs)
    if len(audio) > 1:
        return False
    if audio and not caps.plays(f"{fam}.{audio[0]}"):
        return False
    return all(codec in _DIRECT_SUBTITLES for codec in subtitle_codecs)
