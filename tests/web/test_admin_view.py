"""The admin page's wording: every column of the status report has a label in both languages,
stored statuses read as words, values are formatted by kind."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from archive_analyzer.catalog import db, report
from archive_analyzer.web import admin, admin_view, i18n
from archive_analyzer.web.formatting import Formatter


def _columns(conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The column names of every report section (read from the queries, rows or not)."""

    def described(conn: sqlite3.Connection, sql: str, *params: Any) -> list[dict[str, Any]]:
        cursor = conn.execute(sql, params)
        return [{d[0]: None for d in cursor.description}]

    monkeypatch.setattr(report, "_rows", described)
    names: set[str] = set()
    for provider in [*report.PROVIDERS, *admin.OVERVIEW]:
        for row in provider(conn, 10).rows:
            names |= set(row)
    return names


def test_every_report_column_has_a_label(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = db.connect(tmp_path / "c.db")
    columns = _columns(conn, monkeypatch) | set(admin.users(conn)[0] if admin.users(conn) else {})
    columns |= {"username", "role", "last_login_at", "created_at", "reason", "when", "attempts"}
    for lang in i18n.LANGUAGES:
        missing = sorted(c for c in columns if f"col_{c}" not in i18n.MESSAGES[lang])
        assert missing == [], f"{lang}: columns without a label: {missing}"
    sections = {p(conn, 10).key for p in [*report.PROVIDERS, *admin.OVERVIEW]}
    for lang in i18n.LANGUAGES:
        assert sorted(s for s in sections if f"section_{s}" not in i18n.MESSAGES[lang]) == []


@pytest.mark.parametrize(
    "value",
    [
        "in_progress",
        "completed",
        "failed",
        "suspect",
        "full",
        "incremental",
        "poll",
        "active",
        "incoming",
        "missing",
        "deleted",
        "ok",
        "truncated",
        "incomplete",
        "invalid",
        "unsupported",
        "error",
        "running",
        "viewer",
        "admin",
        "sqlite",
        "redis",
    ],
)
def test_statuses_in_words(value: str) -> None:
    for lang in i18n.LANGUAGES:
        assert f"value_{value}" in i18n.MESSAGES[lang]
    t = i18n.translator("en")
    assert admin_view.word("job:probe", t) == "probe job failed"
    assert admin_view.word("some_new_state", t) == "some new state"


def test_cells_are_formatted_by_kind() -> None:
    fmt = Formatter("en", lambda: datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    t = i18n.translator("en")
    assert admin_view.cell("files_new", 12345, t, fmt) == "12,345"
    assert admin_view.cell("bytes", 3 * 1024**3, t, fmt) == "3 GB"
    assert admin_view.cell("avg_bytes_read", 24_300, t, fmt) == "23.7 KB"
    assert admin_view.cell("duration_s", 7200.0, t, fmt) == "2 hours"
    assert admin_view.cell("avg_ms", 12.34, t, fmt) == "12.3 ms"
    assert admin_view.cell("status", "in_progress", t, fmt) == "running"
    started = admin_view.cell("started_at", "2026-01-01T11:57:00.000000Z", t, fmt)
    assert "3 minutes ago" in started and 'title="2026-01-01 11:57:00 UTC"' in started
    ko = admin_view.cell("status", "completed", i18n.translator("ko"), Formatter("ko"))
    assert ko == "완료"
    table = admin_view.rows_table("x", "X", [{"files": 3, "path": "a/b.mp4", "at": None}], t, fmt)
    assert [c.label for c in table.columns] == ["Files", "File", "When"]
    assert table.columns[0].numeric and table.columns[1].wrap
