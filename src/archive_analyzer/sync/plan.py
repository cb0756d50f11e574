"""Pure planning: catalog rows -> Firestore documents -> the operations that bring the cloud
from what was last synced to what the catalog says now. Values in, values out; no I/O.

Layout (document ids are the catalog's stable ids):

- ``catalogs/{catalog}``, ``catalogs/{catalog}/series/{series}``,
  ``catalogs/{catalog}/series/{series}/contents/{content}`` (a content without a series goes
  under the pseudo series ``_unsorted`` of its catalog, ``unsorted`` if it has none),
- ``players/{player}``, ``files/{file}``, ``_sync_metadata/state``.

Which rows have a document (everything else has none, and a document that exists is deleted):

- a file: a media file (``is_media``) whose status is ``active`` or ``missing`` (still known,
  temporarily unreachable: published with ``available: false``); ``incoming``, ``deleted``
  and junk files have no document. A soft-deleted file's document is REMOVED, not marked.
- a content: status ``active`` and playable: the file it plays (its own, or its parent
  episode's for a clip) has a document, and a clip's parent episode is active.
- catalogs, series and players: always.

Nothing secret or server-specific is published: no ``files.source`` (a display URL of the
share), no server file id, no credentials. Paths are relative to the share root.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from archive_analyzer.catalog.file_facts import FileFacts
from archive_analyzer.catalog.media import MediaInfo
from archive_analyzer.catalog.read import CatalogRow, PlayerRow, SeriesRow
from archive_analyzer.errors import SyncLimitError
from archive_analyzer.sync.rows import ContentSnapshot, Entity, Row
from archive_analyzer.sync.sink import MAX_BATCH_OPS, DocOp

METADATA_PATH = "_sync_metadata/state"
UNSORTED_SERIES = "_unsorted"
UNSORTED_CATALOG = "unsorted"

# Firestore limits (https://firebase.google.com/docs/firestore/quotas)
MAX_DOCUMENT_BYTES = 1_048_576
MAX_FIELD_NAME_BYTES = 1_500
MAX_ID_BYTES = 1_500
MAX_DEPTH = 20
MAX_INDEXED_VALUE_BYTES = 1_500  # longer strings are stored but not indexed: warn-free
SAFE_DOCUMENT_BYTES = MAX_DOCUMENT_BYTES - 1_024  # headroom for the index entries' overhead


# --- documents -----------------------------------------------------------------------------


def _media(media: MediaInfo | None) -> dict[str, Any] | None:
    if media is None:
        return None
    audio = [track.as_dict() for track in media.audio]
    return {
        "probe_status": media.status,
        "container": media.container,
        "duration_s": media.duration_s,
        "bit_rate": media.bit_rate,
        "video_codec": media.video_codec,
        "video_profile": media.video_profile,
        "width": media.width,
        "height": media.height,
        "resolution": media.resolution,
        "frame_rate": media.frame_rate,
        "pix_fmt": media.pix_fmt,
        "field_order": media.field_order,
        "audio": audio,
        "audio_codecs": sorted({str(t["codec"]) for t in audio if t.get("codec")}),
        "subtitle_count": media.subtitle_count,
        "browser_playable": media.browser_playable,
        "timecode": media.timecode,
    }


def file_visible(row: FileFacts | None) -> bool:
    """Whether a file has a document (see the module docstring)."""
    return row is not None and row.is_media and row.status in ("active", "missing")


def file_document(row: FileFacts) -> tuple[str, dict[str, Any]] | None:
    """``files/{id}`` for a file, or None when it should have no document."""
    if not file_visible(row):
        return None
    return f"files/{row.id}", {
        "name": row.name,
        "path": row.path,
        "ext": row.ext,
        "size": row.size,
        "mtime": row.mtime,
        "status": row.status,
        "available": row.status == "active",
        "probe_state": row.probe_state,
        "first_seen": row.first_seen,
        "media": _media(row.media),
        "xxh128": row.xxh128,
        "fixity": row.fixity,
    }


def catalog_document(row: CatalogRow) -> tuple[str, dict[str, Any]]:
    return f"catalogs/{row.id}", {"title": row.title, "sort_order": row.sort_order}


def series_document(row: SeriesRow) -> tuple[str, dict[str, Any]]:
    return f"catalogs/{row.catalog_id}/series/{row.id}", {
        "catalog_id": row.catalog_id,
        "title": row.title,
        "sub_brand": row.sub_brand,
        "location": row.location,
        "year": row.year,
        "season": row.season,
        "sort_key": row.sort_key,
    }


def player_document(row: PlayerRow) -> tuple[str, dict[str, Any]]:
    return f"players/{row.id}", {
        "name": row.name,
        "display_name": row.display_name,
        "name_kr": row.name_kr,
        "country": row.country,
        "total_hands": row.total_hands,
        "total_wins": row.total_wins,
        "career_earnings": row.career_earnings,
        "wsop_bracelets": row.wsop_bracelets,
    }


def content_path(row: ContentSnapshot) -> str:
    """Where a content's document lives: under its effective brand and series (read model)."""
    catalog = row.content.catalog_id or UNSORTED_CATALOG
    series = row.content.series_id or UNSORTED_SERIES
    return f"catalogs/{catalog}/series/{series}/contents/{row.id}"


