"""Importing the loggers' spreadsheets (CSV): players, and hands that become clips.

Columns are the earlier templates' (``PLAYER_COLUMNS``, ``HAND_COLUMNS``); extra columns are
ignored, missing optional ones read as empty. Parsing is pure (text in, rows and problems out);
:func:`import_players` / :func:`import_hands` apply the parsed rows inside the caller's
transaction and return an :class:`ImportReport`. A bad row is reported with its line number and
skipped; only an unusable file (unreadable, not CSV, required columns missing) raises
``ImportFileError``. Re-importing the same file changes nothing: players are matched on their
spreadsheet id (then name), hands on their id.
"""

from __future__ import annotations

import csv
import io
import math
import posixpath
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive_analyzer import paths
from archive_analyzer.catalog import contents, db, hands
from archive_analyzer.catalog.classify import normalise
from archive_analyzer.catalog.db import Clock
from archive_analyzer.catalog.rules import Rules
from archive_analyzer.errors import HandError, ImportFileError

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
_REQUIRED = {"players": ("name",), "hands": ("id", "file_id", "start_sec", "end_sec")}
_LIST_SPLIT = re.compile(r"\s*[;,|]\s*")


@dataclass(frozen=True)
class Problem:
    """A skipped row: its line number in the file and why."""

    line: int
    message: str


@dataclass(frozen=True)
class ImportReport:
    """What an import did. ``problems`` are the skipped rows, in file order."""

    kind: str
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: tuple[Problem, ...] = ()

    @property
    def skipped(self) -> int:
        return len(self.problems)

    def summary(self) -> str:
        """The one summary line the CLI prints."""
        return (
            f"{self.kind}: {self.rows} rows, {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.skipped} skipped"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
        }


class RowError(ValueError):
    """A value of one row cannot be used (becomes a :class:`Problem`)."""


@dataclass
class _Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)


# --- parsing (pure) ------------------------------------------------------------------------


def read_text(path: Path) -> str:
    """A CSV file's text: UTF-8 (with or without BOM), else CP949 (Korean Excel's export)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(f"{path} is neither UTF-8 nor CP949 text")


def rows_of(text: str, kind: str, source: str = "file") -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row of a CSV text; cells stripped, keys lower-case.

    Raises ``ImportFileError`` when the text has no header or lacks a required column.
    """
    if "\x00" in text:
        raise ImportFileError(f"{source} is not a CSV file (binary data)")
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(f"{source} is empty") from None
    except csv.Error as exc:
        raise ImportFileError(f"{source} is not a CSV file: {exc}") from exc
    columns = [normalise(h).replace(" ", "_") for h in header]
    missing = [c for c in _REQUIRED[kind] if c not in columns]
    if missing:
        raise ImportFileError(
            f"{source}: not a {kind} sheet: missing column(s) {', '.join(missing)} "
            f"(expected {', '.join(PLAYER_COLUMNS if kind == 'players' else HAND_COLUMNS)})"
        )
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(f"{source}: line {line}: broken CSV: {exc}") from exc
        if not any(c.strip() for c in cells):
            continue
        row = {col: (cells[i].strip() if i < len(cells) else "") for i, col in enumerate(columns)}
        yield line, row


def parse_timecode(text: str) -> float:
    """Seconds from ``H:MM:SS[.fff]``, ``MM:SS`` or plain seconds (a source timecode label
    needs its file: see ``hands.seconds_of``). Raises ``RowError``."""
    try:
        return hands.seconds_of(text, hands.FileClock())
    except HandError as exc:
        raise RowError(str(exc)) from None


def parse_bool(text: str, column: str) -> int | None:
    value = text.strip().casefold()
    if not value:
        return None
    if value in ("1", "true", "t", "yes", "y", "o", "예"):
        return 1
    if value in ("0", "false", "f", "no", "n", "x", "아니오"):
        return 0
    raise RowError(f"{column}: {text!r} is not true/false")


