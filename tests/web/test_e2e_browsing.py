"""Browsing like a streaming service, in a real browser (Chromium via Playwright) against the app
served by uvicorn: "Up next" at the end of an episode (autoplay on, cancelled, off), mark
watched and unwatched, the check mark and "continue watching", My list, sorting, a series
poster upload by an editor (through a running catalog writer), typo-tolerant search, the
Korean UI's natural poker terms, and the admin pages at 390 px. Screenshots go to
./artifacts/. The page's Content-Security-Policy is kept on (no bypass)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web import browsing_data
from tests.web.conftest import PASSWORD, WebEnv, make_env
from tests.web.job_system import job_system

pytestmark = pytest.mark.slow


@pytest.fixture
def site(
    tmp_path: Path, web_media: Path, live_server: Callable[[Any], Any]
) -> Iterator[tuple[WebEnv, browsing_data.More, str]]:
    env = make_env(tmp_path, web_media)
    conn = env.conn()
    more = browsing_data.add(conn, env.ids.source)
    conn.close()
    with live_server(env.app) as server:
        yield env, more, server.url


def _browser(
    chromium: Any, url: str, user: str, *, locale: str = "en-US", width: int = 1280
) -> Any:
    context = chromium.new_context(viewport={"width": width, "height": 900}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{url}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{url}/")
    return page


def _until(page: Any, script: str, timeout_s: float = 20.0) -> None:
    """Poll ``script`` (a JavaScript expression) until it is true. ``wait_for_function`` would
    evaluate a string, which the page's Content-Security-Policy (no eval) forbids."""
    import time

    deadline = time.monotonic() + timeout_s
    while not page.evaluate(f"async () => !!(await ({script}))"):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {script}")
        page.wait_for_timeout(100)


def _near_the_end(page: Any, seconds_left: float) -> None:
    _until(page, "document.getElementById('player').readyState >= 1")
    page.evaluate(
        "(left) => { const v = document.getElementById('player'); "
        "v.currentTime = v.duration - left; v.play(); }",
        seconds_left,
    )


def test_up_next_goes_to_the_next_episode(
    site: tuple[WebEnv, browsing_data.More, str], chromium: Any, artifacts: Path
) -> None:
    env, more, url = site
    page = _browser(chromium, url, "viewer")
    # Day 1A (Part 1) is followed by Day 2 (Part 2), then the final table (series order)
    api = page.evaluate(f"fetch('/api/contents/{env.ids.ep1}').then(r => r.json())")
    assert (api["next"], api["previous"], api["watched"]) == (env.ids.ep2, None, False)
    api2 = page.evaluate(f"fetch('/api/contents/{env.ids.ep2}').then(r => r.json())")
    assert (api2["previous"], api2["next"]) == (env.ids.ep1, more.final_table)

    page.goto(f"{url}/watch/{env.ids.ep1}")
    box = page.locator("#up-next")
    assert box.is_hidden()
    # in the last seconds: the card with a countdown; "Cancel" keeps us here
    _near_the_end(page, 6)
    box.wait_for(state="visible")
    assert "Day 2 (Part 2)" in box.inner_text()
    _until(page, "/Starts in \\d s/.test(document.querySelector('.up-next-count').textContent)")
    page.screenshot(path=artifacts / "up-next.png")
    page.click("#up-next-cancel")
    assert box.is_hidden()
    _until(page, "document.getElementById('player').ended")
    page.wait_for_timeout(500)
    assert page.url.endswith(f"/watch/{env.ids.ep1}")

    # again without cancelling: at the end the next episode opens and plays
    page.reload()
    _near_the_end(page, 3)
    box.wait_for(state="visible")
    page.wait_for_url(f"**/watch/{env.ids.ep2}?autoplay=1")
    _until(page, "document.getElementById('player').currentTime > 0.5")
    # played to the end: watched, and the series page shows it with what is left
    assert page.evaluate(f"fetch('/api/contents/{env.ids.ep1}').then(r => r.json())")["watched"]
    page.goto(f"{url}/series/s-wsop-2024-me")
    assert page.locator(
        f"li.episode.is-watched[data-item='{env.ids.ep1}'] .watched-mark"
    ).is_visible()
    assert page.locator("#episodes-left").inner_text() == "2 left to watch"

    # a hand's "next" is the next hand of its episode: the only hand has none
    clip = page.evaluate(f"fetch('/api/contents/{env.ids.clip}').then(r => r.json())")
    assert clip["next"] is None and clip["previous"] is None
    page.context.close()


