"""The probe result record: what the prober found in one file, stored in media_info."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class ProbeStatus(StrEnum):
    """Outcome of a probe. Only ``error`` means the probe itself failed (I/O)."""

    OK = "ok"
    TRUNCATED = "truncated"  # the container says it is longer than the file
    INCOMPLETE = "incomplete"  # open / growing: live MKV, open MXF, upload in progress
    INVALID = "invalid"  # not media, zero bytes
    UNSUPPORTED = "unsupported"  # media we cannot read
    ERROR = "error"  # I/O failed


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """The first video stream, with ffprobe's codec names and a float frame rate."""

    codec: str | None = None
    profile: str | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    pix_fmt: str | None = None
    field_order: str | None = None


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """One audio stream."""

    codec: str | None = None
    channels: int | None = None
    sample_rate: int | None = None
    language: str | None = None


# H.264 (and AAC or no audio) in MP4/MOV plays natively in every browser.
_BROWSER_VIDEO = frozenset({"h264"})
_BROWSER_AUDIO = frozenset({"aac", "mp3"})
_MP4_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """Everything one probe learned. ``container`` is ffprobe's ``format_name``."""

    path: str
    status: ProbeStatus
    strategy: str
    container: str | None = None
    format_long_name: str | None = None
    duration_s: float | None = None
    bit_rate: int | None = None
    size: int | None = None
    video: VideoInfo | None = None
    audio: tuple[AudioInfo, ...] = field(default_factory=tuple)
    subtitle_count: int = 0
    creation_time: str | None = None
    error: str | None = None
    timecode: str | None = None  # start timecode, "HH:MM:SS:FF" ("HH:MM:SS;FF" drop-frame)
    bytes_read: int = 0
    reads: int = 0
    probe_ms: float = 0.0

    @property
    def browser_playable(self) -> bool:
        """True when a browser can play the file as is: H.264 (+AAC/MP3 or silent) in MP4/MOV.

        Decided from codecs and the container family, never by comparing ``format_name``
        with "mp4" (ffprobe reports ``mov,mp4,m4a,3gp,3g2,mj2``).
        """
        if self.status is not ProbeStatus.OK or self.video is None:
            return False
        if self.container != _MP4_FAMILY or self.video.codec not in _BROWSER_VIDEO:
            return False
        return all(a.codec in _BROWSER_AUDIO for a in self.audio)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: the CLI contract's keys plus the rest of the record."""
        data = asdict(self)
        data["status"] = self.status.value
        data["audio"] = [asdict(a) for a in self.audio]
        data["browser_playable"] = self.browser_playable
        return data