def parse_number(text: str, column: str, *, integer: bool = False) -> float | int | None:
    value = re.sub(r"[\s,$₩€]", "", text)
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise RowError(f"{column}: {text!r} is not a number") from None
    if not math.isfinite(number):
        raise RowError(f"{column}: {text!r} is not a number")
    if integer:
        if number != int(number):
            raise RowError(f"{column}: {text!r} is not a whole number")
        return int(number)
    return number


def split_list(text: str) -> list[str]:
    """Cells holding several values: separated by ',', ';' or '|'."""
    return [v for v in _LIST_SPLIT.split(text.strip()) if v]


tag_id = hands.tag_id


# --- players -------------------------------------------------------------------------------


def import_players(
    conn: sqlite3.Connection, text: str, *, now: Clock, source: str = "file"
) -> ImportReport:
    """Create or update players from a players sheet. Runs in the caller's transaction.

    ``source`` names the sheet in error messages (the CLI passes the file name).
    """
    stamp = db.timestamp(now())
    counts = _Counts()
    seen: dict[str, int] = {}
    total = 0
    for line, row in rows_of(text, "players", source):
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
                raise RowError(f"player {ext or values['name']!r} already on line {first}")
            seen.update(dict.fromkeys(keys, line))
            _upsert_player(conn, ext, key, values, stamp, counts)
        except RowError as exc:
            counts.problems.append(Problem(line, str(exc)))
    return ImportReport(
        "players", total, counts.created, counts.updated, counts.unchanged, tuple(counts.problems)
    )


def _player_values(row: dict[str, str]) -> dict[str, Any]:
    name = contents.tidy_name(row.get("name", ""))
    if not name:
        raise RowError("name is empty")
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
    counts: _Counts,
) -> None:
    existing = None
    if ext:
        existing = conn.execute("SELECT * FROM players WHERE external_id = ?", (ext,)).fetchone()
    if existing is None:
        existing = conn.execute("SELECT * FROM players WHERE name_key = ?", (key,)).fetchone()
        if existing is not None and ext and existing["external_id"] not in (None, ext):
            raise RowError(
                f"name {values['name']!r} belongs to player id {existing['external_id']}"
            )
    if existing is None:
        clash = conn.execute("SELECT 1 FROM players WHERE name_key = ?", (key,)).fetchone()
        if clash is not None:
            raise RowError(f"name {values['name']!r} is already another player's")
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
            raise RowError(f"name {values['name']!r} is already another player's")
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


# --- hands ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hand:
    ext: str
    file_ref: str
    start: str  # seconds, H:MM:SS or a source timecode: read once the file is known
    end: str
    score: int | None
    players: tuple[str, ...]
    tags: tuple[str, ...]
    winner: str | None
    pot_size_bb: float | None
    is_all_in: int | None
    is_showdown: int | None
    board: str | None
    title: str | None


def _parse_hand(row: dict[str, str]) -> _Hand:
    ext = row.get("id", "")
    if not ext:
        raise RowError("id is empty")
    file_ref = row.get("file_id", "")
    if not file_ref:
        raise RowError("file_id is empty")
    score = parse_number(row.get("highlight_score", ""), "highlight_score", integer=True)
    pot = parse_number(row.get("pot_size_bb", ""), "pot_size_bb")
    return _Hand(
        ext=ext,
        file_ref=file_ref,
        start=row.get("start_sec", ""),
        end=row.get("end_sec", ""),
        score=None if score is None else int(score),
        players=tuple(dict.fromkeys(split_list(row.get("players", "")))),
        tags=tuple(dict.fromkeys(split_list(row.get("tags", "")))),
        winner=row.get("winner") or None,
        pot_size_bb=None if pot is None else float(pot),
        is_all_in=parse_bool(row.get("is_all_in", ""), "is_all_in"),
        is_showdown=parse_bool(row.get("is_showdown", ""), "is_showdown"),
        board=row.get("board") or None,
        title=contents.tidy_name(row.get("display_title", "")) or None,
    )


