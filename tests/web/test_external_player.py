"""External players on a signed stream link: ffprobe and curl (not a browser), no cookie,
with byte ranges, against the app served by uvicorn."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.conftest import PASSWORD, csrf_from, make_env

pytestmark = pytest.mark.slow


class RangeRecorder:
    """ASGI wrapper noting (path, Range header, status) of every /stream request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, int]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/stream/"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        asked = headers.get(b"range", b"").decode()

        async def noting(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.seen.append((scope["path"], asked, message["status"]))
            await send(message)

        await self.app(scope, receive, noting)


def test_ffprobe_and_curl_play_a_signed_link(
    tmp_path: Path, web_media: Path, live_server: Callable[[Any], Any]
) -> None:
    env = make_env(tmp_path, web_media)
    recorder = RangeRecorder(env.app)
    with live_server(recorder) as server, httpx.Client(base_url=server.url) as browser:
        token = csrf_from(browser.get("/login").text)
        browser.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf": token})
        page = browser.get(f"/content/{env.ids.ep1}")
        reply = browser.post(
            f"/api/contents/{env.ids.ep1}/stream-link",
            headers={"X-CSRF-Token": csrf_from(page.text)},
        )
        url = reply.json()["url"]
        assert url.startswith(f"{server.url}/stream/{env.ids.ep1}?u=")
        playlist = browser.get(f"/content/{env.ids.ep1}/play.m3u").text.splitlines()[-1]
        assert playlist.startswith(f"{server.url}/stream/{env.ids.ep1}?u=")

        probed = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-show_entries",
                "format=duration:stream=codec_name",
                "-of",
                "json",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert probed.returncode == 0, probed.stderr
        facts = json.loads(probed.stdout)
        assert float(facts["format"]["duration"]) > 20
        assert {s["codec_name"] for s in facts["streams"]} >= {"h264", "aac"}

        # a player seeking: ffmpeg jumps to 20 s and decodes one frame
        seek = subprocess.run(
            ["ffmpeg", "-v", "error", "-ss", "20", "-i", url, "-frames:v", "1", "-f", "null", "-"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert seek.returncode == 0, seek.stderr

        out = tmp_path / "part.bin"
        curl = subprocess.run(
            ["curl", "-sS", "-r", "1000-1999", "-o", str(out), "-w", "%{http_code}", url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert curl.stdout == "206", curl.stderr
        conn = env.conn()
        rel = conn.execute("SELECT path FROM files WHERE id = ?", (env.ids.file_ep1,)).fetchone()[0]
        conn.close()
        original = (web_media / rel).read_bytes()
        assert out.read_bytes() == original[1000:2000]

        # the same link for another content, or expired: refused to curl as well
        other = url.replace(env.ids.ep1, env.ids.hcl1)
        refused = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", other],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert refused.stdout == "403"
    ranged = [r for r in recorder.seen if r[1]]
    assert any(status == 206 and asked.startswith("bytes=") for _, asked, status in ranged)
    assert any(asked not in ("", "bytes=0-") for _, asked, _ in ranged), recorder.seen
