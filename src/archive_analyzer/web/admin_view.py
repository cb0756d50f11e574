"""The admin pages as people read them: the status report's sections as labelled tables of
formatted values (counts with separators, sizes in units, times relative with the exact time
on hover, statuses in words), in the page's language.

Columns are labelled by the message ``col_<name>``; a value of a status-like column
(``status``, ``kind``, ``role``) by ``value_<value>``. How a value is formatted follows from
its column's name (``*_at`` a time, ``*bytes*`` / ``size`` a size, ``*_s`` seconds,
``*_ms`` milliseconds), so a section added to the report reads well once its columns have
labels (``tests/web/test_admin_view.py`` checks that every column of the report has one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from archive_analyzer.catalog.report import Section
from archive_analyzer.web.formatting import Formatter
from archive_analyzer.web.i18n import Translate

_WORD_COLUMNS = frozenset(
    {"status", "kind", "role", "task", "backend", "event", "health", "mechanism"}
)
_TEXT_COLUMNS = frozenset({"path", "message", "error", "reason", "last_path", "title", "username"})


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    numeric: bool = False
    wrap: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    """A section ready to show: ``rows`` hold one formatted cell per column."""

    key: str
    title: str
    columns: list[Column]
    rows: list[list[Markup]]


def _is_time(key: str) -> bool:
    return key.endswith(("_at", "_since")) or key in ("at", "oldest_dispatch", "when", "since")


def _is_size(key: str) -> bool:
    return key in ("bytes", "size") or "bytes" in key


def label(key: str, t: Translate) -> str:
    """The column's label (its ``col_`` message; the name made readable when there is none)."""
    text = t(f"col_{key}")
    return key.replace("_", " ").capitalize() if text == f"col_{key}" else text


def word(value: str, t: Translate, column: str | None = None) -> str:
    """A stored status or kind in words (``in_progress`` -> ``running`` / ``진행 중``; a failed
    job's kind ``job:<task>`` -> ``<task> job failed``). A value that means something else in
    another column (a file's ``active`` is "present", a watch's "watching") is looked up as
    ``value_<column>_<value>`` first."""
    if value.startswith("job:"):
        return t("failed_job", task=word(value[4:], t))
    slug = re.sub(r"[^a-z0-9]+", "_", value.casefold()).strip("_")
    for key in ((f"value_{column}_{slug}",) if column else ()) + (f"value_{slug}",):
        text = t(key)
        if text != key:
            return text
    return value if " " in value else value.replace("_", " ")  # free text stays as written


def cell(key: str, value: Any, t: Translate, fmt: Formatter) -> Markup:
    """One value of column ``key``, formatted for reading."""
    if value is None or value == "":
        return Markup("")
    if _is_time(key) and isinstance(value, str):
        return fmt.ago(value)
    if isinstance(value, bool):
        return Markup(escape(t("yes") if value else t("no")))
    if isinstance(value, int | float):
        if _is_size(key):
            return Markup(escape(fmt.size(int(value))))
        if key.endswith("_ms"):
            return Markup(escape(t("n_ms", n=fmt.count(round(float(value), 1)))))
        if key.endswith("_s"):
            return Markup(escape(fmt.seconds(float(value))))
        return Markup(escape(fmt.count(value)))
    if key in _WORD_COLUMNS:
        return Markup(escape(word(str(value), t, key)))
    return Markup(escape(str(value)))


def table(section: Section, t: Translate, fmt: Formatter) -> Table:
    """A report section as a table; the title is the ``section_<key>`` message."""
    title = t(f"section_{section.key}")
    if title == f"section_{section.key}":
        title = section.title
    return rows_table(section.key, title, section.rows, t, fmt)


def rows_table(
    key: str, title: str, rows: Sequence[Mapping[str, Any]], t: Translate, fmt: Formatter
) -> Table:
    names = list(rows[0].keys()) if rows else []
    columns = [
        Column(
            name,
            label(name, t),
            numeric=any(isinstance(r.get(name), int | float) for r in rows) and not _is_time(name),
            wrap=name in _TEXT_COLUMNS,
        )
        for name in names
    ]
    return Table(key, title, columns, [[cell(n, r.get(n), t, fmt) for n in names] for r in rows])
