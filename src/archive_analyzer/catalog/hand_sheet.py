"""Importing the hands sheet: each row becomes a hand clip of the episode of the file it names.

The same hand id always updates the same clip (re-import is idempotent; a changed ``file_id``
moves the clip). ``file_id`` is resolved strictly (:func:`resolve_file`: never a guess); times
are seconds, ``H:MM:SS`` or the file's source timecode; players and the winner must be known
players; tags are created as needed. The clips are written through ``hands.upsert`` (origin
``import``: fields an editor changed in the web app stay as edited). Runs in the caller's
transaction.
"""

from __future__ import annotations

import posixpath
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from archive_analyzer import paths
from archive_analyzer.catalog import contents, db, fields, hands
from archive_analyzer.catalog.db import Clock
from archive_analyzer.catalog.pathfacts import normalise
from archive_analyzer.catalog.rules import Rules
from archive_analyzer.catalog.sheets import (
    ImportReport,
    Problem,
    Tally,
    parse_bool,
    parse_number,
    rows_of,
    split_list,
)
from archive_analyzer.errors import HandError, ImportRowError

# The sheet's layout (also the CSV edit list's, export/edit_lists.py): the hand, its range,
# and a column per hand fact named after the field (``fields.HAND_FACTS``).
HAND_COLUMNS = (
    "id",
    "file_id",
    "start_sec",
    "end_sec",
    "highlight_score",
    "players",
    "tags",
    "winner",
    "pot_size_bb",
    "is_all_in",
    "is_showdown",
    "board",
    "display_title",
)
REQUIRED_COLUMNS = ("id", "file_id", "start_sec", "end_sec")


def _score(text: str) -> int | None:
    score = parse_number(text, "highlight_score", integer=True)
    return None if score is None else int(score)  # its range: hands.check


def _pot(text: str) -> float | None:
    pot = parse_number(text, "pot_size_bb")
    return None if pot is None else float(pot)


def _flag(column: str) -> Callable[[str], bool | None]:
    def read(text: str) -> bool | None:
        value = parse_bool(text, column)
        return None if value is None else bool(value)

    return read


# How each hand fact is read from its cell, as ``hands.Hand`` takes it.
FACT_CELLS: dict[str, Callable[[str], Any]] = {
    "highlight_score": _score,
    "winner": lambda text: text or None,  # a known player's name (resolved on import)
    "pot_size_bb": _pot,
    "is_all_in": _flag("is_all_in"),
    "is_showdown": _flag("is_showdown"),
    "board": lambda text: text or None,
}


@dataclass(frozen=True)
class _Row:
    ext: str
    file_ref: str
    start: str  # seconds, H:MM:SS or a source timecode: read once the file is known
    end: str
    players: tuple[str, ...]
    tags: tuple[str, ...]
    facts: dict[str, Any]  # fields.HAND_FACTS as read from their cells (winner: a name)
    title: str | None


def _parse_row(row: dict[str, str]) -> _Row:
    ext = row.get("id", "")
    if not ext:
        raise ImportRowError("id is empty")
    file_ref = row.get("file_id", "")
    if not file_ref:
        raise ImportRowError("file_id is empty")
    return _Row(
        ext=ext,
        file_ref=file_ref,
        start=row.get("start_sec", ""),
        end=row.get("end_sec", ""),
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
    """Create or update hand clips from a hands sheet. Runs in the caller's transaction.

    Each hand becomes a clip of the episode of the file it names (same hand id -> same clip,
    which moves if the sheet now names another file). Players and the winner must be known
    players (imported or found in paths); tags are created as needed. ``source`` names the
    sheet in error messages.
    """
    stamp = db.timestamp(now())
    counts = Tally()
    seen: dict[str, int] = {}
    total = 0
    player_index = _PlayerIndex(conn)
    for line, row in rows_of(
        text, "hands", required=REQUIRED_COLUMNS, columns=HAND_COLUMNS, source=source
    ):
        total += 1
        try:
            sheet_row = _parse_row(row)
            if sheet_row.ext in seen:
                raise ImportRowError(
                    f"hand {sheet_row.ext!r} already on line {seen[sheet_row.ext]}"
                )
            seen[sheet_row.ext] = line
            file_id = resolve_file(conn, sheet_row.file_ref)
            parent = _episode_of(conn, file_id, now, rules)
            clock = hands.file_clock(conn, file_id)
            winner = sheet_row.facts["winner"]
            hand = hands.Hand(
                start=hands.seconds_of(sheet_row.start, clock),
                end=hands.seconds_of(sheet_row.end, clock),
                title=sheet_row.title,
                players=tuple(player_index.find(name) for name in sheet_row.players),
                tags=sheet_row.tags,
                **{**sheet_row.facts, "winner": player_index.find(winner) if winner else None},
            )
            hands.check(hand, clock)
            _upsert_clip(conn, sheet_row, hand, parent, stamp, counts)
        except (ImportRowError, HandError) as exc:
            message = exc.message if isinstance(exc, ImportRowError) else str(exc)
            counts.problems.append(Problem(line, message))
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


def _upsert_clip(
    conn: sqlite3.Connection,
    row: _Row,
    hand: hands.Hand,
    parent: sqlite3.Row,
    stamp: str,
    counts: Tally,
) -> None:
    ext = f"{hands.EXTERNAL_PREFIX}{row.ext}"
    names = hands.player_names(conn, hand.players)
    base = row.title or (f"Hand {row.ext}" + (f" – {' vs '.join(names)}" if names else ""))
    # Two hands of one episode under the same title: the hand id tells them apart.
    title = hands.unique_title(conn, parent["id"], base, ext, row.ext)
    _, created, changed = hands.upsert(
        conn,
        parent=parent,
        hand=hand,
        title=title,
        external_id=ext,
        origin="import",
        stamp=stamp,
    )
    if created:
        counts.created += 1
    elif changed:
        counts.updated += 1
    else:
        counts.unchanged += 1
