"""Playback: time to first frame (direct, remux, transcode), bytes read per poster frame, CPU
per transcoded stream.

Makes three 1080p files once (cached under ``~/.cache/archive-analyzer/bench-playback-<V>/``):
an H.264/AAC MP4 (direct play, the baseline), the same streams in MPEG-TS (remux) and an
MPEG-2 4:2:2 MXF with PCM audio like an XDCAM master (transcode), plus a ProRes 422 MOV.
Catalogs them with the real probe engine, serves the app (uvicorn, in-process thread) and
opens each in headless Chromium with a cold segment cache and a fresh browser cache:

* first frame: from navigation start to the first ``timeupdate`` past 0 after ``play()``;
* seek: from setting ``currentTime`` to 80 % to playback past that point (a cold segment).

Poster frames: bytes ffmpeg read (its AVIO statistics) for the app's input seek vs an output
seek (decode from the start, the naive way) on the same files. CPU: ``RUSAGE_CHILDREN`` over
the segment ffmpeg runs of 30 s of each file with the app's settings (720p cap, veryfast).

    .venv/bin/python -m bench.playback [--runs 3] [--seconds 30]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS, serve_app
from tests.web.playback_data import seed_corpus

from archive_analyzer.catalog import db, read
from archive_analyzer.catalog.read import MediaInfo
from archive_analyzer.config import Settings
from archive_analyzer.web import accounts, hls, thumbs
from archive_analyzer.web.app import create_app
from archive_analyzer.web.server import SourceRegistry
from archive_analyzer.web.transcode import SegmentCache

VERSION = "1"
CACHE = Path(os.environ.get("ARCHIVE_CORPUS_CACHE", "~/.cache/archive-analyzer")).expanduser()
PASSWORD = "quiet lantern orchard 1"

SRC = ["-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25:duration={s}"]
AUD = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration={s}"]
FILES: dict[str, tuple[str, list[str]]] = {
    "direct": (
        "h264_1080p.mp4",
        [
            *("-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-b:v", "6M"),
            *("-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart"),
        ],
    ),
    "remux": ("h264_1080p.ts", []),  # the MP4's streams copied into MPEG-TS
    "transcode": (
        "mpeg2_1080p.mxf",
        [
            *("-c:v", "mpeg2video", "-pix_fmt", "yuv422p", "-b:v", "35M", "-g", "12"),
            *("-c:a", "pcm_s24le", "-f", "mxf"),
        ],
    ),
    "transcode-prores": (
        "prores_1080p.mov",
        ["-c:v", "prores", "-profile:v", "1", "-pix_fmt", "yuv422p10le", "-c:a", "pcm_s16le"],
    ),
}

INIT = """
window.__t = {};
document.addEventListener('DOMContentLoaded', () => {
  const v = document.getElementById('player');
  if (!v) return;
  v.muted = true;
  v.addEventListener('timeupdate', () => {
    if (v.currentTime > 0 && !window.__t.first) window.__t.first = performance.now();
  });
  v.play().catch(() => {});
});
"""


def media(seconds: int) -> dict[str, Path]:
    root = CACHE / f"bench-playback-{VERSION}-{seconds}s"
    root.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for mode, (name, codec) in FILES.items():
        target = root / name
        out[mode] = target
        if target.exists():
            continue
        partial = root / f".partial-{name}"
        base = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
        if mode == "remux":
            args = ["-i", str(out["direct"]), "-c", "copy", "-f", "mpegts"]
        else:
            lavfi = [a.format(s=seconds) for a in (*SRC, *AUD)]
            args = [*lavfi, *codec, "-shortest"]
        subprocess.run([*base, *args, str(partial)], check=True)
        partial.rename(target)
    return out


def first_frame(chromium: Any, url: str, cid: str, duration: float) -> tuple[float, float]:
    """(ms to first frame from navigation start, ms from a seek to 80 % to playing there)."""
    context = chromium.new_context()  # a fresh browser cache
    context.add_init_script(INIT)
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", "bench")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/watch/{cid}")
    try:
        first = _poll(page, "window.__t.first || 0")
    except TimeoutError:
        state = page.evaluate(
            "(() => { const v = document.getElementById('player'); return [v.readyState, "
            "v.networkState, v.currentTime, v.paused, v.error && v.error.message]; })()"
        )
        raise TimeoutError(f"{cid}: no first frame; video state {state}") from None
    target = round(duration * 0.8, 2)
    started = page.evaluate(
        f"(() => {{ const v = document.getElementById('player'); v.currentTime = {target}; "
        "return performance.now(); })()"
    )
    reached = _poll(
        page,
        "(() => { const v = document.getElementById('player'); "
        f"return (!v.seeking && v.currentTime > {target + 0.1}) ? performance.now() : 0; }})()",
    )
    context.close()
    return float(first), float(reached) - float(started)


def _poll(page: Any, expression: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value:
            return value
        time.sleep(0.02)
    raise TimeoutError(expression)


def output_seek_bytes(path: Path, at_s: float) -> int:
    """Bytes ffmpeg reads to take a frame at ``at_s`` decoding from the start (baseline)."""
    proc = subprocess.run(
        [
            *("ffmpeg", "-nostdin", "-hide_banner", "-v", "verbose", "-i", str(path)),
            *("-ss", f"{at_s:.3f}", "-frames:v", "1", "-f", "null", "-"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return thumbs.read_stats(proc.stderr)[0]


def cpu_per_stream(path: Path, facts: MediaInfo, seconds: float) -> tuple[float, float]:
    """(CPU seconds per media second, wall seconds per media second) for ``seconds`` of HLS."""
    plan = hls.hls_plan(facts)
    segment_s = 6.0
    count = hls.segment_count(min(seconds, facts.duration_s or seconds), segment_s)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(count):
            args = hls.segment_args(
                str(path), f"{tmp}/{n}.ts", plan, n, facts.duration_s or seconds, segment_s
            )
            subprocess.run(args, check=True)
    wall_s = time.monotonic() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    media_s = min(count * segment_s, facts.duration_s or seconds)
    return cpu / media_s, wall_s / media_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args()

    files = media(args.seconds)
    tmp = Path(tempfile.mkdtemp(prefix="bench-playback-"))
    try:
        root = files["direct"].parent
        settings = Settings(db=tmp / "web.db", data_dir=tmp / "data", source=str(root))
        conn = db.connect(settings.db)
        ids = seed_corpus(conn, files, list(files))
        accounts.add_user(conn, "bench", PASSWORD, role="admin")
        facts: dict[str, MediaInfo] = {}
        for mode, cid in ids.items():
            played = read.played_file(conn, cid)
            assert played is not None and played.media is not None
            facts[mode] = played.media
        conn.close()
        app = create_app(
            settings,
            conn_factory=lambda: db.connect(settings.db, migrate=False),
            source_factory=SourceRegistry(settings),
        )
        print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; files {root}")
        for mode, f in facts.items():
            print(f"  {mode:17} {files[mode].name}: {hls.plan(f).mode.value}, {f.video_codec}")

        from playwright.sync_api import sync_playwright

        results: dict[str, list[tuple[float, float]]] = {m: [] for m in files}
        with serve_app(app) as server, sync_playwright() as pw:
            chromium = pw.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            for run in range(args.runs):
                for mode in files:
                    # the previous page's segments still being made finish into the old cache
                    state = app.state.playback
                    deadline = time.monotonic() + 120
                    while state.processes.running and time.monotonic() < deadline:
                        time.sleep(0.05)
                    cache_dir = tmp / f"hls-{run}-{mode}"
                    app.state.playback.segments = SegmentCache(cache_dir, settings.hls_cache_bytes)
                    duration = facts[mode].duration_s or args.seconds
                    results[mode].append(first_frame(chromium, server.url, ids[mode], duration))
            chromium.close()

            print("\ntime to first frame and to play after a seek to 80 % (cold cache), ms:")
            base = statistics.median(r[0] for r in results["direct"])
            for mode, rows in results.items():
                ttff = statistics.median(r[0] for r in rows)
                seek = statistics.median(r[1] for r in rows)
                print(
                    f"  {mode:17} first frame {ttff:7.0f} (x{ttff / base:4.1f} direct)"
                    f"   seek {seek:7.0f}   runs {[round(r[0]) for r in rows]}"
                )

            import httpx

            with httpx.Client(base_url=server.url, timeout=120) as client:
                page = client.get("/login")
                token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
                assert token
                client.post(
                    "/login",
                    data={"username": "bench", "password": PASSWORD, "csrf": token.group(1)},
                )
                for cid in ids.values():
                    client.get(f"/thumb/{cid}")
        conn = db.connect(settings.db, migrate=False)
        print("\nposter frame at 10 %: bytes read, input seek (app) vs output seek (baseline):")
        for mode, cid in ids.items():
            row = conn.execute(
                "SELECT t.bytes_read, t.seeks, t.ms, f.size, t.position_s FROM thumbnails t "
                "JOIN contents c ON c.file_id = t.file JOIN files f ON f.id = t.file "
                "WHERE c.id = ?",
                (cid,),
            ).fetchone()
            naive = output_seek_bytes(files[mode], row[4])
            print(
                f"  {mode:17} {row[0] / 1e6:7.2f} MB of {row[3] / 1e6:7.1f} MB "
                f"({row[0] / row[3]:5.1%}), {row[2]:5.0f} ms | output seek {naive / 1e6:7.2f} MB "
                f"(x{naive / max(row[0], 1):.1f})"
            )
        conn.close()
        print("\nCPU per stream (segments of 6 s, 720p cap, veryfast), per second of media:")
        for mode in ("remux", "transcode", "transcode-prores"):
            cpu, wall = cpu_per_stream(files[mode], facts[mode], args.seconds)
            print(
                f"  {mode:17} {cpu:5.2f} CPU-s per media s, wall {wall:5.2f} s per media s"
                f" -> {(os.cpu_count() or 1) / max(cpu, 1e-6):.1f} realtime streams "
                f"on {os.cpu_count()} cores"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
