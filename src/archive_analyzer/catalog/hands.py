"""Importing the hands sheet: each hand becomes a clip of the episode of the file it names.

The same hand id always updates the same clip (re-import is idempotent; a changed ``file_id``
moves the clip). ``file_id`` is resolved strictly (:func:`resolve_file`: never a guess);
players and the winner must be known players; tags are created as needed. Runs in the
caller's transaction.
"""

from __future__ import annotations

import posixpath
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from archive_analyzer import paths
from archive_analyzer.catalog import contents, db, fields, search_index
from archive_analyzer.catalog.db import Clock
from archive_analyzer.catalog.pathfacts import normalise
from archive_analyzer.catalog.rules import Rules
from archive_analyzer.catalog.sheets import (
    ImportReport,
    Problem,
    Tally,
    parse_bool,
    parse_number,
    parse_timecode,
    rows_of,
    split_list,
)
from archive_analyzer.errors import ImportRowError

# The sheet: the hand, its range in the file, its players and tags, its facts (a column each,
# named after the field), and an optional title.
HAND_COLUMNS = (
    "id",
    "file_id",
    "start_sec",
    "end_sec",
    "players",
    "tags",
    *fields.HAND_FACTS,
    "display_title",
)
REQUIRED_COLUMNS = ("id", "file_id", "start_sec", "end_sec")
_DURATION_SLACK_S = 1.0  # container durations are rounded; a hand ending on the last frame fits


def tag_id(name: str) -> str:
    """The id of a play tag: 'Hero Call' -> 'hero_call'."""
    return re.sub(r"[\s\-]+", "_", normalise(name)).strip("_")


@dataclass(frozen=True)
class _Hand:
    ext: str
    file_ref: str
    start: float
    end: float
    players: tuple[str, ...]
    tags: tuple[str, ...]
    facts: dict[str, Any]  # fields.HAND_FACTS as read from their cells (winner: a name)
    title: str | None


def _score(text: str) -> int | None:
    score = parse_number(text, "highlight_score", integer=True)
    if score is not None and not 0 <= int(score) <= 3:
        raise ImportRowError(f"highlight_score {score} is not 0-3 stars")
    return None if score is None else int(score)


def _pot(text: str) -> float | None:
    pot = parse_number(text, "pot_size_bb")
    return None if pot is None else float(pot)


# How each hand fact is read from its cell (the column has the field's name).
FACT_CELLS: dict[str, Callable[[str], Any]] = {
    "highlight_score": _score,
    "winner": lambda text: text or None,  # a known player's name (checked on import)
    "pot_size_bb": _pot,
    "is_all_in": lambda text: parse_bool(text, "is_all_in"),
    "is_showdown": lambda text: parse_bool(text, "is_showdown"),
    "board": lambda text: text or None,
}


def _parse_hand(row: dict[str, str]) -> _Hand:
    ext = row.get("id", "")
    if not ext:
        raise ImportRowError("id is empty")
    file_ref = row.get("file_id", "")
    if not file_ref:
        raise ImportRowError("file_id is empty")
    start = parse_timecode(row.get("start_sec", ""))
    end = parse_timecode(row.get("end_sec", ""))
    if start >= end:
        raise ImportRowError(f"start {row.get('start_sec')} is not before end {row.get('end_sec')}")
    return _Hand(
        ext=ext,
        file_ref=file_ref,
        start=start,
        end=end,
        players=tuple(dict.fromkeys(split_list(row.get("players", "")))),
        tags=tuple(dict.fromkeys(split_list(row.get("tags", "")))),
        facts={name: FACT_CELLS[name](row.get(name, "")) for name in fields.HAND_FACTS},
        title=contents.tidy_name(row.get("display_title", "")) or None,
    )


