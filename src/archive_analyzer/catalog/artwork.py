"""Posters of series and brands chosen by editors (table ``artwork``, migration 0071).

Written only by the catalog writer (``apply``, as one of the web app's catalog edits: the
``edit`` task, ``jobs/edits.py``); read by anyone (``get``). An upload is stored as the JPEG
the web app made of it; a frame is a content and a media time, rendered when served. ``apply``
checks what the web app cannot see at the time it asks: that the series or brand exists, and
that a frame's content belongs to it.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass

from archive_analyzer.errors import CatalogError, NotFound

KINDS = ("series", "catalog")


@dataclass(frozen=True, slots=True)
class Artwork:
    owner_kind: str
    owner_id: str
    source: str  # upload | frame
    image: bytes | None
    image_hash: str | None
    width: int | None
    height: int | None
    content_id: str | None
    position_s: float | None
    set_by: str | None
    updated_at: str


@dataclass(frozen=True, slots=True)
class Change:
    """What an editor asked for: an uploaded JPEG (``image``), a frame (``content_id`` at
    ``position_s``), or neither (back to the default poster)."""

    owner_kind: str
    owner_id: str
    user: str
    image: bytes | None = None
    width: int | None = None
    height: int | None = None
    content_id: str | None = None
    position_s: float | None = None


def get(conn: sqlite3.Connection, owner_kind: str, owner_id: str) -> Artwork | None:
    row = conn.execute(
        "SELECT owner_kind, owner_id, source, image, image_hash, width, height, content_id, "
        "position_s, set_by, updated_at FROM artwork WHERE owner_kind = ? AND owner_id = ?",
        (owner_kind, owner_id),
    ).fetchone()
    return None if row is None else Artwork(*tuple(row))


def stamp(conn: sqlite3.Connection, owner_kind: str, owner_ids: list[str]) -> dict[str, str]:
    """The version of each owner's artwork (its update time), for cache-busting URLs."""
    import json

    return {
        str(r[0]): str(r[1])
        for r in conn.execute(
            "SELECT owner_id, updated_at FROM artwork WHERE owner_kind = ? AND owner_id IN "
            "(SELECT value FROM json_each(?))",
            (owner_kind, json.dumps(owner_ids)),
        )
    }


def _owner_exists(conn: sqlite3.Connection, change: Change) -> bool:
    table = "series" if change.owner_kind == "series" else "catalogs"
    return (
        conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (change.owner_id,)).fetchone()
        is not None
    )


def _frame_belongs(conn: sqlite3.Connection, change: Change) -> bool:
    """Whether the frame's content is a visible content of the series or brand (a hand: its
    episode's)."""
    row = conn.execute(
        "SELECT coalesce(c.series_id, p.series_id), "
        "coalesce(s.catalog_id, c.catalog_id, p.catalog_id) FROM contents c "
        "LEFT JOIN contents p ON p.id = c.parent_id "
        "LEFT JOIN series s ON s.id = coalesce(c.series_id, p.series_id) "
        "WHERE c.id = ? AND c.status = 'active'",
        (change.content_id,),
    ).fetchone()
    if row is None:
        return False
    return bool((row[0] if change.owner_kind == "series" else row[1]) == change.owner_id)


def apply(conn: sqlite3.Connection, change: Change, stamp: str) -> bool:
    """Store (or remove) the artwork ``change`` asks for, inside the caller's transaction;
    returns whether a row changed. Raises ``NotFound`` for an unknown series or brand and
    ``CatalogError`` for a frame of a content that is not in it."""
    if change.owner_kind not in KINDS:
        raise CatalogError(f"no artwork for {change.owner_kind}")
    if not _owner_exists(conn, change):
        raise NotFound(f"no such {change.owner_kind}: {change.owner_id}")
    key = (change.owner_kind, change.owner_id)
    if change.image is None and change.content_id is None:
        gone = conn.execute("DELETE FROM artwork WHERE owner_kind = ? AND owner_id = ?", key)
        return gone.rowcount > 0
    if change.image is not None:
        values: tuple[object, ...] = (
            "upload",
            change.image,
            hashlib.sha256(change.image).hexdigest(),
            change.width,
            change.height,
            None,
            None,
        )
    else:
        if change.position_s is None or change.position_s < 0:
            raise CatalogError("a frame needs a position")
        if not _frame_belongs(conn, change):
            raise CatalogError(f"{change.content_id} is not in this {change.owner_kind}")
        values = ("frame", None, None, None, None, change.content_id, change.position_s)
    conn.execute(
        "INSERT INTO artwork (owner_kind, owner_id, source, image, image_hash, width, "
        "height, content_id, position_s, set_by, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (owner_kind, owner_id) DO "
        "UPDATE SET source = excluded.source, image = excluded.image, "
        "image_hash = excluded.image_hash, width = excluded.width, height = excluded.height, "
        "content_id = excluded.content_id, position_s = excluded.position_s, "
        "set_by = excluded.set_by, updated_at = excluded.updated_at",
        (*key, *values, change.user, stamp),
    )
    return True