def test_autoplay_off_waits(
    site: tuple[WebEnv, browsing_data.More, str], chromium: Any, artifacts: Path
) -> None:
    env, _, url = site
    page = _browser(chromium, url, "viewer")
    page.goto(f"{url}/account")
    page.click("#viewing-settings")
    page.wait_for_url(f"{url}/settings")
    assert page.is_checked("#autoplay")
    page.uncheck("#autoplay")
    page.click("main button[type=submit]")
    page.wait_for_selector("#settings-saved")
    assert not page.is_checked("#autoplay")

    page.goto(f"{url}/watch/{env.ids.ep1}")
    _near_the_end(page, 3)
    box = page.locator("#up-next")
    box.wait_for(state="visible")
    assert page.locator(".up-next-count").is_hidden()  # no countdown
    _until(page, "document.getElementById('player').ended")
    page.wait_for_timeout(1500)
    assert page.url.endswith(f"/watch/{env.ids.ep1}")  # stayed
    page.screenshot(path=artifacts / "up-next-autoplay-off.png")
    page.click("#up-next-play")
    page.wait_for_url(f"**/watch/{env.ids.ep2}?autoplay=1")
    page.context.close()


def test_watched_marks_continue_watching_and_my_list(
    site: tuple[WebEnv, browsing_data.More, str], chromium: Any, artifacts: Path
) -> None:
    env, _more, url = site
    page = _browser(chromium, url, "viewer")
    assert page.locator("#continue").count() == 0
    # watch the first 12 s of Day 1A, then leave
    page.goto(f"{url}/watch/{env.ids.ep1}")
    _until(page, "document.getElementById('player').readyState >= 1")
    page.evaluate(
        "(() => { const v = document.getElementById('player'); v.currentTime = 12; v.play(); })()"
    )
    _until(page, "document.getElementById('player').currentTime > 12.5")
    page.evaluate("document.getElementById('player').pause()")
    _until(
        page,
        f"fetch('/api/progress').then(r => r.json()).then(p => p.some(x => x.content_id === "
        f"'{env.ids.ep1}' && x.position_s > 12))",
    )
    page.goto(f"{url}/")
    row = page.locator("#continue")
    tile = row.locator(f".tile[data-item='{env.ids.ep1}']")
    assert tile.count() == 1
    assert tile.locator("progress.poster-progress").count() == 1
    assert not tile.locator(".watched-mark").is_visible()
    page.screenshot(path=artifacts / "continue-watching.png", full_page=True)

    # mark it watched from the tile: a check mark, and it leaves "continue watching"
    tile.locator("button.watched-toggle").click()
    _until(
        page,
        f"document.querySelector(\"#continue .tile[data-item='{env.ids.ep1}']\")"
        ".classList.contains('is-watched')",
    )
    assert tile.locator(".watched-mark").is_visible()
    page.reload()
    assert page.locator("#continue").count() == 0
    recent = page.locator(f"#recent .tile[data-item='{env.ids.ep1}']")
    assert recent.locator(".watched-mark").is_visible()
    assert recent.locator("button.watched-toggle").get_attribute("aria-pressed") == "true"
    # and unwatched again from the content page
    page.goto(f"{url}/content/{env.ids.ep1}")
    assert page.locator("h1 .watched-mark").count() == 1
    page.click("main .actions button.watched-toggle")
    _until(
        page,
        "document.querySelector('main .actions button.watched-toggle')"
        ".getAttribute('aria-pressed') === 'false'",
    )
    page.goto(f"{url}/")
    assert not page.locator(f"#recent .tile[data-item='{env.ids.ep1}'] .watched-mark").is_visible()
    assert (
        page.evaluate(f"fetch('/api/contents/{env.ids.ep1}').then(r => r.json())")["watched"]
        is False
    )

    # My list: an episode from its tile, a whole series from its page
    assert page.locator("#my-list").count() == 0
    page.locator(f"#recent .tile[data-item='{env.ids.ep2}'] button.list-toggle").click()
    page.goto(f"{url}/series/s-zeta")
    page.click("main .page-head button.list-toggle")
    _until(
        page,
        "document.querySelector('main .page-head button.list-toggle')"
        ".getAttribute('aria-pressed') === 'true'",
    )
    page.goto(f"{url}/")
    items = page.locator("#my-list .tile")
    assert items.count() == 2
    assert items.nth(0).get_attribute("data-item") == "s-zeta"  # newest addition first
    assert items.nth(1).get_attribute("data-item") == env.ids.ep2
    page.screenshot(path=artifacts / "my-list.png", full_page=True)
    page.locator(f"#my-list .tile[data-item='{env.ids.ep2}'] button.list-toggle").click()
    _until(
        page,
        f"document.querySelector(\"#my-list .tile[data-item='{env.ids.ep2}'] "
        "button.list-toggle\").getAttribute('aria-pressed') === 'false'",
    )
    page.reload()
    assert page.locator("#my-list .tile").count() == 1
    page.context.close()