def content_document(entry: ContentSnapshot) -> tuple[str, dict[str, Any]] | None:
    """The content's document, or None when it is not published (see the module docstring)."""
    row = entry.content
    if not row.visible or not file_visible(entry.play_file):
        return None
    play = entry.play_file
    assert play is not None  # file_visible checked it
    media = play.media
    data: dict[str, Any] = {
        "kind": row.kind,
        "title": row.title,
        "sort_key": row.sort_key,
        "catalog_id": row.catalog_id or UNSORTED_CATALOG,
        "series_id": row.series_id,
        "file_id": play.id,
        "parent_id": row.parent_id,
        "clip": (
            {"start_sec": row.start_sec, "end_sec": row.end_sec}
            if row.start_sec is not None or row.end_sec is not None
            else None
        ),
        "created_at": row.created_at,
        "available": play.status == "active",
        "duration_s": _clip_duration(entry, media),
        "resolution": media.resolution if media else None,
        "width": media.width if media else None,
        "height": media.height if media else None,
        "video_codec": media.video_codec if media else None,
        "audio_codecs": (_media(media) or {}).get("audio_codecs", []) if media else [],
        "container": media.container if media else None,
        "browser_playable": bool(media.browser_playable) if media else False,
        "players": [
            {
                "id": p.id,
                "name": p.name,
                "display_name": p.display_name,
                "name_kr": p.name_kr,
                "role": p.role,
            }
            for p in entry.players
        ],
        "player_ids": [p.id for p in entry.players],
        "tags": [{"id": t.id, "name": t.name, "kind": t.kind} for t in entry.tags],
        "tag_ids": [t.id for t in entry.tags],
        # Every file of the content's versions (issue 18), its own first: the app lists them
        # and plays ``file_id`` (the one the browser plays directly, when there is one).
        # (``versions`` is the classifier's list of version markers: clean, stream ...)
        "version_files": [
            {
                "file_id": f.id,
                "name": f.name,
                "ext": f.ext,
                "size": f.size,
                "kind": kind,
                "container": f.media.container if f.media else None,
                "video_codec": f.media.video_codec if f.media else None,
                "resolution": f.media.resolution if f.media else None,
                "browser_playable": bool(f.media.browser_playable) if f.media else False,
                "xxh128": f.xxh128,
                "fixity": f.fixity,
            }
            for f, kind in entry.versions
        ],
        # A path on the app's own origin, never a server address.
        "thumbnail": (
            {"path": f"/thumb/{row.id}", "position_s": entry.thumbnail_s}
            if entry.thumbnail_s is not None
            else None
        ),
    }
    for key, value in row.facts:
        data.setdefault(key, value)
    return content_path(entry), data


def _clip_duration(entry: ContentSnapshot, media: MediaInfo | None) -> float | None:
    row = entry.content
    if row.start_sec is not None and row.end_sec is not None:
        return max(0.0, row.end_sec - row.start_sec)
    return media.duration_s if media else None


