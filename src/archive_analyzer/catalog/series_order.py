"""Series order: the order in which a series' contents are meant to be watched, and each
content's previous and next one (docs/classification.md, "Series order").

An episode's neighbours are the series' other visible episodes in the order (year, season,
event number, day, part, episode, stream date, then title): ``Day 1A (Part 1)``, ``Day 1A
(Part 2)``, ``Day 1B``, ``Day 2``, ... ``Final Table`` (a content without a day whose title
names the final table or final day comes after the days). A clip cut as its own file (in a
series, no parent) steps through its series' other such clips in the same order; a hand (a
clip of an episode) steps through the other hands of its episode by start time.

The key is computed here, from the facts, rather than read from ``contents.sort_key``: that
key is stored by the classifier and would need a reclassify of every existing catalog to
change; a series holds at most a few hundred contents, so ordering them here costs nothing.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_FINAL = re.compile(r"\bfinal\s*(table|day)\b|파이널", re.IGNORECASE)
_LAST_DAY = 10_000  # after every real day number


@dataclass(frozen=True, slots=True)
class Place:
    """The facts the order is made of (one content)."""

    id: str
    title: str
    year: int | None = None
    season: int | None = None
    event_number: int | None = None
    day: str | None = None
    part: int | None = None
    episode: int | None = None
    stream_date: str | None = None
    start_sec: float | None = None
    kind: str = "episode"


@dataclass(frozen=True, slots=True)
class Neighbours:
    previous: str | None = None
    next: str | None = None


def is_final_table(title: str) -> bool:
    """Whether a title names a final table or final day (pure)."""
    return _FINAL.search(title) is not None


def day_key(day: str | None, title: str) -> tuple[int, str]:
    """``"1A"`` -> ``(1, "a")``, ``"10"`` -> ``(10, "")``; no day: first, unless the title
    names the final table (then last) (pure)."""
    if day:
        digits = re.match(r"\d+", day)
        if digits is None:  # "FINAL", "FT"
            return (_LAST_DAY, day.casefold())
        return (int(digits.group()), day[digits.end() :].strip().casefold())
    if _FINAL.search(title):
        return (_LAST_DAY, "")
    return (0, "")


def key(place: Place) -> tuple[Any, ...]:
    """The sort key of one content in its series (pure): episodes before clips cut as files,
    then the facts; unknown numbers count as 0."""
    return (
        place.kind != "episode",
        place.year or 0,
        place.season or 0,
        place.event_number or 0,
        day_key(place.day, place.title),
        place.part or 0,
        place.episode or 0,
        place.stream_date or "",
        place.title.casefold(),
        place.id,
    )


def hand_key(place: Place) -> tuple[Any, ...]:
    """A hand's key among its episode's hands: start time, then title (pure)."""
    return (place.start_sec or 0.0, place.title.casefold(), place.id)


def ordered(places: Iterable[Place]) -> list[Place]:
    return sorted(places, key=key)


def around(places: Sequence[Place], content_id: str) -> Neighbours:
    """The neighbours of ``content_id`` in ``places`` (already in order) (pure)."""
    ids = [p.id for p in places]
    if content_id not in ids:
        return Neighbours()
    i = ids.index(content_id)
    return Neighbours(ids[i - 1] if i > 0 else None, ids[i + 1] if i + 1 < len(ids) else None)


_PLACE_COLUMNS = (
    "c.id, c.title, c.year, c.season, c.event_number, c.day, c.part, c.episode, c.stream_date, "
    "c.start_sec, c.kind"
)
_VISIBLE = "c.status = 'active' AND (c.parent_id IS NULL OR p.status = 'active')"


def _places(conn: sqlite3.Connection, where: str, params: Sequence[Any]) -> list[Place]:
    rows = conn.execute(
        f"SELECT {_PLACE_COLUMNS} FROM contents c LEFT JOIN contents p ON p.id = c.parent_id "
        f"WHERE {_VISIBLE} AND {where}",
        tuple(params),
    ).fetchall()
    return [Place(*tuple(r)) for r in rows]


def series_places(conn: sqlite3.Connection, series_id: str) -> list[Place]:
    """A series' visible top-level contents (episodes and own-file clips) in series order."""
    return ordered(_places(conn, "c.series_id = ? AND c.parent_id IS NULL", (series_id,)))


def neighbours(conn: sqlite3.Connection, content_id: str) -> Neighbours:
    """The previous and next content of a visible content in its sequence (module doc)."""
    row = conn.execute(
        "SELECT kind, series_id, parent_id FROM contents WHERE id = ?", (content_id,)
    ).fetchone()
    if row is None:
        return Neighbours()
    kind, series_id, parent_id = row
    if parent_id is not None:
        hands = sorted(_places(conn, "c.parent_id = ?", (parent_id,)), key=hand_key)
        return around(hands, content_id)
    if series_id is None:
        return Neighbours()
    siblings = _places(
        conn, "c.series_id = ? AND c.parent_id IS NULL AND c.kind = ?", (series_id, kind)
    )
    return around(ordered(siblings), content_id)