def resolve_file(conn: sqlite3.Connection, ref: str) -> str:
    """The files.id a hand's ``file_id`` cell names: a catalog file id, else a path (any
    separators, NFC or NFD, with or without a drive letter or share prefix in front of the
    catalog path), else a file name that is unique in the catalog. Raises
    ``RowError`` for unknown or ambiguous references; never guesses."""
    row = conn.execute("SELECT id FROM files WHERE id = ?", (ref,)).fetchone()
    if row is not None:
        return str(row["id"])
    try:
        norm = paths.normalize(ref)
    except ValueError:
        raise RowError(f"file {ref!r}: not a catalog path") from None
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
            raise RowError(f"file {ref!r} is ambiguous: {len(found)} sources hold that path")
    name = posixpath.basename(norm)
    found = conn.execute(
        "SELECT id, path FROM files WHERE name = ? AND status != 'deleted' AND is_media = 1",
        (name,),
    ).fetchall()
    if len(found) == 1:
        return str(found[0]["id"])
    if len(found) > 1:
        shown = ", ".join(sorted(r["path"] for r in found)[:3])
        raise RowError(f"file name {name!r} is ambiguous ({len(found)} files: {shown} ...)")
    raise RowError(f"unknown file {ref!r}")


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
    counts = _Counts()
    seen: dict[str, int] = {}
    total = 0
    player_index = _PlayerIndex(conn)
    for line, row in rows_of(text, "hands", source):
        total += 1
        try:
            hand = _parse_hand(row)
            if hand.ext in seen:
                raise RowError(f"hand {hand.ext!r} already on line {seen[hand.ext]}")
            seen[hand.ext] = line
            file_id = resolve_file(conn, hand.file_ref)
            parent = _episode_of(conn, file_id, now, rules)
            clock = hands.file_clock(conn, file_id)
            try:
                start = hands.seconds_of(hand.start, clock)
                end = hands.seconds_of(hand.end, clock)
                player_ids = tuple(player_index.find(name) for name in hand.players)
                winner_id = player_index.find(hand.winner) if hand.winner else None
                fields = hands.Hand(
                    start=start,
                    end=end,
                    title=hand.title,
                    players=player_ids,
                    winner=winner_id,
                    pot_size_bb=hand.pot_size_bb,
                    is_all_in=None if hand.is_all_in is None else bool(hand.is_all_in),
                    is_showdown=None if hand.is_showdown is None else bool(hand.is_showdown),
                    board=hand.board,
                    highlight_score=hand.score,
                    tags=hand.tags,
                )
                hands.check(fields, clock)
                _upsert_clip(conn, hand, fields, parent, clock_stamp, counts)
            except HandError as exc:
                raise RowError(str(exc)) from None
        except RowError as exc:
            counts.problems.append(Problem(line, str(exc)))
    return ImportReport(
        "hands", total, counts.created, counts.updated, counts.unchanged, tuple(counts.problems)
    )


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
            raise RowError(f"unknown player {name!r}")
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
        raise RowError(f"file {file_id} is not a media file of the catalog")
    episode: sqlite3.Row = row
    return episode


def _upsert_clip(
    conn: sqlite3.Connection,
    hand: _Hand,
    fields: hands.Hand,
    parent: sqlite3.Row,
    stamp: str,
    counts: _Counts,
) -> None:
    ext = f"{hands.EXTERNAL_PREFIX}{hand.ext}"
    names = hands.player_names(conn, fields.players)
    base = hand.title or (f"Hand {hand.ext}" + (f" – {' vs '.join(names)}" if names else ""))
    # Two hands of one episode under the same title: the hand id tells them apart.
    title = hands.unique_title(conn, parent["id"], base, ext, hand.ext)
    _, created, changed = hands.upsert(
        conn,
        parent=parent,
        hand=fields,
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


def problems_json(report: ImportReport) -> list[dict[str, Any]]:
    """The skipped rows as JSON objects (``import --json``)."""
    return [{"line": p.line, "error": p.message} for p in report.problems]


__all__ = [
    "HAND_COLUMNS",
    "PLAYER_COLUMNS",
    "ImportReport",
    "Problem",
    "import_hands",
    "import_players",
    "parse_timecode",
    "read_text",
    "resolve_file",
]
