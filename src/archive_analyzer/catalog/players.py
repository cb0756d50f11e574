"""Importing the players sheet: one player per row, matched on its sheet id, then its name.

Players found in paths (origin 'path') are merged into the imported record; ``name_kr`` and
``display_name`` are kept as written. Runs in the caller's transaction; re-importing the same
sheet changes nothing.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from archive_analyzer.catalog import contents, db, search_index
from archive_analyzer.catalog.db import Clock
from archive_analyzer.catalog.sheets import ImportReport, Problem, Tally, parse_number, rows_of
from archive_analyzer.errors import ImportRowError

PLAYER_COLUMNS = (
    "id",
    "name",
    "display_name",
    "name_kr",
    "country",
    "total_hands",
    "total_wins",
    "career_earnings",
    "wsop_bracelets",
)
REQUIRED_COLUMNS = ("name",)


def import_players(
    conn: sqlite3.Connection, text: str, *, now: Clock, source: str = "file"
) -> ImportReport:
    """Create or update players from a players sheet. Runs in the caller's transaction.

    ``source`` names the sheet in error messages (the CLI passes the file name).
    """
    stamp = db.timestamp(now())
    counts = Tally()
    seen: dict[str, int] = {}
    total = 0
    for line, row in rows_of(
        text, "players", required=REQUIRED_COLUMNS, columns=PLAYER_COLUMNS, source=source
    ):
        total += 1
        try:
            values = _player_values(row)
            ext = row.get("id") or None
            key = contents.player_key(values["name"])
            # One player per row: the same sheet id or the same name twice would make the
            # rows fight over one record (and a re-import flip-flop between them).
            keys = [f"name:{key}"] + ([f"id:{ext}"] if ext else [])
            first = next((seen[k] for k in keys if k in seen), None)
            if first is not None:
                raise ImportRowError(f"player {ext or values['name']!r} already on line {first}")
            seen.update(dict.fromkeys(keys, line))
            _upsert_player(conn, ext, key, values, stamp, counts)
        except ImportRowError as exc:
            counts.problems.append(Problem(line, exc.message))
    search_index.catch_up(conn)
    return counts.report("players", total)


def _player_values(row: dict[str, str]) -> dict[str, Any]:
    name = contents.tidy_name(row.get("name", ""))
    if not name:
        raise ImportRowError("name is empty")
    return {
        "name": name,
        "display_name": contents.tidy_name(row.get("display_name", "")) or None,
        "name_kr": contents.tidy_name(row.get("name_kr", "")) or None,
        "country": row.get("country", "").strip() or None,
        "total_hands": parse_number(row.get("total_hands", ""), "total_hands", integer=True),
        "total_wins": parse_number(row.get("total_wins", ""), "total_wins", integer=True),
        "career_earnings": parse_number(row.get("career_earnings", ""), "career_earnings"),
        "wsop_bracelets": parse_number(
            row.get("wsop_bracelets", ""), "wsop_bracelets", integer=True
        ),
    }


def _upsert_player(
    conn: sqlite3.Connection,
    ext: str | None,
    key: str,
    values: dict[str, Any],
    stamp: str,
    counts: Tally,
) -> None:
    existing = None
    if ext:
        existing = conn.execute("SELECT * FROM players WHERE external_id = ?", (ext,)).fetchone()
    if existing is None:
        existing = conn.execute("SELECT * FROM players WHERE name_key = ?", (key,)).fetchone()
        if existing is not None and ext and existing["external_id"] not in (None, ext):
            raise ImportRowError(
                f"name {values['name']!r} belongs to player id {existing['external_id']}"
            )
    if existing is None:
        clash = conn.execute("SELECT 1 FROM players WHERE name_key = ?", (key,)).fetchone()
        if clash is not None:
            raise ImportRowError(f"name {values['name']!r} is already another player's")
        conn.execute(
            "INSERT INTO players (id, name, name_key, display_name, name_kr, country, "
            "total_hands, total_wins, career_earnings, wsop_bracelets, external_id, origin, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'import', ?, ?)",
            (
                db.new_id(),
                values["name"],
                key,
                values["display_name"],
                values["name_kr"],
                values["country"],
                values["total_hands"],
                values["total_wins"],
                values["career_earnings"],
                values["wsop_bracelets"],
                ext,
                stamp,
                stamp,
            ),
        )
        counts.created += 1
        return
    if key != existing["name_key"]:
        other = conn.execute(
            "SELECT 1 FROM players WHERE name_key = ? AND id != ?", (key, existing["id"])
        ).fetchone()
        if other is not None:
            raise ImportRowError(f"name {values['name']!r} is already another player's")
    update = dict(values)
    update["name_key"] = key
    if ext:
        update["external_id"] = ext
    if existing["origin"] == "path":
        update["origin"] = "import"
    if "name" in contents.locked(existing):
        update.pop("name_key")
    changed = contents.update_row(conn, "players", existing, update, stamp)
    if changed:
        counts.updated += 1
    else:
        counts.unchanged += 1
