"""In Chromium, as the archive team works: an editor marks a hand with I and O in the player,
picks a player by 초성 in the form, saves; the hand shows as a marker on the seek bar and in
the list beside the player, and a search by the player's 초성 finds it; the editor downloads
the hand as a clip. A viewer sees none of the marking or download controls and gets 403 from
their routes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from archive_analyzer.catalog import db
from archive_analyzer.web import accounts
from tests.web.conftest import PASSWORD, WebEnv, make_env
from tests.web.job_system import job_system

pytestmark = pytest.mark.slow


@pytest.fixture
def site(
    tmp_path: Path, web_media: Path, live_server: Callable[[Any], Any]
) -> Iterator[tuple[WebEnv, str]]:
    env = make_env(tmp_path, web_media)
    conn = env.conn()
    accounts.add_user(conn, "eddie", PASSWORD, role="editor")
    stamp = db.timestamp(db.utc_now())
    with db.transaction(conn):
        conn.execute(
            "INSERT INTO players (id, name, name_key, name_kr, created_at, updated_at) "
            "VALUES (?, 'Alex Foxen', 'alex foxen', '알렉스 폭슨', ?, ?)",
            (db.new_id(), stamp, stamp),
        )
        conn.execute(
            "UPDATE media_info SET timecode = '01:00:00:00' WHERE id = "
            "(SELECT file_id FROM contents WHERE id = ?)",
            (env.ids.ep2,),
        )
    conn.close()
    with job_system(env.settings):
        app = env.app
        with live_server(app) as server:
            yield env, server.url


def _login(chromium: Any, url: str, username: str) -> tuple[Any, Any]:
    # Playwright's string predicates need eval, which the app's CSP forbids (as in test_e2e)
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-US", bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    return context, page


def _seek(page: Any, seconds: float) -> None:
    page.evaluate(f"document.getElementById('player').currentTime = {seconds}")
    page.wait_for_function(
        f"(() => {{ const v = document.getElementById('player'); "
        f"return !v.seeking && Math.abs(v.currentTime - {seconds}) < 0.05; }})()"
    )


def test_an_editor_marks_a_hand_and_a_viewer_cannot(
    site: tuple[WebEnv, str], chromium: Any, artifacts: Path
) -> None:
    env, url = site
    errors: list[str] = []
    context, page = _login(chromium, url, "eddie")  # the editor role
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{url}/content/{env.ids.ep2}")
    page.wait_for_function("document.getElementById('player').readyState >= 1")

    # the source timecode beside the time
    _seek(page, 2.0)
    page.wait_for_function("document.getElementById('clock-source').textContent === '01:00:02:00'")
    assert page.locator("#clock-time").inner_text() == "0:00:02"

    # I at 2 s, frame steps with . and , , O at 5 s
    page.locator("body").press("i")
    assert page.input_value("#hand-start") == "01:00:02:00"
    page.locator("body").press(".")
    page.wait_for_function("document.getElementById('clock-source').textContent === '01:00:02:01'")
    page.locator("body").press(",")
    page.wait_for_function("document.getElementById('clock-source').textContent === '01:00:02:00'")
    _seek(page, 5.0)
    page.locator("body").press("o")
    assert page.input_value("#hand-end") == "01:00:05:00"

    # the form: a player picked by 초성 from the type-ahead, winner, pot, all-in, tags
    page.fill("#player-search", "ㅍㅅ")
    page.wait_for_selector("#player-options li")
    assert "Alex Foxen · 알렉스 폭슨" in page.locator("#player-options li").first.inner_text()
    page.locator("#player-options li").first.dispatch_event("mousedown")
    page.wait_for_selector("#player-chips .chip")
    page.select_option("select[name=winner]", label="Alex Foxen")
    page.fill("input[name=pot_size_bb]", "42")
    page.check("input[name=is_all_in]")
    page.fill("input[name=tags]", "Hero Call")
    page.select_option("select[name=highlight_score]", "3")
    page.screenshot(path=artifacts / "marking-form.png", full_page=True)
    page.click("#hand-save")
    page.wait_for_function("document.getElementById('hand-status').textContent === 'Hand saved.'")

    # a marker on the seek bar and an entry in the list beside the player
    page.wait_for_selector("#markers .marker")
    assert page.locator("#markers .marker").count() == 1
    item = page.locator("#hand-list li[data-hand]")
    assert item.count() == 1
    assert "Hand 01:00:02:00 – Alex Foxen" in item.inner_text()
    assert "01:00:02:00–01:00:05:00" in item.inner_text()
    hand_id = item.get_attribute("data-hand")
    page.screenshot(path=artifacts / "marking-marked.png", full_page=True)
    _seek(page, 0.0)
    page.locator("#markers .marker").click()  # jumps to the hand
    page.wait_for_function("document.getElementById('player').currentTime >= 1.9")

    # search by the player's 초성 finds the hand
    page.goto(f"{url}/search?q=ㅇㄹㅅ ㅍㅅ")
    results = page.locator("ul.results li a")
    assert results.count() >= 1
    assert f"/content/{hand_id}" in [
        results.nth(i).get_attribute("href") for i in range(results.count())
    ]

    # the hand's clip, downloaded (stream copy; the status says the real in and out)
    page.goto(f"{url}/content/{hand_id}")
    with page.expect_download() as download:
        page.click(".export-clip[data-exact='0']")
    assert download.value.suggested_filename == "Hand 01:00:02:00 – Alex Foxen.mp4".replace(
        ":", "_"
    )
    assert "01:00:02:00–01:00:05:00" in page.locator(".export-status").inner_text()
    page.screenshot(path=artifacts / "marking-export.png", full_page=True)
    assert errors == []
    context.close()

    # a viewer: the markers and the list, no marking or download controls, 403 from the routes
    context, page = _login(chromium, url, "viewer")
    page.goto(f"{url}/content/{env.ids.ep2}")
    page.wait_for_selector("#markers .marker")
    for control in ("#mark-in", "#hand-form", ".export-clip", ".download-original", ".edit-lists"):
        assert page.locator(control).count() == 0, control
    page.goto(f"{url}/content/{hand_id}")
    assert page.locator(".export-clip").count() == 0
    statuses = page.evaluate(
        """async ([ep, hand]) => {
          const csrf = document.querySelector('meta[name="csrf-token"]').content;
          const headers = {"Content-Type": "application/json", "X-CSRF-Token": csrf};
          const body = JSON.stringify({start: "1", end: "2"});
          const calls = [
            fetch(`/api/contents/${ep}/hands`, {method: "POST", headers, body}),
            fetch(`/api/hands/${hand}`, {method: "PUT", headers, body}),
            fetch(`/api/hands/${hand}`, {method: "DELETE", headers}),
            fetch(`/api/contents/${hand}/export`, {method: "POST", headers, body: "{}"}),
            fetch(`/download/${ep}`),
            fetch(`/exports/edit-list?format=edl&content=${ep}`),
          ];
          return (await Promise.all(calls)).map(r => r.status);
        }""",
        [env.ids.ep2, hand_id],
    )
    assert statuses == [403] * 6
    page.screenshot(path=artifacts / "marking-viewer.png", full_page=True)
    context.close()
