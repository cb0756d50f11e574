"""Hands: clips of an episode between two times, from a hands sheet or marked in the player.

A hand is a ``contents`` row of kind ``clip`` with a parent episode, ``start_sec`` /
``end_sec`` and the hand facts (``fields.HAND_FACTS``), linked to its players and tags; its
``external_id`` is ``hand:<id>`` (the sheet's hand id, or the content id for a hand marked in
the web app), so a sheet exported from the catalog and imported again finds the same clips.
Both writers go through :func:`upsert`:

- ``import hands`` (origin ``import``) writes what the sheet says, except fields edited by
  hand (``locked_fields``; ``players`` / ``tags`` stand for the links);
- the web app's marking form (origin ``manual``, run by the catalog writer) writes every
  field it was given and locks them, so a later import of an old sheet does not undo an
  editor's work; its player and tag lists replace the hand's links whatever their origin.

Times are seconds from the start of the episode's file. Editors may type them, and sheets
may give them, as the file's source timecode (``HH:MM:SS:FF``): :func:`seconds_of` turns a
label into seconds with the file's start timecode and frame rate.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from typing import Any, Literal

from archive_analyzer import timecode
from archive_analyzer.catalog import contents, db, fields, search_index
from archive_analyzer.catalog.media import media_info
from archive_analyzer.catalog.pathfacts import normalise
from archive_analyzer.errors import HandError, NotFound

# Pseudo-fields in ``locked_fields`` that stand for a hand's player and tag links.
LINK_LOCKS = ("players", "tags")
EXTERNAL_PREFIX = "hand:"
DURATION_SLACK_S = 1.0  # container durations are rounded; a hand ending on the last frame fits
MAX_SCORE = 3

Origin = Literal["import", "manual"]
_SECONDS = re.compile(r"^\s*(?:(\d+):)?([0-5]?\d):([0-5]\d(?:\.\d+)?)\s*$")
_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)?\s*$")


@dataclass(frozen=True, slots=True)
class Hand:
    """What a hand says. ``players`` and ``winner`` are player ids; ``tags`` tag names."""

    start: float
    end: float
    title: str | None = None
    players: tuple[str, ...] = ()
    winner: str | None = None
    pot_size_bb: float | None = None
    is_all_in: bool | None = None
    is_showdown: bool | None = None
    board: str | None = None
    highlight_score: int | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FileClock:
    """What turns a source timecode into seconds for one file: its start label and rate."""

    duration_s: float | None = None
    start_timecode: str | None = None
    frame_rate: float | None = None

    def label_at(self, seconds: float) -> str | None:
        """The source timecode ``seconds`` into the file (None without a frame rate)."""
        if not self.frame_rate:
            return None
        return timecode.at_seconds(self.start(), seconds, self.frame_rate).label

    def start(self) -> timecode.Timecode:
        """The file's first frame as a timecode (00:00:00:00 when the file carries none)."""
        fps, drop = timecode.base_for(self.frame_rate or 25.0)
        if self.start_timecode:
            return timecode.Timecode.parse(self.start_timecode, fps)
        return timecode.Timecode(0, fps, drop)


def file_clock(conn: sqlite3.Connection, file_id: str | None) -> FileClock:
    """The probed duration, start timecode and frame rate of a file (blank when unknown)."""
    media = media_info(conn, file_id) if file_id is not None else None
    if media is None:
        return FileClock()
    return FileClock(media.duration_s, media.timecode, media.frame_rate)


def seconds_of(text: str, clock: FileClock) -> float:
    """Seconds from the file's start for a typed time: plain seconds (``12.5``),
    ``H:MM:SS[.fff]`` / ``MM:SS``, or a source timecode label (``01:00:02:00``, ``;`` for
    drop-frame) on the file's start timecode and frame rate.

    Raises ``HandError`` with a message a person can act on.
    """
    value = text.strip()
    if not value:
        raise HandError("empty time")
    if _NUMBER.match(value):
        return float(value)
    match = _SECONDS.match(value)
    if match is not None:
        hours = int(match.group(1) or 0)
        return hours * 3600 + int(match.group(2)) * 60 + float(match.group(3))
    if timecode.clean_label(value) is None:
        raise HandError(f"unparseable timecode {text!r} (seconds, H:MM:SS or HH:MM:SS:FF)")
    if not clock.frame_rate:
        raise HandError(f"timecode {text!r} needs the file's frame rate (not probed yet)")
    start = clock.start()
    try:
        label = timecode.Timecode.parse(value, start.fps)
        return round(timecode.seconds_from(start, label, clock.frame_rate), 6)
    except ValueError as exc:
        raise HandError(str(exc)) from None