def resolve_file(conn: sqlite3.Connection, ref: str) -> str:
    """The files.id a hand's ``file_id`` cell names: a catalog file id, else a path (any
    separators, NFC or NFD, with or without a drive letter or share prefix in front of the
    catalog path), else a file name that is unique in the catalog. Raises
    ``ImportRowError`` for unknown or ambiguous references; never guesses."""
    row = conn.execute("SELECT id FROM files WHERE id = ?", (ref,)).fetchone()
    if row is not None:
        return str(row["id"])
    try:
        norm = paths.normalize(ref)
    except ValueError:
        raise ImportRowError(f"file {ref!r}: not a catalog path") from None
    # The path as the sheet wrote it, then without leading parts: loggers paste Windows paths
    # ('Z:\\WSOP\\...') or share URLs ('//nas/ARCHIVE/WSOP/...') of the same file.
    parts = norm.split("/")
    for start in range(0, max(1, len(parts) - 1)):
        found = conn.execute(
            "SELECT id FROM files WHERE path = ? AND status != 'deleted'",
            ("/".join(parts[start:]),),
        ).fetchall()
        if len(found) == 1:
            return str(found[0]["id"])
        if len(found) > 1:
            raise ImportRowError(f"file {ref!r} is ambiguous: {len(found)} sources hold that path")
    name = posixpath.basename(norm)
    found = conn.execute(
        "SELECT id, path FROM files WHERE name = ? AND status != 'deleted' AND is_media = 1",
        (name,),
    ).fetchall()
    if len(found) == 1:
        return str(found[0]["id"])
    if len(found) > 1:
        shown = ", ".join(sorted(r["path"] for r in found)[:3])
        raise ImportRowError(f"file name {name!r} is ambiguous ({len(found)} files: {shown} ...)")
    raise ImportRowError(f"unknown file {ref!r}")


def import_hands(
    conn: sqlite3.Connection,
    text: str,
    *,
    now: Clock,
    rules: Rules | None = None,
    source: str = "file",
) -> ImportReport:
    """Create or update clip contents from a hands sheet. Runs in the caller's transaction.

    Each hand becomes a clip of the episode of the file it names (same hand id -> same clip,
    which moves if the sheet now names another file). Players and the winner must be known
    players (imported or found in paths); tags are created as needed. ``source`` names the
    sheet in error messages.
    """
    clock_stamp = db.timestamp(now())
    counts = Tally()
    seen: dict[str, int] = {}
    total = 0
    player_index = _PlayerIndex(conn)
    for line, row in rows_of(
        text, "hands", required=REQUIRED_COLUMNS, columns=HAND_COLUMNS, source=source
    ):
        total += 1
        try:
            hand = _parse_hand(row)
            if hand.ext in seen:
                raise ImportRowError(f"hand {hand.ext!r} already on line {seen[hand.ext]}")
            seen[hand.ext] = line
            file_id = resolve_file(conn, hand.file_ref)
            parent = _episode_of(conn, file_id, now, rules)
            duration = conn.execute(
                "SELECT duration_s FROM media_info WHERE id = ?", (file_id,)
            ).fetchone()
            if duration is not None and duration["duration_s"]:
                limit = float(duration["duration_s"])
                if hand.end > limit + _DURATION_SLACK_S:
                    raise ImportRowError(
                        f"end {hand.end:.1f}s is past the episode's duration {limit:.1f}s"
                    )
            player_ids = [player_index.find(name) for name in hand.players]
            winner = hand.facts["winner"]
            winner_id = player_index.find(winner) if winner else None
            _upsert_clip(conn, hand, parent, player_ids, winner_id, clock_stamp, counts)
        except ImportRowError as exc:
            counts.problems.append(Problem(line, exc.message))
    search_index.catch_up(conn)
    return counts.report("hands", total)


