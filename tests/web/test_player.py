"""The player in Chromium on the demo archive (issue 15, "Done when"): resume after leaving the
page for direct and HLS files, one-click start on a cold transcode with a loading state,
keyboard (space, arrows, f, m) and the seek bar (click and drag) in both modes, choosing the
second audio track of the two-language TS, a subtitle cue appearing,
WebM playing directly, and a scrubbing preview on hovering the seek bar.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from archive_analyzer import demo, pipeline
from archive_analyzer.catalog import db, hand_sheet, players
from archive_analyzer.config import Settings
from archive_analyzer.web import accounts
from archive_analyzer.web.app import create_app
from archive_analyzer.web.server import SourceRegistry
from tests.fixtures.browser import serve_app
from tests.fixtures.net import wait_for
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.slow

CACHE = Path(os.environ.get("ARCHIVE_CORPUS_CACHE", "~/.cache/archive-analyzer")).expanduser()
TS = demo.TWO_LANGUAGE_TS
MXF = next(f.path for f in demo.DEMO_FILES if f.path.endswith(".mxf"))
MP4 = demo.HANDS_EPISODE
WEBM = "PAD/PAD S13/PAD S13 EP01.webm"


@dataclass
class Demo:
    app: FastAPI
    settings: Settings
    ids: dict[str, str]  # file path -> content id


def demo_archive() -> Path:
    root = CACHE / f"demo-{demo.DEMO_VERSION}" / "demo"
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return demo.ensure_demo_archive(root)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    from argon2 import PasswordHasher

    root = demo_archive()
    tmp = tmp_path_factory.mktemp("player")
    settings = Settings(
        db=tmp / "web.db",
        data_dir=tmp / "data",
        source=str(root),
        transcode_max_height=180,
        hls_segment_s=3.0,
    )
    pipeline.scan(settings)
    conn = db.connect(settings.db)
    player_sheet, hands = demo.sheets(root)
    with db.transaction(conn):
        players.import_players(conn, player_sheet, now=db.utc_now)
        hand_sheet.import_hands(conn, hands, now=db.utc_now)
    previous = accounts.hasher()
    accounts.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    try:
        accounts.add_user(conn, "viewer", PASSWORD)
    finally:
        accounts.use_hasher(previous)
    ids = {
        r[0]: r[1]
        for r in conn.execute(
            "SELECT f.path, c.id FROM contents c JOIN files f ON f.id = c.file_id "
            "WHERE c.kind = 'episode'"
        )
    }
    conn.close()
    pipeline.make_previews(settings)
    app = create_app(
        settings,
        conn_factory=lambda: db.connect(settings.db, migrate=False),
        source_factory=SourceRegistry(settings),
    )
    return Demo(app, settings, ids)


@pytest.fixture(scope="module")
def live(site: Demo) -> Iterator[str]:
    with serve_app(site.app) as server:
        yield server.url


def _logged_in(chromium: Any, live: str, locale: str) -> Any:
    context = chromium.new_context(viewport={"width": 1100, "height": 800}, locale=locale)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.goto(f"{live}/login")
    tab.fill("input[name=username]", "viewer")
    tab.fill("input[name=password]", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{live}/")
    return tab


@pytest.fixture
def page(chromium: Any, live: str) -> Iterator[Any]:
    tab = _logged_in(chromium, live, "en-US")
    yield tab
    tab.context.close()


@pytest.fixture
def page_ko(chromium: Any, live: str) -> Iterator[Any]:
    tab = _logged_in(chromium, live, "ko-KR")
    yield tab
    tab.context.close()


_STATE = """(() => {
  const v = document.getElementById('player');
  if (!v) return 'no player';
  const ranges = [];
  for (let i = 0; i < v.buffered.length; i++) ranges.push([v.buffered.start(i), v.buffered.end(i)]);
  return JSON.stringify({
    t: v.currentTime, paused: v.paused, ready: v.readyState, net: v.networkState,
    seeking: v.seeking, error: v.error && v.error.code, buffered: ranges,
    audio: v.hls ? v.hls.audioTrack : null,
    want: window.archivePlayer && window.archivePlayer.wantPlay,
  });
})()"""


def _until(page: Any, expression: str, timeout: float = 40.0) -> Any:
    try:
        return wait_for(
            lambda: page.evaluate(expression), timeout=timeout, interval=0.1, what=expression
        )
    except TimeoutError as exc:  # say where the player stood
        raise TimeoutError(f"{exc}; player: {page.evaluate(_STATE)}") from None


def _ready(page: Any) -> None:
    _until(page, "!!window.archivePlayer")


def _time(page: Any) -> float:
    return float(page.evaluate("document.getElementById('player').currentTime"))


def _saved(page: Any, content_id: str) -> float | None:
    rows = page.evaluate("fetch('/api/progress').then(r => r.json())")
    return next((r["position_s"] for r in rows if r["content_id"] == content_id), None)


@pytest.mark.parametrize(("path", "mode"), [(MP4, "direct"), (TS, "hls")])
def test_resume_after_leaving_mid_play(
    site: Demo, live: str, page: Any, path: str, mode: str, artifacts: Path
) -> None:
    cid = site.ids[path]
    page.goto(f"{live}/watch/{cid}")
    _ready(page)
    assert page.evaluate("window.archivePlayer.data.mode") == mode
    page.keyboard.press(" ")  # keyboard: space plays
    _until(page, "document.getElementById('player').currentTime > 4.5")
    page.keyboard.press("ArrowRight")  # +5 s
    _until(page, "document.getElementById('player').currentTime > 9.5")
    left_at = _time(page)
    page.goto(f"{live}/")  # leave mid-play: pagehide -> sendBeacon, hls.js torn down after
    saved = wait_for(lambda: _saved(page, cid), timeout=15, what="the saved position")
    assert saved is not None and saved >= 9.0 and abs(saved - left_at) < 3, (saved, left_at)
    # the content page offers to resume; one click resumes there
    page.goto(f"{live}/content/{cid}")
    _ready(page)
    page.click("#resume")
    _until(page, "!document.getElementById('player').paused")
    _until(page, f"document.getElementById('player').currentTime > {saved + 0.2}")
    assert _time(page) >= saved - 1
    page.screenshot(path=artifacts / f"player-resume-{mode}.png")


@pytest.mark.parametrize(("path", "mode"), [(MP4, "direct"), (TS, "hls")])
def test_keyboard_and_seek_bar(site: Demo, live: str, page: Any, path: str, mode: str) -> None:
    cid = site.ids[path]
    page.goto(f"{live}/watch/{cid}")
    _ready(page)
    assert page.evaluate("window.archivePlayer.data.mode") == mode
    page.evaluate("window.archivePlayer.play()")
    _until(page, "!document.getElementById('player').paused")
    _until(page, "document.getElementById('player').duration > 50")
    # f: full screen on the player (not the bare video: the controls come along), f again leaves
    page.keyboard.press("f")
    _until(page, "document.fullscreenElement === document.querySelector('.player-wrap')")
    page.keyboard.press("f")
    _until(page, "document.fullscreenElement === null")
    # m mutes, space pauses and plays again
    page.keyboard.press("m")
    assert page.evaluate("document.getElementById('player').muted")
    page.keyboard.press(" ")
    _until(page, "document.getElementById('player').paused")
    page.keyboard.press(" ")
    _until(page, "!document.getElementById('player').paused")
    # the seek bar: a click jumps there, playback goes on from it (demo files are 60-100 s)
    length = page.evaluate("document.getElementById('player').duration")
    box = page.locator(".seek").bounding_box()
    y = box["y"] + box["height"] / 2
    page.hover(".player-wrap")
    page.mouse.click(box["x"] + box["width"] * 0.25, y)
    _until(page, f"Math.abs(document.getElementById('player').currentTime - {length * 0.25}) < 2.5")
    # a drag: the handle follows the pointer and the seek happens on release
    page.mouse.move(box["x"] + box["width"] * 0.25, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, y, steps=5)
    page.mouse.move(box["x"] + box["width"] * 0.75, y, steps=5)
    # not seeked yet, only shown
    assert page.evaluate("window.archivePlayer.dragging") > length * 0.75 - 5
    page.mouse.up()
    _until(page, f"Math.abs(document.getElementById('player').currentTime - {length * 0.75}) < 2.5")
    started = _time(page)
    _until(page, f"document.getElementById('player').currentTime > {started + 1}")
    assert not page.evaluate("document.getElementById('player').paused")
    # arrows step from there: left goes back 5 s
    before = _time(page)
    page.keyboard.press("ArrowLeft")
    _until(page, f"document.getElementById('player').currentTime < {before - 3}")


def test_clip_resumes_inside_its_range(site: Demo, live: str, page: Any) -> None:
    conn = db.connect(site.settings.db, migrate=False)
    clip, start, end = conn.execute(
        "SELECT id, start_sec, end_sec FROM contents WHERE kind = 'clip' AND start_sec = 25"
    ).fetchone()
    conn.close()
    page.goto(f"{live}/watch/{clip}")
    _ready(page)
    page.evaluate("window.archivePlayer.play()")
    _until(page, f"document.getElementById('player').currentTime > {start + 2}")
    page.goto(f"{live}/")
    saved = wait_for(lambda: _saved(page, clip), timeout=15, what="the clip's saved position")
    assert saved is not None and start < saved < end
    page.goto(f"{live}/watch/{clip}")
    _ready(page)
    _until(page, f"document.getElementById('player').currentTime >= {saved - 0.5}")
    assert _time(page) < end


def test_one_click_on_a_cold_transcode_shows_loading_then_plays(
    site: Demo, live: str, page: Any
) -> None:
    cid = site.ids[MXF]
    page.goto(f"{live}/content/{cid}")
    _ready(page)
    assert page.evaluate("window.archivePlayer.data.plan") == "transcode"
    page.evaluate(
        "window.__loading = false; new MutationObserver(() => { if (document.querySelector("
        "'.player-wrap.is-loading')) window.__loading = true; }).observe("
        "document.querySelector('.player-wrap'), {attributes: true})"
    )
    page.click("#play")  # one click, nothing before it loaded a segment
    _until(page, "document.getElementById('player').currentTime > 0.5", timeout=60)
    assert page.evaluate("window.__loading")
    assert not page.evaluate("document.getElementById('player').paused")


def test_second_audio_track_of_the_two_language_ts(
    site: Demo, live: str, page_ko: Any, artifacts: Path
) -> None:
    page = page_ko  # a Korean UI starts on the Korean commentary
    cid = site.ids[TS]
    asked: list[str] = []
    page.on(
        "request", lambda r: asked.append(r.url.rsplit("/", 1)[-1]) if "/hls/" in r.url else None
    )
    page.goto(f"{live}/watch/{cid}")
    _ready(page)
    audio = page.evaluate("window.archivePlayer.data.audio")
    assert [a["language"] for a in audio] == ["ko", "en"], audio  # from the track tags
    _until(page, "document.getElementById('player').hls.audioTracks.length === 2")
    page.evaluate("window.archivePlayer.play()")
    _until(page, "document.getElementById('player').currentTime > 1")
    assert any(name.startswith("a0-") for name in asked), asked
    page.hover(".player-wrap")
    page.click(".pb-audio .pb-menu-button")
    page.click(".pb-audio .pb-menu-item[data-value='1']")
    _until(page, "document.getElementById('player').hls.audioTrack === 1")
    switched_at = _time(page)  # a resume from an earlier test may have started it later
    # (sync Playwright hands request events over only during a Playwright call: evaluate)
    wait_for(
        lambda: page.evaluate("1") and any(name.startswith("a1-") for name in asked),
        timeout=40,
        what=f"English audio segments (asked {asked})",
    )
    _until(page, f"document.getElementById('player').currentTime > {switched_at + 2}")
    page.screenshot(path=artifacts / "player-audio-menu.png")
    # remembered for the user: the next visit starts in English
    page.goto(f"{live}/watch/{cid}")
    _ready(page)
    assert page.evaluate("window.archivePlayer.data.default_audio") == 1


def test_subtitle_cue_appears(site: Demo, live: str, page: Any, artifacts: Path) -> None:
    cid = site.ids[TS]
    page.goto(f"{live}/watch/{cid}")
    _ready(page)
    subs = page.evaluate("window.archivePlayer.data.subtitles")
    assert any(s.get("file", "").endswith(".ko.srt") and s["language"] == "ko" for s in subs)
    page.hover(".player-wrap")
    page.click(".pb-subtitles .pb-menu-button")
    page.click(".pb-subtitles .pb-menu-item[data-value='0']")
    page.evaluate("window.archivePlayer.seek(1.5); window.archivePlayer.play()")
    _until(
        page,
        "Array.from(document.getElementById('player').textTracks).some(t => t.mode === 'showing'"
        " && t.activeCues && t.activeCues.length && t.activeCues[0].text.includes('환영'))",
    )
    page.screenshot(path=artifacts / "player-subtitles.png")


def test_webm_plays_directly(site: Demo, live: str, page: Any) -> None:
    cid = site.ids[WEBM]
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.goto(f"{live}/watch/{cid}")
    _ready(page)
    assert page.evaluate("window.archivePlayer.data.mode") == "direct"
    page.evaluate("window.archivePlayer.play()")
    _until(page, "document.getElementById('player').currentTime > 1")
    assert page.evaluate("document.getElementById('player').currentSrc").endswith(f"/stream/{cid}")
    assert not [u for u in asked if "/hls/" in u]


def test_preview_frame_on_hovering_the_seek_bar(
    site: Demo, live: str, page: Any, artifacts: Path
) -> None:
    cid = site.ids[MP4]
    page.goto(f"{live}/watch/{cid}")
    _ready(page)
    url = page.evaluate("window.archivePlayer.data.trickplay_url")
    assert url == f"/previews/{cid}/thumbs.vtt"
    _until(page, "document.getElementById('player').duration > 50")
    length = page.evaluate("document.getElementById('player').duration")
    box = page.locator(".seek").bounding_box()
    page.hover(".player-wrap")
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    _until(page, "!!document.querySelector('.seek-preview:not([hidden])[data-src]')")
    src = page.evaluate("document.querySelector('.seek-preview').dataset.src")
    assert "sprite-0.jpg#xywh=" in src
    x = int(src.split("#xywh=")[1].split(",")[0])
    # a tile every 10 s, ten to a row: the middle of a 60-100 s file is on the first row
    assert x == int(length * 0.5 // 10) * 320
    sprite = page.request.get(f"{live}/previews/{cid}/sprite-0.jpg")
    assert sprite.ok and sprite.body()[:2] == b"\xff\xd8"
    page.screenshot(path=artifacts / "player-preview.png")
