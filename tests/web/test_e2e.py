"""End to end in a real browser: Chromium (Playwright) against the app served by uvicorn.

Log in, browse brand -> series -> episode, play and seek (ranges served), play a clip from its
start time to its end, resume, search in Korean, 초성 and English, switch language, phone width.
Screenshots of each page go to ./artifacts/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import PASSWORD, WebEnv, make_env

pytestmark = pytest.mark.slow


@pytest.fixture
def site(
    tmp_path: Path, web_media: Path, live_server: Callable[[Any], Any]
) -> Iterator[tuple[WebEnv, str]]:
    env = make_env(tmp_path, web_media)
    with live_server(env.app) as server:
        yield env, server.url


def test_viewer_journey(site: tuple[WebEnv, str], chromium: Any, artifacts: Path) -> None:
    env, url = site
    context = chromium.new_context(
        viewport={"width": 1280, "height": 800}, locale="en-US", bypass_csp=True
    )
    page = context.new_page()
    statuses: list[tuple[int, str]] = []
    page.on(
        "response",
        lambda r: (
            statuses.append((r.status, r.request.headers.get("range", "")))
            if "/stream/" in r.url
            else None
        ),
    )
    page.set_default_timeout(20_000)

    page.goto(f"{url}/")
    assert page.url.startswith(f"{url}/login")
    page.screenshot(path=artifacts / "login.png")
    page.fill("input[name=username]", "viewer")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    assert page.locator("text=Recently added").count() == 1
    page.screenshot(path=artifacts / "home.png", full_page=True)

    page.click("section.row h2 a.more >> nth=0")  # the first brand row: WSOP
    page.wait_for_url(f"{url}/brand/wsop")
    page.screenshot(path=artifacts / "brand.png")
    page.click("text=2024 WSOP Main Event")
    page.wait_for_url("**/series/*")
    page.screenshot(path=artifacts / "series.png")
    page.click("text=WSOP 2024 Main Event _ Day 1A (Part 1)")
    page.wait_for_url(f"**/content/{env.ids.ep1}")
    page.screenshot(path=artifacts / "content.png", full_page=True)

    # press play and see time advance
    page.evaluate("document.getElementById('player').play()")
    page.wait_for_function("document.getElementById('player').currentTime > 1.0")
    # seek: the browser asks for a byte range
    page.evaluate("document.getElementById('player').currentTime = 20")
    page.wait_for_function(
        "(() => { const v = document.getElementById('player'); "
        "return v.currentTime > 20.5 && !v.seeking; })()"
    )
    assert any(status == 206 for status, _ in statuses), statuses
    page.evaluate("document.getElementById('player').pause()")
    page.wait_for_function(
        "fetch('/api/progress').then(r => r.json()).then(p => p.length > 0 && p[0].position_s > 20)"
    )
    page.screenshot(path=artifacts / "content-playing.png")

    # play a clip: starts at its start time (10 s), stops at its end (15 s)
    page.click(f"a[data-clip='{env.ids.clip}']")
    page.wait_for_url(f"**/watch/{env.ids.clip}")
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    start = page.evaluate("document.getElementById('player').currentTime")
    assert 9.9 <= start <= 10.5, start
    page.evaluate("document.getElementById('player').play()")
    page.wait_for_function(
        "(() => { const v = document.getElementById('player'); "
        "return v.paused && v.currentTime >= 14.9; })()",
        timeout=30_000,
    )
    assert page.evaluate("document.getElementById('player').currentTime") <= 15.5
    page.screenshot(path=artifacts / "watch-clip.png")

    # continue watching resumes the episode where it was left
    page.goto(f"{url}/")
    assert page.locator("text=Continue watching").count() == 1
    page.goto(f"{url}/watch/{env.ids.ep1}")
    page.wait_for_function("document.getElementById('player').currentTime > 19")

    # search: Korean, 초성, English
    page.fill("header input[name=q]", "네그레아누")
    page.press("header input[name=q]", "Enter")
    page.wait_for_url("**/search?q=*")
    assert page.locator("#result-count").inner_text().startswith("3 ")
    page.screenshot(path=artifacts / "search-korean.png", full_page=True)
    page.goto(f"{url}/search?q=ㄴㄱㄹㅇㄴ")
    assert page.locator("#result-count").inner_text().startswith("3 ")
    page.fill("header input[name=q]", "Main Event")
    page.press("header input[name=q]", "Enter")
    page.wait_for_url("**/search?q=Main*")
    assert page.locator("ul.results li").count() == 3  # two episodes and the clip
    page.select_option("select[name=player]", env.ids.ivey)
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**player=*")
    assert page.locator("ul.results li").count() == 2
    page.screenshot(path=artifacts / "search-english.png", full_page=True)

    # language switch
    page.click("a.lang")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "ko"
    page.goto(f"{url}/")
    assert page.locator("text=최근 추가됨").count() == 1
    page.screenshot(path=artifacts / "home-ko.png", full_page=True)
    context.close()

    # phone width
    phone = chromium.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        locale="ko-KR",
        bypass_csp=True,
    )
    mobile = phone.new_page()
    mobile.goto(f"{url}/login")
    mobile.fill("input[name=username]", "viewer")
    mobile.fill("input[name=password]", PASSWORD)
    mobile.click("button[type=submit]")
    mobile.wait_for_url(f"{url}/")
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    mobile.screenshot(path=artifacts / "phone-home.png", full_page=True)
    mobile.goto(f"{url}/content/{env.ids.ep1}")
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
    mobile.screenshot(path=artifacts / "phone-content.png", full_page=True)
    phone.close()
