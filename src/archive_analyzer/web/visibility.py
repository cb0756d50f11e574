"""Per-brand visibility: an account limited to some brands sees, searches and streams
nothing else (``user_brands``; admins and unlimited accounts see everything).

A content's brand is its *effective* brand, the catalog's read model's (``content_view``,
docs/classification.md "Reading the catalog"; ``queries.card``'s ``catalog_id``), so a clip of
a hidden brand's episode is hidden too. Routes ask here before answering for one content, series or
brand, lists drop what is not visible, and search filters on ``search_docs.catalog_id``
(``SearchQuery.visible``). Anything not visible answers 404, as if it did not exist.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import TypeVar

from archive_analyzer.web import queries
from archive_analyzer.web.accounts import User

T = TypeVar("T")


def limit_of(user: User) -> frozenset[str] | None:
    """The brands ``user`` may see, or None for every brand."""
    return None if user.is_admin else user.brands


def brand_visible(user: User, catalog_id: str | None) -> bool:
    limit = limit_of(user)
    return limit is None or (catalog_id is not None and catalog_id in limit)


def content_visible(conn: sqlite3.Connection, user: User, content_id: str) -> bool:
    """Whether ``content_id`` is a visible content of a brand ``user`` may see."""
    if limit_of(user) is None:
        return True
    found = queries.card(conn, content_id)
    return found is not None and brand_visible(user, found.catalog_id)


def series_visible(conn: sqlite3.Connection, user: User, series_id: str) -> bool:
    if limit_of(user) is None:
        return True
    found = queries.series(conn, series_id)
    return found is not None and brand_visible(user, found.catalog_id)


def keep(user: User, items: Iterable[T], brand_of: str = "catalog_id") -> list[T]:
    """The items (cards, catalog or series rows) whose brand ``user`` may see."""
    limit = limit_of(user)
    if limit is None:
        return list(items)
    if brand_of == "id":
        return [i for i in items if getattr(i, "id", None) in limit]
    return [i for i in items if getattr(i, brand_of, None) in limit]