def test_sorting_brand_and_series_pages(
    site: tuple[WebEnv, browsing_data.More, str], chromium: Any, artifacts: Path
) -> None:
    env, more, url = site
    page = _browser(chromium, url, "viewer")

    def series_order() -> list[str]:
        return [
            t.get_attribute("data-item") or ""
            for t in page.locator("#series-grid .series-tile").all()
        ]

    page.goto(f"{url}/brand/wsop")
    assert series_order() == ["s-zeta", "s-wsop-2024-me", "s-alpha", "s-wsop-2003"]  # newest
    page.select_option("select[name=sort]", "oldest")
    page.wait_for_url("**sort=oldest")
    assert series_order() == ["s-wsop-2003", "s-alpha", "s-wsop-2024-me", "s-zeta"]
    page.select_option("select[name=sort]", "title")
    page.wait_for_url("**sort=title")
    assert series_order() == ["s-wsop-2024-me", "s-alpha", "s-wsop-2003", "s-zeta"]
    # the clip cut as its own file shows in the brand's clips row
    assert page.locator(f"#clips .tile[data-item='{more.own_clip}']").count() == 1
    page.screenshot(path=artifacts / "brand-sorted.png", full_page=True)
    # date played: what was watched last comes first
    page.evaluate(
        "(id) => fetch('/api/watched', {method: 'POST', headers: {'Content-Type': "
        "'application/json', 'X-CSRF-Token': document.querySelector('meta[name=csrf-token]')"
        ".content}, body: JSON.stringify({content_id: id, watched: true})})",
        more.alpha,
    )
    page.select_option("select[name=sort]", "played")
    page.wait_for_url("**sort=played")
    assert series_order()[0] == "s-alpha"
    alpha = page.locator(".series-tile[data-item='s-alpha']")
    assert alpha.locator(".watched-mark").is_visible()  # every episode watched

    page.goto(f"{url}/series/s-wsop-2024-me")

    def episodes() -> list[str]:
        return [e.get_attribute("data-item") or "" for e in page.locator("#episodes li").all()]

    assert episodes() == [env.ids.ep1, env.ids.ep2, more.final_table]  # series order
    page.select_option("select[name=sort]", "newest")
    page.wait_for_url("**sort=newest")
    assert episodes() == [more.final_table, env.ids.ep2, env.ids.ep1]
    assert page.locator(f"#clips .tile[data-item='{env.ids.clip}']").count() == 1  # hands row
    page.context.close()


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 40)).save(out, "PNG")
    return out.getvalue()


