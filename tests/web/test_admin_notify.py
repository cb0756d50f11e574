"""The admin page says, per source, whether change notifications are active and what they saw
last (issue 19), the same as ``archive-analyzer status``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from archive_analyzer.catalog import db, notify_state
from tests.fixtures.browser import serve_app
from tests.web.conftest import PASSWORD
from tests.web.test_hls import Site, make_site

SOURCE = "smb://archive@nas/archive"


@pytest.fixture
def site(tmp_path: Path, corpus: dict[str, Path]) -> Site:
    made = make_site(tmp_path, corpus, ("mkv",))
    conn = db.connect(made.settings.db)
    try:
        with db.transaction(conn):
            stamp = "2026-05-01T12:00:00.000000Z"
            notify_state.set_health(conn, SOURCE, mechanism="SMB2 CHANGE_NOTIFY (watch tree)",
                                    health="active", detail=None, now=stamp)  # fmt: skip
            record = notify_state.RoundRecord(
                events=3, last_event="added WSOP/2025/Day 1.mp4", last_event_at=stamp
            )
            notify_state.record_round(conn, SOURCE, record, stamp)
    finally:
        conn.close()
    return made


@pytest.mark.slow
def test_an_admin_sees_whether_notifications_are_active(
    site: Site, chromium: Any, artifacts: Path
) -> None:
    with serve_app(site.app) as server:
        context = chromium.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(f"{server.url}/login")
        page.fill("input[name=username]", "boss")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/")
        page.click("text=Admin")
        page.wait_for_url(f"{server.url}/admin")
        section = page.locator("section#notifications")
        assert "Change notifications" in section.inner_text()
        row = section.locator("tbody tr").first
        text = row.inner_text()
        assert SOURCE in text and "watching (changes arrive at once)" in text
        assert "added WSOP/2025/Day 1.mp4" in text
        section.screenshot(path=artifacts / "admin-notifications.png")
        context.close()
