"""The status report: each stage contributes a section computed from the catalog.

A section provider takes a read connection and a row limit and returns a ``Section``. Stages
register theirs in ``PROVIDERS`` (kept here so the report has one order).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Section:
    """A titled list of rows (dicts with the same keys)."""

    key: str
    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)


Provider = Callable[[sqlite3.Connection, int], Section]


def _providers() -> list[Provider]:
    # Imported lazily: each stage owns its section; status sits on top of all of them.
    from archive_analyzer.catalog import report

    return list(report.PROVIDERS)


def collect(conn: sqlite3.Connection, limit: int = 10) -> list[Section]:
    """Every stage's section, in report order."""
    return [provider(conn, limit) for provider in _providers()]