def check(hand: Hand, clock: FileClock) -> None:
    """Raise ``HandError`` when a hand cannot be stored (times, score)."""
    if hand.start < 0:
        raise HandError(f"start {hand.start:.3f}s is before the file's start")
    if hand.start >= hand.end:
        raise HandError(f"start {hand.start:.3f}s is not before end {hand.end:.3f}s")
    if clock.duration_s and hand.end > clock.duration_s + DURATION_SLACK_S:
        raise HandError(
            f"end {hand.end:.1f}s is past the episode's duration {clock.duration_s:.1f}s"
        )
    if hand.highlight_score is not None and not 0 <= hand.highlight_score <= MAX_SCORE:
        raise HandError(f"highlight_score {hand.highlight_score} is not 0-{MAX_SCORE} stars")
    if hand.pot_size_bb is not None and hand.pot_size_bb < 0:
        raise HandError(f"pot {hand.pot_size_bb} BB is negative")


def episode(conn: sqlite3.Connection, content_id: str) -> sqlite3.Row:
    """The active top-level content with a file that hands can be marked on."""
    row = conn.execute(
        "SELECT * FROM contents WHERE id = ? AND parent_id IS NULL AND file_id IS NOT NULL",
        (content_id,),
    ).fetchone()
    if row is None or row["status"] == "deleted":
        raise NotFound(f"no episode {content_id}")
    found: sqlite3.Row = row
    return found