def document_for(row: Row) -> tuple[str, dict[str, Any]] | None:
    """The (path, data) a catalog row should have in Firestore, or None for no document."""
    if isinstance(row, FileFacts):
        return file_document(row)
    if isinstance(row, CatalogRow):
        return catalog_document(row)
    if isinstance(row, SeriesRow):
        return series_document(row)
    if isinstance(row, PlayerRow):
        return player_document(row)
    return content_document(row)


# --- limits --------------------------------------------------------------------------------


def _value_size(value: Any, where: str, depth: int) -> int:
    """Firestore's storage size of a value (documented sizes), checking nesting and types."""
    if depth > MAX_DEPTH:
        raise ValueError(f"{where}: nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, int | float):
        return 8
    if isinstance(value, str):
        return len(value.encode("utf-8")) + 1
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, list | tuple):
        total = 0
        for i, item in enumerate(value):
            if isinstance(item, list | tuple):
                raise ValueError(f"{where}[{i}]: an array cannot directly hold an array")
            total += _value_size(item, f"{where}[{i}]", depth + 1)
        return total
    if isinstance(value, Mapping):
        return _map_size(value, where, depth + 1)
    raise ValueError(f"{where}: unsupported value type {type(value).__name__}")


def _map_size(data: Mapping[str, Any], where: str, depth: int) -> int:
    total = 0
    for key, value in data.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"{where}: empty or non-text field name")
        key_bytes = len(key.encode("utf-8"))
        if key_bytes > MAX_FIELD_NAME_BYTES:
            raise ValueError(f"{where}: field name of {key_bytes} bytes > {MAX_FIELD_NAME_BYTES}")
        if key.startswith("__") and key.endswith("__"):
            raise ValueError(f"{where}: field name {key!r} is reserved")
        total += key_bytes + 1 + _value_size(value, f"{where}.{key}" if where else key, depth)
    return total


def _path_size(path: str) -> int:
    return sum(len(part.encode("utf-8")) + 1 for part in path.split("/")) + 16


def check_limits(entity: str, row_id: str, path: str, data: Mapping[str, Any]) -> None:
    """Raise ``SyncLimitError`` naming the row when ``data`` at ``path`` breaks a limit."""
    label = f"{entity} {row_id} ({path})"
    parts = path.split("/")
    if len(parts) % 2:
        raise SyncLimitError(f"{label}: not a document path")
    for part in parts:
        if not part or part in (".", "..") or (part.startswith("__") and part.endswith("__")):
            raise SyncLimitError(f"{label}: invalid path segment {part!r}")
        if len(part.encode("utf-8")) > MAX_ID_BYTES:
            raise SyncLimitError(f"{label}: id longer than {MAX_ID_BYTES} bytes")
    try:
        size = _path_size(path) + _map_size(data, "", 1) + 32
    except ValueError as exc:
        raise SyncLimitError(f"{label}: {exc}") from exc
    if size > SAFE_DOCUMENT_BYTES:
        raise SyncLimitError(f"{label}: document of {size} bytes exceeds Firestore's 1 MiB limit")


# --- planning ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Synced:
    """What the last successful sync wrote for a row (the local ``sync_docs`` table)."""

    path: str
    digest: str


@dataclass(frozen=True)
class Target:
    """A row to bring up to date: its key, current snapshot (None: row is gone) and order."""

    entity: Entity
    row_id: str
    row: Row | None
    seq: int  # change sequence it belongs to (watermark granularity); 0 in a full sync


@dataclass(frozen=True)
class RowPlan:
    """The operations for one row and the ``sync_docs`` entry once they committed.

    ``new_path`` is set when the row's document goes to a path the record does not hold yet
    (a new or moved document): the replicator notes that path as an intent before the commit,
    so a crash between the commit and the local record cannot leave a copy nobody knows of.
    """

    entity: Entity
    row_id: str
    seq: int
    ops: tuple[DocOp, ...]
    synced: Synced | None  # None: no document anymore
    new_path: str | None = None


