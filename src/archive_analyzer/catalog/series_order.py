"""Series order: the order in which a series' contents are meant to be watched, and each
content's previous and next one (docs/classification.md, "Series order").

A series' own contents are ordered episodes first, then clips cut as their own files, each by
(year, season, event number, day, part, episode, stream date, title): ``Day 1A (Part 1)``,
``Day 1A (Part 2)``, ``Day 1B``, ``Day 2``, ... ``Final Table`` (a day that is not a number, or
no day and a title naming the final table or final day, comes after every numbered day).
Unknown numbers count as 0. An episode's neighbours are the series' other visible episodes; a
clip cut as its own file steps through the series' other such clips; a hand (a clip of an
episode) steps through the other hands of its episode by start time.

``ORDER`` is the one definition, as SQL over ``content_view v``: the read model's series
listing (``listing.list_contents``, with its cursors), the series pages and ``neighbours`` all
sort by it. It is computed from the stored facts rather than read from ``contents.sort_key``
(the classifier's key, published to Firestore), which would need a reclassify of every
existing catalog to change; a series holds at most a few hundred contents.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

# Titles that name the last day of a tournament (matched case-insensitively).
FINAL_PHRASES = ("final table", "final day", "파이널")
_FINAL_TITLE = "(" + " OR ".join(f"v.title LIKE '%{p}%'" for p in FINAL_PHRASES) + ")"
_LAST_DAY = 10_000  # after every real day number

ORDER: tuple[str, ...] = (
    "(v.kind != 'episode')",
    "coalesce(v.year, 0)",
    "coalesce(v.season, 0)",
    "coalesce(v.event_number, 0)",
    # the day's number ('1A' -> 1); a day that is no number ('FINAL') or a final table: last
    f"(CASE WHEN v.day GLOB '[0-9]*' THEN CAST(v.day AS INTEGER) "
    f"WHEN v.day IS NOT NULL OR {_FINAL_TITLE} THEN {_LAST_DAY} ELSE 0 END)",
    # then its flight letter ('1A' < '1B')
    "lower(trim(ltrim(coalesce(v.day, ''), '0123456789')))",
    "coalesce(v.part, 0)",
    "coalesce(v.episode, 0)",
    "coalesce(v.stream_date, '')",
    "lower(v.title)",
    "v.id",
)
HAND_ORDER: tuple[str, ...] = ("coalesce(v.start_sec, 0)", "lower(v.title)", "v.id")


@dataclass(frozen=True, slots=True)
class Neighbours:
    previous: str | None = None
    next: str | None = None


def is_final_table(title: str) -> bool:
    """Whether a title names a final table or final day (pure; ``ORDER``'s rule)."""
    folded = title.casefold()
    return any(phrase in folded for phrase in FINAL_PHRASES)


def series_ids(conn: sqlite3.Connection, series_id: str) -> list[str]:
    """A series' visible own contents (episodes, then clips cut as files) in series order."""
    rows = conn.execute(
        "SELECT v.id FROM contents c JOIN content_view v ON v.id = c.id "
        "WHERE c.series_id = ? AND c.parent_id IS NULL AND v.visible "
        f"ORDER BY {', '.join(ORDER)}",
        (series_id,),
    )
    return [str(r[0]) for r in rows]


def neighbours(conn: sqlite3.Connection, content_id: str) -> Neighbours:
    """The previous and next content of a visible content in its sequence (module doc)."""
    row = conn.execute(
        "SELECT kind, series_id, parent_id FROM contents WHERE id = ?", (content_id,)
    ).fetchone()
    if row is None:
        return Neighbours()
    kind, series_id, parent_id = row
    if parent_id is not None:
        source = "content_view v WHERE v.parent_id = ? AND v.visible"
        params: tuple[object, ...] = (parent_id,)
        order = HAND_ORDER
    elif series_id is not None:
        # a top-level content's series is its own column: the series index answers
        source = (
            "contents c JOIN content_view v ON v.id = c.id WHERE c.series_id = ? "
            "AND c.parent_id IS NULL AND v.visible AND v.kind = ?"
        )
        params = (series_id, kind)
        order = ORDER
    else:
        return Neighbours()
    found = conn.execute(
        "SELECT previous, next FROM (SELECT v.id, lag(v.id) OVER w AS previous, "
        f"lead(v.id) OVER w AS next FROM {source} WINDOW w AS (ORDER BY {', '.join(order)})) "
        "WHERE id = ?",
        (*params, content_id),
    ).fetchone()
    return Neighbours() if found is None else Neighbours(found[0], found[1])