class _PlayerIndex:
    """Looks players up by spreadsheet id, name, display name or Korean name."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._by: dict[str, str] = {}
        rows = conn.execute(
            "SELECT id, external_id, name_key, display_name, name_kr FROM players"
        ).fetchall()
        # Weakest first so stronger keys overwrite: Korean name, display name, name, sheet id.
        for column in ("name_kr", "display_name", "name_key"):
            for row in rows:
                if row[column]:
                    self._by[normalise(row[column])] = str(row["id"])
        for row in rows:
            if row["external_id"]:
                self._by[f"id:{row['external_id']}"] = str(row["id"])

    def find(self, name: str) -> str:
        found = self._by.get(f"id:{name.strip()}") or self._by.get(normalise(name))
        if found is None:
            raise ImportRowError(f"unknown player {name!r}")
        return found


def _episode_of(
    conn: sqlite3.Connection, file_id: str, now: Clock, rules: Rules | None
) -> sqlite3.Row:
    row = conn.execute(
        "SELECT * FROM contents WHERE file_id = ? AND parent_id IS NULL", (file_id,)
    ).fetchone()
    if row is None:
        contents.refresh(conn, [file_id], now=now, rules=rules)
        row = conn.execute(
            "SELECT * FROM contents WHERE file_id = ? AND parent_id IS NULL", (file_id,)
        ).fetchone()
    if row is None or row["status"] == "deleted":
        raise ImportRowError(f"file {file_id} is not a media file of the catalog")
    episode: sqlite3.Row = row
    return episode


def _clip_title(conn: sqlite3.Connection, hand: _Hand, parent_id: str, names: list[str]) -> str:
    base = hand.title or (f"Hand {hand.ext}" + (f" – {' vs '.join(names)}" if names else ""))
    clash = conn.execute(
        "SELECT 1 FROM contents WHERE parent_id = ? AND title = ? "
        "AND coalesce(external_id, '') != ?",
        (parent_id, base, f"hand:{hand.ext}"),
    ).fetchone()
    # Two hands of one episode under the same title: the hand id tells them apart.
    return base if clash is None else f"{base} (hand {hand.ext})"


def _upsert_clip(
    conn: sqlite3.Connection,
    hand: _Hand,
    parent: sqlite3.Row,
    player_ids: list[str],
    winner_id: str | None,
    stamp: str,
    counts: Tally,
) -> None:
    ext = f"hand:{hand.ext}"
    names = [
        str(conn.execute("SELECT name FROM players WHERE id = ?", (pid,)).fetchone()["name"])
        for pid in player_ids
    ]
    winner = (
        str(conn.execute("SELECT name FROM players WHERE id = ?", (winner_id,)).fetchone()[0])
        if winner_id
        else None
    )
    facts = {**hand.facts, "winner": winner}
    values: dict[str, Any] = {
        "kind": "clip",
        "parent_id": parent["id"],
        "series_id": parent["series_id"],
        "catalog_id": parent["catalog_id"],
        "start_sec": hand.start,
        "end_sec": hand.end,
        "title": _clip_title(conn, hand, parent["id"], names),
        "sort_key": f"{hand.start:012.3f}",
        **{name: parent[name] for name in fields.INHERITED_BY_CLIPS},
        **{name: facts[name] for name in fields.HAND_FACTS},
    }
    existing = conn.execute("SELECT * FROM contents WHERE external_id = ?", (ext,)).fetchone()
    if existing is None:
        content_id = db.new_id()
        cols = ["id", "external_id", "status", *values, "created_at", "updated_at"]
        conn.execute(
            f"INSERT INTO contents ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [content_id, ext, "active", *values.values(), stamp, stamp],
        )
        counts.created += 1
        changed = True
    else:
        content_id = existing["id"]
        if existing["kind"] != "clip" or existing["file_id"] is not None:
            raise ImportRowError(f"hand id {hand.ext!r} names a content that is not a hand clip")
        changed = contents.update_row(conn, "contents", existing, values, stamp)
    links = [(pid, "player") for pid in player_ids]
    if winner_id and winner_id not in player_ids:
        links.append((winner_id, "winner"))
    changed = contents.set_links(conn, content_id, "players", links, "import", stamp) or changed
    tag_ids = [_ensure_tag(conn, tag, stamp) for tag in hand.tags]
    tag_links = [(tid, "") for tid in dict.fromkeys(tag_ids)]
    changed = contents.set_links(conn, content_id, "tags", tag_links, "import", stamp) or changed
    if existing is not None:
        if changed:
            counts.updated += 1
        else:
            counts.unchanged += 1


def _ensure_tag(conn: sqlite3.Connection, name: str, stamp: str) -> str:
    tid = tag_id(name)
    if not tid:
        raise ImportRowError(f"tag {name!r} is empty")
    if conn.execute("SELECT 1 FROM tags WHERE id = ?", (tid,)).fetchone() is None:
        conn.execute(
            "INSERT INTO tags (id, name, kind, created_at, updated_at) VALUES (?, ?, 'play', ?, ?)",
            (tid, contents.tidy_name(name), stamp, stamp),
        )
    return tid