def hand_row(conn: sqlite3.Connection, content_id: str) -> sqlite3.Row:
    """A hand (a clip with a parent), active or not; ``NotFound`` otherwise."""
    row = conn.execute(
        "SELECT * FROM contents WHERE id = ? AND kind = 'clip' AND parent_id IS NOT NULL",
        (content_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no hand {content_id}")
    found: sqlite3.Row = row
    return found


def unique_title(
    conn: sqlite3.Connection, parent_id: str, title: str, external_id: str, hand_id: str
) -> str:
    """``title``, or ``title (hand <id>)`` when another hand of the episode has it."""
    clash = conn.execute(
        "SELECT 1 FROM contents WHERE parent_id = ? AND title = ? AND status != 'deleted' "
        "AND coalesce(external_id, '') != ?",
        (parent_id, title, external_id),
    ).fetchone()
    return title if clash is None else f"{title} (hand {hand_id})"


def player_names(conn: sqlite3.Connection, ids: tuple[str, ...]) -> list[str]:
    """The names of players by id, in order (``NotFound`` for an unknown id)."""
    names = []
    for pid in ids:
        row = conn.execute("SELECT name FROM players WHERE id = ?", (pid,)).fetchone()
        if row is None:
            raise NotFound(f"no player {pid}")
        names.append(str(row["name"]))
    return names


def upsert(
    conn: sqlite3.Connection,
    *,
    parent: sqlite3.Row,
    hand: Hand,
    title: str,
    external_id: str,
    origin: Origin,
    stamp: str,
    existing: sqlite3.Row | None = None,
) -> tuple[str, bool, bool]:
    """Create or update the hand clip ``external_id`` of episode ``parent``.

    Returns (content id, created, changed). Runs in the caller's transaction. ``existing``
    is the row to update (else it is looked up by ``external_id``). See the module doc for
    what ``origin`` changes.
    """
    values = _values(conn, parent, hand, title)
    if existing is None:
        existing = conn.execute(
            "SELECT * FROM contents WHERE external_id = ?", (external_id,)
        ).fetchone()
    if existing is not None and (existing["kind"] != "clip" or existing["file_id"] is not None):
        raise HandError(f"hand id {external_id!r} names a content that is not a hand clip")
    created = existing is None
    if existing is None:
        content_id = db.new_id() if origin == "import" else _id_of(external_id)
        locks = json.dumps(sorted([*values, *LINK_LOCKS])) if origin == "manual" else "[]"
        cols = ["id", "external_id", "status", *values, "locked_fields", "created_at"]
        cols.append("updated_at")
        conn.execute(
            f"INSERT INTO contents ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [content_id, external_id, "active", *values.values(), locks, stamp, stamp],
        )
        changed = True
    else:
        content_id = str(existing["id"])
        if origin == "manual":
            values["status"] = "active"
            changed = _write_manual(conn, existing, values, stamp)
        else:
            changed = contents.update_row(conn, "contents", existing, values, stamp)
    changed = _links(conn, content_id, hand, origin, existing, stamp) or changed
    search_index.catch_up(conn)
    return content_id, created, changed


def new_external_id() -> tuple[str, str]:
    """(content id, external id) for a hand marked in the web app: ``hand:<content id>``."""
    content_id = db.new_id()
    return content_id, f"{EXTERNAL_PREFIX}{content_id}"


def _id_of(external_id: str) -> str:
    tail = external_id.removeprefix(EXTERNAL_PREFIX)
    return tail if re.fullmatch(r"[0-9a-f]{32}", tail) else db.new_id()


def delete(conn: sqlite3.Connection, content_id: str, stamp: str) -> bool:
    """Soft-delete a hand (``status = 'deleted'``: the sync publishes the removal);
    ``NotFound`` when there is no such hand or it is deleted already."""
    row = hand_row(conn, content_id)
    if row["status"] == "deleted":
        raise NotFound(f"hand {content_id} is deleted already")
    conn.execute(
        "UPDATE contents SET status = 'deleted', updated_at = ? WHERE id = ?", (stamp, content_id)
    )
    search_index.catch_up(conn)
    return True


def _values(
    conn: sqlite3.Connection, parent: sqlite3.Row, hand: Hand, title: str
) -> dict[str, Any]:
    winner = player_names(conn, (hand.winner,))[0] if hand.winner else None
    facts: dict[str, Any] = {
        "highlight_score": hand.highlight_score,
        "winner": winner,
        "pot_size_bb": hand.pot_size_bb,
        "is_all_in": None if hand.is_all_in is None else int(hand.is_all_in),
        "is_showdown": None if hand.is_showdown is None else int(hand.is_showdown),
        "board": hand.board,
    }
    return {
        "kind": "clip",
        "parent_id": parent["id"],
        "series_id": parent["series_id"],
        "catalog_id": parent["catalog_id"],
        "start_sec": hand.start,
        "end_sec": hand.end,
        "title": title,
        "sort_key": f"{hand.start:012.3f}",
        **{name: parent[name] for name in fields.INHERITED_BY_CLIPS},
        **{name: facts[name] for name in fields.HAND_FACTS},
    }


def _write_manual(
    conn: sqlite3.Connection, row: sqlite3.Row, values: dict[str, Any], stamp: str
) -> bool:
    """Write ``values`` whatever the locks, and lock what this edit set."""
    changes = {k: v for k, v in values.items() if row[k] != v}
    locks = sorted(contents.locked(row) | (set(values) - {"status"}) | set(LINK_LOCKS))
    if json.dumps(locks) != row["locked_fields"]:
        changes["locked_fields"] = json.dumps(locks)
    return contents.write_changes(conn, "contents", row["id"], changes, stamp)


def _links(
    conn: sqlite3.Connection,
    content_id: str,
    hand: Hand,
    origin: Origin,
    existing: sqlite3.Row | None,
    stamp: str,
) -> bool:
    player_links = [(pid, "player") for pid in dict.fromkeys(hand.players)]
    if hand.winner and hand.winner not in hand.players:
        player_links.append((hand.winner, "winner"))
    tag_links = [(tid, "") for tid in dict.fromkeys(ensure_tag(conn, t, stamp) for t in hand.tags)]
    fixed = contents.locked(existing) if existing is not None else frozenset()
    changed = False
    for what, links in (("players", player_links), ("tags", tag_links)):
        if origin == "import" and what in fixed:
            continue  # edited in the web app: the sheet no longer speaks for these links
        if origin == "manual":
            changed = _drop_other_links(conn, content_id, what, links, stamp) or changed
        changed = contents.set_links(conn, content_id, what, links, origin, stamp) or changed
    return changed


def _drop_other_links(
    conn: sqlite3.Connection,
    content_id: str,
    what: str,
    links: list[tuple[str, str]],
    stamp: str,
) -> bool:
    """An editor's list is the whole list: links of other origins not in it go."""
    table, column = (
        ("content_players", "player_id")
        if what == "players"
        else (
            "content_tags",
            "tag_id",
        )
    )
    keep = {target for target, _ in links}
    gone = [
        r[0]
        for r in conn.execute(
            f"SELECT {column} FROM {table} WHERE content_id = ?", (content_id,)
        ).fetchall()
        if r[0] not in keep
    ]
    for target in gone:
        conn.execute(
            f"DELETE FROM {table} WHERE content_id = ? AND {column} = ?", (content_id, target)
        )
    if gone:
        conn.execute("UPDATE contents SET updated_at = ? WHERE id = ?", (stamp, content_id))
    return bool(gone)


def tag_id(name: str) -> str:
    """The id of a play tag: 'Hero Call' -> 'hero_call'."""
    return re.sub(r"[\s\-]+", "_", normalise(name)).strip("_")


def ensure_tag(conn: sqlite3.Connection, name: str, stamp: str) -> str:
    """The id of the play tag ``name``, created when new."""
    tid = tag_id(name)
    if not tid:
        raise HandError(f"tag {name!r} is empty")
    if conn.execute("SELECT 1 FROM tags WHERE id = ?", (tid,)).fetchone() is None:
        conn.execute(
            "INSERT INTO tags (id, name, kind, created_at, updated_at) VALUES (?, ?, 'play', ?, ?)",
            (tid, contents.tidy_name(name), stamp, stamp),
        )
    return tid