def digest(path: str, data: Mapping[str, Any]) -> str:
    """A stable fingerprint of a document (to skip writes that would change nothing)."""
    text = json.dumps([path, data], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def plan_row(
    target: Target,
    previous: Synced | None,
    *,
    intent: str | None = None,
    force: bool = False,
) -> RowPlan:
    """Operations taking ``target``'s document from ``previous`` to what its row says now.

    A changed path (a content moved to another series, a series to another catalog) deletes
    the old document and sets the new one in the same plan (they go in one batch). ``intent``
    is a path an earlier run may have written without recording it (it crashed in between):
    it is deleted unless it is the wanted path, and the document is rewritten. ``force``
    rewrites documents even when their digest is unchanged (``--full``).
    """
    wanted = document_for(target.row) if target.row is not None else None
    ops: list[DocOp] = []
    synced: Synced | None = None
    path: str | None = None
    if wanted is not None:
        path, data = wanted
        check_limits(target.entity, target.row_id, path, data)
        synced = Synced(path, digest(path, data))
    stale = {p for p in (previous.path if previous else None, intent) if p and p != path}
    ops.extend(DocOp("delete", p) for p in sorted(stale))
    if wanted is not None and (force or previous != synced or intent is not None):
        ops.append(DocOp("set", wanted[0], wanted[1]))
    new_path = path if path is not None and (previous is None or previous.path != path) else None
    return RowPlan(target.entity, target.row_id, target.seq, tuple(ops), synced, new_path)


def plan(
    targets: Iterable[Target],
    previous: Mapping[tuple[str, str], Synced],
    *,
    intents: Mapping[tuple[str, str], str] | None = None,
    force: bool = False,
) -> list[RowPlan]:
    """Plan every target (in the given order) against what was last synced."""
    pending = intents or {}
    return [
        plan_row(
            t,
            previous.get((t.entity, t.row_id)),
            intent=pending.get((t.entity, t.row_id)),
            force=force,
        )
        for t in targets
    ]


@dataclass(frozen=True)
class Batch:
    """Operations committed together, the rows they complete, and the watermark after them.

    ``watermark`` is the highest change sequence such that every change up to it is fully
    written once this batch (and all earlier ones) committed; None when it does not move.
    """

    ops: tuple[DocOp, ...]
    rows: tuple[RowPlan, ...]
    watermark: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def batches(rows: Sequence[RowPlan], max_ops: int = MAX_BATCH_OPS - 1) -> list[Batch]:
    """Cut row plans (ordered by ``seq``) into batches of at most ``max_ops`` operations.

    A row's operations stay in one batch (a move's delete and set commit together) unless
    one row alone has more than ``max_ops``. Rows without operations ride along with the
    batch before them, or form a batch of no operations at the end (it only moves the
    watermark). One slot is left free by default for the ``_sync_metadata`` mirror.
    """
    if max_ops < 2:
        raise ValueError("a batch must hold at least two operations")
    cut: list[tuple[list[DocOp], list[RowPlan]]] = []
    ops: list[DocOp] = []
    members: list[RowPlan] = []
    for row in rows:
        if ops and len(ops) + len(row.ops) > max_ops:
            cut.append((ops, members))
            ops, members = [], []
        pending = list(row.ops)
        while len(pending) > max_ops:  # a single oversized row: split it
            cut.append((ops + pending[: max_ops - len(ops)], members))
            pending = pending[max_ops - len(ops) :]
            ops, members = [], []
        ops.extend(pending)
        members.append(row)
    if ops or members:
        cut.append((ops, members))
    return _with_watermarks(cut)


def _with_watermarks(cut: list[tuple[list[DocOp], list[RowPlan]]]) -> list[Batch]:
    """Attach to each batch the watermark that is safe once it has committed.

    Rows arrive in ``seq`` order, so after batch k every row in batches <= k is written; the
    watermark is the highest seq in them unless a later batch still holds a row of that same
    seq (a group split across batches), in which case it stays just below that seq.
    """
    result: list[Batch] = []
    later_min: list[int | None] = [None] * len(cut)
    running: int | None = None
    for i in range(len(cut) - 1, -1, -1):
        later_min[i] = running
        seqs = [r.seq for r in cut[i][1]]
        if seqs:
            low = min(seqs)
            running = low if running is None else min(running, low)
    best: int | None = None
    for i, (ops, members) in enumerate(cut):
        seqs = [r.seq for r in members]
        if seqs:
            high = max(seqs)
            bound = later_min[i]
            candidate = high if bound is None or bound > high else bound - 1
            if best is None or candidate > best:
                best = candidate
        result.append(Batch(tuple(ops), tuple(members), best))
    return result
