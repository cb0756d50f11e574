"""What the player's marking panel reads: an episode's hands and clock, players by type-ahead.

Part of the catalog's read model (the web app calls it, like ``read``); reads only: marking,
editing and deleting go to the catalog writer (``jobs.edits``, through ``hands.upsert``).
"""

from __future__ import annotations

import sqlite3
import unicodedata
from dataclasses import dataclass
from typing import Any

from archive_analyzer.catalog import hands, read
from archive_analyzer.catalog.hangul import choseong, is_choseong_query

PLAYER_LIMIT = 12


@dataclass(frozen=True, slots=True)
class Episode:
    """An episode hands can be marked on, with its file's clock."""

    id: str
    file_id: str
    clock: hands.FileClock


def episode(conn: sqlite3.Connection, content_id: str) -> Episode | None:
    """The active top-level content with a file, or None."""
    row = conn.execute(
        "SELECT c.id, c.file_id FROM contents c WHERE c.id = ? AND c.parent_id IS NULL "
        "AND c.file_id IS NOT NULL AND c.status = 'active'",
        (content_id,),
    ).fetchone()
    if row is None:
        return None
    return Episode(row["id"], row["file_id"], hands.file_clock(conn, row["file_id"]))


def hand_parent(conn: sqlite3.Connection, hand_id: str) -> str | None:
    """The episode id of an active hand, or None."""
    row = conn.execute(
        "SELECT parent_id FROM contents WHERE id = ? AND kind = 'clip' "
        "AND parent_id IS NOT NULL AND status = 'active'",
        (hand_id,),
    ).fetchone()
    return str(row["parent_id"]) if row is not None else None


def hands_of(conn: sqlite3.Connection, ep: Episode) -> list[dict[str, Any]]:
    """The episode's active hands in time order, as the panel shows and edits them."""
    rows = conn.execute(
        "SELECT id, title, start_sec, end_sec, winner, pot_size_bb, is_all_in, is_showdown, "
        "board, highlight_score, external_id FROM contents WHERE parent_id = ? "
        "AND status = 'active' AND start_sec IS NOT NULL ORDER BY start_sec, title",
        (ep.id,),
    ).fetchall()
    out = []
    for r in rows:
        players, tags = read.named_links(conn, r["id"])
        winner = next((p.id for p in players if p.name == r["winner"]), None)
        out.append(
            {
                "id": r["id"],
                "title": r["title"],
                "start": r["start_sec"],
                "end": r["end_sec"],
                "start_tc": ep.clock.label_at(r["start_sec"]),
                "end_tc": ep.clock.label_at(r["end_sec"]),
                "players": [_linked(p) for p in players if p.role != "winner"],
                "winner": winner,
                "winner_player": next((_linked(p) for p in players if p.id == winner), None),
                "pot_size_bb": r["pot_size_bb"],
                "is_all_in": None if r["is_all_in"] is None else bool(r["is_all_in"]),
                "is_showdown": None if r["is_showdown"] is None else bool(r["is_showdown"]),
                "board": r["board"],
                "highlight_score": r["highlight_score"],
                "tags": list(tags),
                "hand_id": (r["external_id"] or "").removeprefix(hands.EXTERNAL_PREFIX) or None,
            }
        )
    return out


def _player(
    player_id: str, name: str, display_name: str | None, name_kr: str | None
) -> dict[str, Any]:
    return {"id": player_id, "name": name, "label": display_name or name, "name_kr": name_kr}


def _linked(found: read.PlayerRef) -> dict[str, Any]:
    return _player(found.id, found.name, found.display_name, found.name_kr)


def find_players(
    conn: sqlite3.Connection, text: str, limit: int = PLAYER_LIMIT
) -> list[dict[str, Any]]:
    """Players for a type-ahead: by name, display name or Korean name (prefix matches first),
    or by the initial consonants (초성) of the Korean name when ``text`` is all jamo."""
    query = unicodedata.normalize("NFC", text).strip().casefold()
    if not query:
        return []
    jamo = is_choseong_query(query)
    wanted = query.replace(" ", "")
    scored: list[tuple[int, str, dict[str, Any]]] = []
    for row in conn.execute("SELECT id, name, display_name, name_kr FROM players"):
        names = [n for n in (row["name"], row["display_name"], row["name_kr"]) if n]
        if jamo:
            keys = [choseong(n).replace(" ", "") for n in names]
        else:
            keys = [unicodedata.normalize("NFC", n).casefold() for n in names]
        needle = wanted if jamo else query
        hits = [key for key in keys if needle in key]
        if hits:
            rank = 0 if any(key.startswith(needle) for key in hits) else 1
            scored.append((rank, row["name"].casefold(), _player(*tuple(row))))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [player for _, _, player in scored[:limit]]
