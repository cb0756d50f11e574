"""Snapshots of catalog rows as the sync needs them (frozen values; loaded by ``sync/load.py``).

Each entity the sync publishes has a row type here; ``plan.py`` turns them into documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Entity = Literal["catalog", "series", "content", "player", "file"]
# Order documents are planned in within one change window (parents before children).
ENTITY_ORDER: tuple[Entity, ...] = ("catalog", "series", "player", "file", "content")


@dataclass(frozen=True)
class MediaFacts:
    """The probe result of a file (``media_info``) as published."""

    status: str
    container: str | None
    duration_s: float | None
    bit_rate: int | None
    video_codec: str | None
    video_profile: str | None
    width: int | None
    height: int | None
    frame_rate: float | None
    pix_fmt: str | None
    field_order: str | None
    audio_json: str  # JSON list of {codec, channels, sample_rate, language}
    subtitle_count: int
    browser_playable: bool
    timecode: str | None = None  # the source's start timecode label


@dataclass(frozen=True)
class FileRow:
    """A ``files`` row without its secret-bearing columns (no ``source``, no server file id)."""

    id: str
    path: str
    name: str
    ext: str
    size: int
    mtime: float
    status: str
    is_media: bool
    probe_state: str
    first_seen: str
    media: MediaFacts | None


@dataclass(frozen=True)
class CatalogRow:
    id: str
    title: str
    sort_order: int


@dataclass(frozen=True)
class SeriesRow:
    id: str
    catalog_id: str
    title: str
    sub_brand: str | None
    location: str | None
    year: int | None
    season: int | None
    sort_key: str


@dataclass(frozen=True)
class PlayerRow:
    id: str
    name: str
    display_name: str | None
    name_kr: str | None
    country: str | None
    total_hands: int | None
    total_wins: int | None
    career_earnings: float | None
    wsop_bracelets: int | None


@dataclass(frozen=True)
class PlayerRef:
    """A player linked to a content, with the names the app shows."""

    id: str
    name: str
    display_name: str | None
    name_kr: str | None
    role: str


@dataclass(frozen=True)
class TagRef:
    id: str
    name: str
    kind: str


@dataclass(frozen=True)
class ContentRow:
    """A ``contents`` row with everything its document embeds.

    ``catalog_id`` is the catalog of its series (the document's parent), ``play_file`` the file
    it plays (its own, or its parent episode's for a clip of a range), ``parent_active`` whether
    that parent episode is itself published. ``facts`` are the descriptive columns, in order.
    ``thumbnail_s`` is where the poster frame was taken when one exists for the current version
    of the played file (the web app serves it at ``/thumb/{content id}``).
    """

    id: str
    kind: str
    status: str
    title: str
    sort_key: str
    catalog_id: str | None
    series_id: str | None
    file_id: str | None
    parent_id: str | None
    start_sec: float | None
    end_sec: float | None
    created_at: str
    facts: tuple[tuple[str, Any], ...]
    players: tuple[PlayerRef, ...]
    tags: tuple[TagRef, ...]
    play_file: FileRow | None
    parent_active: bool
    thumbnail_s: float | None = None  # a poster frame exists for the played file's version


Row = CatalogRow | SeriesRow | ContentRow | PlayerRow | FileRow
