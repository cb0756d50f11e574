"""Listing visible contents: which ones (``ContentFilter``), how many, and one page at a time.

A listing reads ``content_view`` (the read model, ``catalog/read.py``) and pages by key
("keyset" paging: rows added or removed before the cursor never shift the pages after it).
Values in, values out; never writes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archive_analyzer.catalog import series_order
from archive_analyzer.catalog.read import ID_SET, ContentRow, content_row


@dataclass(frozen=True, slots=True)
class ContentFilter:
    """Which visible contents a listing holds. ``series_id`` lists a series' own contents
    (episodes and own-file clips) in series order (``series_order.ORDER``); otherwise the
    listing is newest first (``created_at``, then id). Every condition narrows."""

    catalog_id: str | None = None
    series_id: str | None = None
    year: int | None = None
    kind: str | None = None
    brands: frozenset[str] | None = None  # only contents of these brands (None: every brand)


# A listing's order and the key a cursor continues from ("keyset" paging: rows added or
# removed before the cursor never shift the pages after it).
_NEWEST = ("v.created_at", "v.id")
_EPISODE_ORDER = series_order.ORDER  # (year, event, day, part, episode, title: series_order)


def _listing(where: ContentFilter) -> tuple[str, str, list[Any], tuple[str, ...], bool]:
    """(FROM clause, WHERE clause, params, order columns, descending) of a listing."""
    conditions = ["v.visible"]
    params: list[Any] = []
    source = "content_view v"
    if where.series_id is not None:
        # A top-level content's effective series is its own column, so the series index
        # answers (content_view's series_id is an expression no index covers).
        source = "contents c JOIN content_view v ON v.id = c.id"
        conditions += ["c.series_id = ?", "c.parent_id IS NULL"]
        params.append(where.series_id)
    if where.catalog_id is not None:
        conditions.append("v.catalog_id = ?")
        params.append(where.catalog_id)
    if where.year is not None:
        conditions.append("v.year = ?")
        params.append(where.year)
    if where.kind is not None:
        conditions.append("v.kind = ?")
        params.append(where.kind)
    if where.brands is not None:
        conditions.append(f"v.catalog_id IN {ID_SET}")
        params.append(json.dumps(sorted(where.brands)))
    if where.series_id is not None:
        return source, " AND ".join(conditions), params, _EPISODE_ORDER, False
    return source, " AND ".join(conditions), params, _NEWEST, True


def count_contents(conn: sqlite3.Connection, where: ContentFilter) -> int:
    """How many visible contents ``where`` lists."""
    source, condition, params, _, _ = _listing(where)
    return int(
        conn.execute(f"SELECT count(*) FROM {source} WHERE {condition}", params).fetchone()[0]
    )


def list_contents(
    conn: sqlite3.Connection,
    where: ContentFilter,
    *,
    limit: int | None,
    offset: int = 0,
    after: Sequence[Any] | None = None,
) -> tuple[list[ContentRow], tuple[Any, ...] | None]:
    """One page of the listing: up to ``limit`` rows (None: all) after the key ``after`` (a
    key this function returned) or, without one, after ``offset`` rows. Returns the rows and
    the key of the last one when more follow (None on the last page)."""
    source, condition, params, order, descending = _listing(where)
    if after is not None:
        if len(after) != len(order):
            raise ValueError("cursor does not fit this listing")
        # Row values compare column by column: the rows strictly past the last one shown.
        columns = ", ".join(order)
        marks = ", ".join("?" for _ in order)
        condition += f" AND ({columns}) {'<' if descending else '>'} ({marks})"
        params = [*params, *after]
        offset = 0
    direction = " DESC" if descending else ""
    ordering = ", ".join(f"{column}{direction}" for column in order)
    # the order's values, for the cursor (they may be expressions, not columns)
    keys = ", ".join(f"{column} AS _order_{n}" for n, column in enumerate(order))
    # one row more than asked tells whether another page follows (-1: SQLite's "no limit")
    rows = conn.execute(
        f"SELECT v.*, {keys} FROM {source} WHERE {condition} ORDER BY {ordering} LIMIT ? OFFSET ?",
        [*params, -1 if limit is None else limit + 1, max(0, offset)],
    ).fetchall()
    if limit is None:
        return [content_row(r) for r in rows], None
    page = [content_row(r) for r in rows[:limit]]
    if len(rows) <= limit or not page:
        return page, None
    last = rows[limit - 1]
    return page, tuple(last[f"_order_{n}"] for n in range(len(order)))