def test_editor_uploads_a_series_poster(
    site: tuple[WebEnv, browsing_data.More, str], chromium: Any, artifacts: Path, tmp_path: Path
) -> None:
    env, _, url = site
    viewer = _browser(chromium, url, "viewer")
    viewer.goto(f"{url}/series/s-wsop-2024-me")
    assert viewer.locator(".poster-editor").count() == 0  # viewers cannot change posters
    viewer.context.close()

    poster = tmp_path / "poster.png"
    poster.write_bytes(_png(1600, 900))
    page = _browser(chromium, url, "boss")
    page.goto(f"{url}/series/s-wsop-2024-me")
    before = page.get_attribute("#series-poster", "src")
    with job_system(env.settings):
        page.click(".poster-editor summary")
        page.set_input_files(".poster-upload input[type=file]", str(poster))
        page.click(".poster-upload button[type=submit]")
        page.wait_for_selector("#poster-result")
    assert page.locator("#poster-result").inner_text() == "Poster saved."
    after = page.get_attribute("#series-poster", "src")
    assert after != before and after.startswith("/poster/series/s-wsop-2024-me?v=")
    _until(
        page,
        "document.getElementById('series-poster').complete && "
        "document.getElementById('series-poster').naturalWidth === 1280",
    )
    # the brand page's tile shows the same poster, the title under it
    page.goto(f"{url}/brand/wsop")
    tile = page.locator(".series-tile[data-item='s-wsop-2024-me']")
    assert tile.locator("img").get_attribute("src") == after
    assert tile.locator(".tile-title").inner_text() == "2024 WSOP Main Event"
    page.screenshot(path=artifacts / "series-poster.png", full_page=True)
    # not an image: refused with a reason, nothing changed
    junk = tmp_path / "notes.png"
    junk.write_bytes(b"not an image at all")
    page.goto(f"{url}/series/s-wsop-2024-me")
    page.click(".poster-editor summary")
    page.set_input_files(".poster-upload input[type=file]", str(junk))
    page.click(".poster-upload button[type=submit]")
    page.wait_for_selector("#poster-result")
    assert "not an image we can use" in page.locator("#poster-result").inner_text()
    assert page.get_attribute("#series-poster", "src") == after
    page.context.close()


def test_search_forgives_typos(
    site: tuple[WebEnv, browsing_data.More, str], chromium: Any, artifacts: Path
) -> None:
    _env, _more, url = site
    page = _browser(chromium, url, "viewer")
    page.fill("header input[name=q]", "moneymakr")
    page.press("header input[name=q]", "Enter")
    page.wait_for_url("**/search?q=moneymakr*")
    results = page.locator("ul.results li")
    assert results.count() == 1
    assert "Chris Moneymaker" in results.first.inner_text()
    assert "moneymaker" in page.locator("#corrected").inner_text()
    page.screenshot(path=artifacts / "search-typo.png", full_page=True)
    # nothing at all: a hint instead of an empty page
    page.goto(f"{url}/search?q=zzqxv")
    assert page.locator("#no-results").is_visible()
    page.goto(f"{url}/search")
    assert page.locator("#search-help").is_visible()
    page.context.close()


def test_korean_ui_uses_natural_poker_terms(
    site: tuple[WebEnv, browsing_data.More, str], chromium: Any, artifacts: Path
) -> None:
    env, _more, url = site
    page = _browser(chromium, url, "boss", locale="ko-KR")
    assert page.locator("html").get_attribute("lang") == "ko"
    assert page.locator("header a[href='/admin']").inner_text() == "관리"
    page.goto(f"{url}/series/s-wsop-2024-me")
    text = page.locator("#episodes").inner_text()
    assert "1일차 A" in text and "1부" in text and "2일차" in text and "2부" in text
    assert "파이널 테이블" in text
    assert "데이" not in text and "파트" not in text
    assert page.locator("select[name=sort] option:checked").inner_text() == "오래된 순 (회차 순서)"
    page.goto(f"{url}/content/{env.ids.ep1}")
    facts = page.locator("dl.facts").first.inner_text()
    assert "메인 이벤트" in facts
    assert "언어 정보 없음" in page.locator("#technical").inner_text()
    page.screenshot(path=artifacts / "korean-terms.png", full_page=True)
    page.context.close()


def test_admin_pages_fit_a_phone(
    site: tuple[WebEnv, browsing_data.More, str], chromium: Any, artifacts: Path
) -> None:
    _env, _, url = site
    page = _browser(chromium, url, "boss", locale="ko-KR", width=390)
    for path in (
        "/admin",
        "/admin/failures",
        "/admin/users",
        "/admin/audit",
        "/account",
        "/settings",
    ):
        page.goto(f"{url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
        page.screenshot(path=artifacts / f"phone{path.replace('/', '-')}.png", full_page=True)
    page.goto(f"{url}/admin")
    assert page.locator("#sync-not-configured").is_visible()
    assert "ARCHIVE_FIRESTORE_PROJECT" in page.locator("#sync-not-configured").inner_text()
    assert "{'direct'" not in page.content()
    page.context.close()
