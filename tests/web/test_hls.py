"""HLS on demand, end to end: Chromium (hls.js) plays MXF, ProRes MOV, MKV and TS from the corpus,
seeks to 80 %, and a seek far into a 10-minute file starts there; transcode slots refuse with a
clear "busy"; a client that goes away takes its ffmpeg with it; the segment cache stays under
its cap.
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from archive_analyzer.catalog import db
from archive_analyzer.catalog.media import AudioTrack, MediaInfo
from archive_analyzer.config import Settings
from archive_analyzer.web import accounts, hls
from archive_analyzer.web.app import create_app
from archive_analyzer.web.server import SourceRegistry
from archive_analyzer.web.transcode import Playback
from tests.fixtures.browser import serve_app
from tests.fixtures.net import wait_for
from tests.web.conftest import PASSWORD, login
from tests.web.playback_data import VIDEOS, seed_corpus
from tests.web.playback_media import media_folder

pytestmark = pytest.mark.slow

PLAYED = ("mxf_closed", "mov_prores", "mkv", "ts_2audio")
# Every other video of the corpus (direct, remux or transcode): it starts playing.
OTHERS = tuple(n for n in VIDEOS if n not in PLAYED)


@dataclass
class Site:
    app: FastAPI
    settings: Settings
    ids: dict[str, str]

    @property
    def playback(self) -> Playback:
        state: Playback = self.app.state.playback
        return state


def make_site(root: Path, media: dict[str, Path], names: tuple[str, ...], **overrides: Any) -> Site:
    from argon2 import PasswordHasher

    settings = Settings(
        db=root / "web.db",
        data_dir=root / "data",
        source=str(next(iter(media.values())).parent),
        **overrides,
    )
    conn = db.connect(settings.db)
    ids = seed_corpus(conn, media, names)
    previous = accounts.hasher()
    accounts.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    try:
        accounts.add_user(conn, "viewer", PASSWORD)
        accounts.add_user(conn, "boss", PASSWORD, role="admin")
    finally:
        accounts.use_hasher(previous)
    conn.close()
    app = create_app(
        settings,
        conn_factory=lambda: db.connect(settings.db, migrate=False),
        source_factory=SourceRegistry(settings),
    )
    return Site(app, settings, ids)


@pytest.fixture(scope="module")
def media(corpus: dict[str, Path]) -> dict[str, Path]:
    return media_folder(corpus)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, media: dict[str, Path]) -> Site:
    return make_site(
        tmp_path_factory.mktemp("hls"),
        media,
        (*PLAYED, *OTHERS, "long_ts", "ts_odd_gop"),
        hls_segment_s=2.0,
        transcode_max_height=180,
    )


@pytest.fixture(scope="module")
def live(site: Site) -> Iterator[str]:
    with serve_app(site.app) as server:
        yield server.url


@pytest.fixture(scope="module")
def browser_page(chromium: Any, live: str) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 960, "height": 600}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{live}/login")
    page.fill("input[name=username]", "viewer")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live}/")
    yield page
    context.close()


def _until(page: Any, expression: str, timeout: float = 30.0) -> None:
    """Poll a JS expression (``page.evaluate`` runs over CDP, so the page's strict CSP, which
    forbids eval, still applies to the page itself)."""
    wait_for(lambda: page.evaluate(expression), timeout=timeout, interval=0.1, what=expression)


def _advances(page: Any, after: float, timeout: float = 30.0) -> None:
    _until(
        page,
        "(() => { const v = document.getElementById('player'); "
        f"return !v.seeking && (v.currentTime > {after} || v.ended); }})()",
        timeout,
    )


@pytest.mark.parametrize("name", PLAYED)
def test_plays_and_seeks_in_chromium(
    site: Site, live: str, browser_page: Any, name: str, artifacts: Path
) -> None:
    page = browser_page
    cid = site.ids[name]
    segments: list[str] = []
    page.on("request", lambda r: segments.append(r.url) if "/hls/" in r.url else None)
    page.goto(f"{live}/watch/{cid}")  # the page's real CSP applies (blob: media for MSE)
    _until(page, "document.getElementById('player').duration > 0")
    # Chromium reports Matroska H.264/AAC as playable: the MKV plays directly
    mode = page.evaluate("window.archivePlayer.data.mode")
    assert mode == ("direct" if name == "mkv" else "hls"), mode
    page.evaluate("document.getElementById('player').play()")
    _advances(page, 0.3)
    duration = page.evaluate("document.getElementById('player').duration")
    target = round(duration * 0.8, 2)
    page.evaluate(f"document.getElementById('player').currentTime = {target}")
    page.evaluate("document.getElementById('player').play()")
    _advances(page, target + 0.1)
    page.screenshot(path=artifacts / f"hls-{name}.png")
    if mode == "hls":
        assert any(url.endswith("index.m3u8") for url in segments)
        assert any(url.endswith(".ts") for url in segments)


def test_every_corpus_video_plays(site: Site, live: str, browser_page: Any) -> None:
    page = browser_page
    failed = []
    for name in OTHERS:
        page.goto(f"{live}/watch/{site.ids[name]}")
        page.evaluate("document.getElementById('player').play()")
        try:
            _advances(page, 0.3, timeout=15)
        except TimeoutError:
            failed.append(name)
    assert not failed, f"do not play: {failed}"


def test_lists_show_poster_frames(
    site: Site, live: str, browser_page: Any, artifacts: Path
) -> None:
    page = browser_page
    page.goto(f"{live}/series/s-corpus")
    _until(
        page,
        # poster frames are 320 px wide, the placeholder 160: the rows in view get frames
        "Array.from(document.querySelectorAll('img.row-thumb'))"
        ".filter(i => i.complete && i.naturalWidth === 320).length >= 4",
    )
    page.screenshot(path=artifacts / "series-thumbnails.png", full_page=True)


def test_remux_has_no_holes_at_segment_boundaries(media: dict[str, Path], tmp_path: Path) -> None:
    """Every remuxed segment starts at or before its playlist start (key frames every 1.48 s,
    boundaries every 6 s): the player never meets a hole it would have to paper over (hls.js
    stretches a frame over such a hole, so a browser check cannot see it; ffprobe can)."""
    source = media["ts_odd_gop"]
    facts = MediaInfo(
        container="mpegts",
        video_codec="h264",
        pix_fmt="yuv420p",
        audio=(AudioTrack("aac"),),
        duration_s=30.0,
        height=90,
    )
    chosen = hls.hls_plan(facts)
    assert chosen.mode is hls.Mode.REMUX
    starts = []
    for n in range(hls.segment_count(30.0, 6.0)):
        out = tmp_path / f"{n}.ts"
        subprocess.run(hls.segment_args(str(source), str(out), chosen, n, 30.0, 6.0), check=True)
        probe = subprocess.run(
            [
                *("ffprobe", "-v", "error", "-select_streams", "v", "-show_entries"),
                *("packet=pts_time,flags", "-of", "json", str(out)),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        packets = json.loads(probe.stdout)["packets"]
        assert packets[0]["flags"].startswith("K"), n  # starts with a key frame
        starts.append(min(float(p["pts_time"]) for p in packets))
    offset = starts[0]  # the muxer's constant delay
    for n, first in enumerate(starts):
        nominal, _ = hls.segment_span(n, 30.0, 6.0)
        assert first - offset <= nominal + 0.05, (n, first - offset, nominal)


def test_seek_far_ahead_does_not_wait(site: Site, live: str, browser_page: Any) -> None:
    page = browser_page
    cid = site.ids["long_ts"]
    asked: list[str] = []
    page.on(
        "request", lambda r: asked.append(r.url.rsplit("/", 1)[-1]) if "/hls/" in r.url else None
    )
    page.goto(f"{live}/watch/{cid}")
    _until(page, "document.getElementById('player').duration > 500")
    page.evaluate("document.getElementById('player').currentTime = 480")
    page.evaluate("document.getElementById('player').play()")
    _advances(page, 480.5)
    assert f"{hls.segment_at(480.5, 2.0)}.ts" in asked
    # only the segments around the start and the seek point were made, not the 4 minutes between
    middle = {f"{n}.ts" for n in range(30, 230)}
    assert not middle & set(asked), sorted(middle & set(asked))


def test_direct_play_stays_direct(site: Site, live: str, browser_page: Any) -> None:
    page = browser_page
    page.goto(f"{live}/watch/{site.ids['mp4_faststart']}")
    src = page.get_attribute("video#player", "src")
    assert src is not None and src.startswith(f"/stream/{site.ids['mp4_faststart']}")
    assert page.locator("video#player[data-hls]").count() == 0


@pytest.fixture(scope="module")
def slow_site(tmp_path_factory: pytest.TempPathFactory, media: dict[str, Path]) -> Site:
    """One transcode slot, a short wait, and one 20 s segment of 1080p MPEG-2 (a slow ffmpeg)."""
    return make_site(
        tmp_path_factory.mktemp("slow"),
        media,
        ("big_mpeg2",),
        hls_segment_s=20.0,
        max_transcodes=1,
        transcode_wait_s=0.3,
        transcode_max_height=1080,
        transcode_preset="medium",
    )


def _session_cookie(url: str) -> str:
    with httpx.Client(base_url=url) as client:
        page = client.get("/login")
        import re

        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert token
        response = client.post(
            "/login",
            data={"username": "viewer", "password": PASSWORD, "csrf": token.group(1), "next": "/"},
        )
        assert response.status_code == 303
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def _raw_get(port: int, path: str, cookie: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n".encode()
    )
    return sock


def test_busy_and_disconnect_kill_ffmpeg(slow_site: Site) -> None:
    state = slow_site.playback
    cid = slow_site.ids["big_mpeg2"]
    with serve_app(slow_site.app) as server:
        cookie = _session_cookie(server.url)
        first = _raw_get(server.port, f"/hls/{cid}/0.ts", cookie)
        try:
            pids = wait_for(lambda: list(state.processes.running), timeout=30, what="ffmpeg")
            # the only slot is taken: another segment gets a clear busy answer, not a hang
            with httpx.Client(base_url=server.url, headers={"Cookie": cookie}) as client:
                busy = client.get(f"/hls/{cid}/1.ts")
            assert busy.status_code == 503
            assert "busy" in busy.json()["detail"]
            assert busy.headers["retry-after"]
        finally:
            first.close()  # the viewer goes away mid-segment
        wait_for(lambda: not state.processes.running, timeout=15, what="ffmpeg to be killed")
        wait_for(lambda: not any(psutil.pid_exists(p) for p in pids), timeout=15, what="pid gone")
        assert state.processes.killed >= 1
        assert state.segments.disk_bytes() == 0  # a killed segment leaves nothing behind


def test_a_segment_asked_twice_at_once_is_made_once(tmp_path: Path, media: dict[str, Path]) -> None:
    """Two requests for one cold segment (a preload and hls.js, or two tabs) share one ffmpeg
    run: the second waits for the first instead of taking the other slot."""
    from concurrent.futures import ThreadPoolExecutor

    own = make_site(tmp_path, media, ("mxf_closed",), hls_segment_s=2.0)
    state = own.playback
    cid = own.ids["mxf_closed"]
    with serve_app(own.app) as server:
        cookie = _session_cookie(server.url)
        with (
            httpx.Client(base_url=server.url, headers={"Cookie": cookie}, timeout=120) as client,
            ThreadPoolExecutor(max_workers=2) as pool,
        ):
            got = list(pool.map(lambda _: client.get(f"/hls/{cid}/3.ts"), range(2)))
    assert [r.status_code for r in got] == [200, 200]
    assert got[0].content == got[1].content and got[0].content[:1] == b"G"
    assert (state.processes.finished, state.processes.failed, state.processes.killed) == (1, 0, 0)
    assert not state.making


def test_watch_with_autoplay_preloads_the_first_segment(site: Site) -> None:
    cid = site.ids["mxf_closed"]
    with TestClient(site.app, follow_redirects=False) as client:
        login(client)
        page = client.get(f"/watch/{cid}?autoplay=1&t=3")
        assert f'<link rel="preload" href="/hls/{cid}/{hls.segment_at(3, 2.0)}.ts"' in page.text
        assert 'rel="preload"' not in client.get(f"/watch/{cid}").text  # no autoplay
        assert 'rel="preload"' not in client.get(f"/content/{cid}").text  # Play loads nothing


def test_cache_stays_under_cap(tmp_path: Path, media: dict[str, Path]) -> None:
    cap = 120_000
    site = make_site(
        tmp_path,
        media,
        ("mkv",),
        hls_segment_s=2.0,
        hls_cache_bytes=cap,
        transcode_max_height=90,
    )
    state = site.playback
    with TestClient(site.app, follow_redirects=False) as client:
        login(client)
        made = 0
        for cid in site.ids.values():
            playlist = client.get(f"/hls/{cid}/index.m3u8")
            assert playlist.status_code == 200
            for line in playlist.text.splitlines():
                if line.endswith(".ts"):
                    response = client.get(f"/hls/{cid}/{line}")
                    assert response.status_code == 200
                    made += len(response.content)
                    assert state.segments.disk_bytes() <= cap
        assert made > cap
        assert state.segments.evictions > 0
        # a segment asked again is served (from cache or made again), never a partial file
        again = client.get(f"/hls/{site.ids['mkv']}/0.ts")
        assert again.status_code == 200 and again.content[:1] == b"G"  # MPEG-TS sync byte


def test_hls_requires_login_and_known_ids(site: Site) -> None:
    with TestClient(site.app, follow_redirects=False) as client:
        assert client.get(f"/hls/{site.ids['mkv']}/index.m3u8").status_code == 401
        assert client.get(f"/hls/{site.ids['mkv']}/0.ts").status_code == 401
        login(client)
        assert client.get("/hls/..%2Fetc/index.m3u8").status_code == 404
        assert client.get(f"/hls/{site.ids['mkv']}/999999.ts").status_code == 404
        assert client.get(f"/hls/{site.ids['mkv']}/x.ts").status_code == 404
        assert client.get("/internal/source/not-a-token").status_code == 404


def test_closing_the_page_stops_its_ffmpeg(slow_site: Site, chromium: Any) -> None:
    state = slow_site.playback
    cid = slow_site.ids["big_mpeg2"]

    def transcodes() -> list[int]:
        return [pid for pid, what in state.processes.running.items() if what.startswith("trans")]

    with serve_app(slow_site.app) as server:
        context = chromium.new_context()
        page = context.new_page()
        page.goto(f"{server.url}/login")
        page.fill("input[name=username]", "viewer")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/")
        killed = state.processes.killed
        page.goto(f"{server.url}/watch/{cid}")
        pids = wait_for(transcodes, timeout=30, what="the page's transcode")
        page.close()
        context.close()
        wait_for(lambda: not transcodes(), timeout=15, what="ffmpeg to stop with the page")
        assert not any(psutil.pid_exists(p) for p in pids)
        assert state.processes.killed > killed
