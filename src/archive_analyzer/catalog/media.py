"""The ``media_info`` table: what the prober found in each file (one row per file, upserted).

The table's one mapping, :class:`MediaInfo`, with its reading (``media_info``, and
``media_row`` for joins such as ``catalog.file_facts``) and its storing (``store``) side by
side, so a column is added in one module. ``store`` writes only ``media_info``; the file's
``probe_state`` and its probed / probe_failed event are recorded by
``catalog.files.set_probe_state`` in the same transaction (the pipeline's ``ingest`` calls
both).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import Any

from archive_analyzer.catalog.db import Clock, json_list, timestamp
from archive_analyzer.probe.result import ProbeResult

# --- rows ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AudioTrack:
    """One audio stream of a file (an element of ``media_info.audio``)."""

    codec: str | None = None
    channels: int | None = None
    sample_rate: int | None = None
    language: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "codec": self.codec,
            "channels": self.channels,
            "sample_rate": self.sample_rate,
            "language": self.language,
        }


@dataclass(frozen=True, slots=True)
class SubtitleTrack:
    """One subtitle stream of a file (an element of ``media_info.subtitles``, migration 0050)."""

    codec: str | None = None
    language: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"codec": self.codec, "language": self.language}


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """A ``media_info`` row: what the prober found in one file. Field order = column order.

    The only mapping of that table: the prober's results are stored from it
    (``catalog/media.py``), and sync, web and playback read it.
    """

    status: str = "ok"
    container: str | None = None
    format_long_name: str | None = None
    duration_s: float | None = None
    bit_rate: int | None = None
    size: int | None = None
    video_codec: str | None = None
    video_profile: str | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    pix_fmt: str | None = None
    field_order: str | None = None
    audio: tuple[AudioTrack, ...] = ()
    subtitle_count: int = 0
    creation_time: str | None = None
    error: str | None = None
    bytes_read: int = 0
    reads: int = 0
    strategy: str = ""
    probe_ms: float = 0.0
    browser_playable: bool = False
    probed_size: int | None = None
    probed_mtime: float | None = None
    probed_at: str = ""
    updated_at: str = ""
    timecode: str | None = None  # the source's start timecode label (migration 0030)
    subtitles: tuple[SubtitleTrack, ...] = ()  # codec and language per stream (migration 0050)

    @property
    def audio_codecs(self) -> tuple[str, ...]:
        """The audio codecs in stream order ('' for a stream whose codec is unknown)."""
        return tuple(track.codec or "" for track in self.audio)

    @property
    def resolution(self) -> str | None:
        """``WIDTHxHEIGHT``, or None when either is unknown."""
        if self.width and self.height:
            return f"{self.width}x{self.height}"
        return None

    @property
    def playable(self) -> bool:
        """Whether playback can plan from it: a usable probe with a video stream and a
        duration (direct play, remux or transcode, ``web/hls.py``)."""
        return (
            self.status in ("ok", "incomplete") and bool(self.video_codec) and bool(self.duration_s)
        )


MEDIA_COLUMNS = tuple(f.name for f in dataclass_fields(MediaInfo))


# --- mapping ---------------------------------------------------------------------------------


def _tracks(text: str | None) -> list[dict[str, Any]]:
    return [track for track in json_list(text) if isinstance(track, dict)]


def _audio(text: str | None) -> tuple[AudioTrack, ...]:
    return tuple(
        AudioTrack(
            codec=track.get("codec"),
            channels=track.get("channels"),
            sample_rate=track.get("sample_rate"),
            language=track.get("language"),
        )
        for track in _tracks(text)
    )


def _subtitles(text: str | None) -> tuple[SubtitleTrack, ...]:
    return tuple(
        SubtitleTrack(codec=track.get("codec"), language=track.get("language"))
        for track in _tracks(text)
    )


def media_row(row: Mapping[str, Any] | sqlite3.Row, prefix: str = "") -> MediaInfo:
    """Map ``media_info`` columns (named ``prefix`` + column) to a MediaInfo."""
    values: dict[str, Any] = {name: row[prefix + name] for name in MEDIA_COLUMNS}
    values["audio"] = _audio(values["audio"])
    values["subtitles"] = _subtitles(values["subtitles"])
    values["subtitle_count"] = int(values["subtitle_count"] or 0)
    values["browser_playable"] = bool(values["browser_playable"])
    values["bytes_read"] = int(values["bytes_read"] or 0)
    values["reads"] = int(values["reads"] or 0)
    values["probe_ms"] = float(values["probe_ms"] or 0.0)
    return MediaInfo(**values)


def media_values(media: MediaInfo) -> tuple[Any, ...]:
    """The ``media_info`` column values of ``media`` in ``MEDIA_COLUMNS`` order (for writes)."""
    out: list[Any] = []
    for name in MEDIA_COLUMNS:
        value = getattr(media, name)
        if name in ("audio", "subtitles"):
            tracks = media.audio if name == "audio" else media.subtitles
            value = json.dumps([track.as_dict() for track in tracks], ensure_ascii=False)
        elif name == "browser_playable":
            value = int(value)
        out.append(value)
    return tuple(out)


def media_info(conn: sqlite3.Connection, file_id: str) -> MediaInfo | None:
    """The media facts of one file, or None when it was never probed."""
    row = conn.execute(
        f"SELECT {', '.join(MEDIA_COLUMNS)} FROM media_info WHERE id = ?", (file_id,)
    ).fetchone()
    return None if row is None else media_row(row)


# --- storing ---------------------------------------------------------------------------------

_COLUMNS = ("id", *MEDIA_COLUMNS)

_UPSERT = (
    f"INSERT INTO media_info ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c != "id")
)


def info_of(
    result: ProbeResult, probed_size: int | None, probed_mtime: float | None, at: str
) -> MediaInfo:
    """The media facts ``result`` makes (pure); ``at`` stamps ``probed_at``/``updated_at``."""
    video = result.video
    return MediaInfo(
        status=result.status.value,
        container=result.container,
        format_long_name=result.format_long_name,
        duration_s=result.duration_s,
        bit_rate=result.bit_rate,
        size=result.size,
        video_codec=video.codec if video else None,
        video_profile=video.profile if video else None,
        width=video.width if video else None,
        height=video.height if video else None,
        frame_rate=video.frame_rate if video else None,
        pix_fmt=video.pix_fmt if video else None,
        field_order=video.field_order if video else None,
        audio=tuple(
            AudioTrack(a.codec, a.channels, a.sample_rate, a.language) for a in result.audio
        ),
        subtitle_count=result.subtitle_count,
        creation_time=result.creation_time,
        timecode=result.timecode,
        subtitles=tuple(SubtitleTrack(t.codec, t.language) for t in result.subtitles),
        error=result.error,
        bytes_read=result.bytes_read,
        reads=result.reads,
        strategy=result.strategy,
        probe_ms=result.probe_ms,
        browser_playable=bool(result.browser_playable),
        probed_size=probed_size,
        probed_mtime=probed_mtime,
        probed_at=at,
        updated_at=at,
    )


def store(
    conn: sqlite3.Connection,
    file_id: str,
    result: ProbeResult,
    probed_size: int | None,
    probed_mtime: float | None,
    now: Clock,
) -> None:
    """Insert or replace the media_info row of ``file_id`` from ``result``.

    ``probed_size`` / ``probed_mtime`` are the file's size and mtime the probe saw (a later
    change of either makes the row stale). Call inside ``db.transaction`` to batch writes.
    Read it back with ``media_info``.
    """
    info = info_of(result, probed_size, probed_mtime, timestamp(now()))
    conn.execute(_UPSERT, (file_id, *media_values(info)))
