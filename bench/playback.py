"""Playback: time to first frame (direct, remux, transcode), bytes read per poster frame, CPU
per transcoded stream.

Makes three 1080p files once (cached under ``~/.cache/archive-analyzer/bench-playback-<V>/``):
an H.264/AAC MP4 (direct play, the baseline), the same streams in MPEG-TS (remux) and an
MPEG-2 4:2:2 MXF with PCM audio like an XDCAM master (transcode), plus a ProRes 422 MOV.
Serves them from a throwaway ``smbd`` on a loopback port (``--local``: the local folder),
catalogs them with the real probe engine, serves the app (uvicorn, in-process thread) and
opens each in headless Chromium, always with a fresh browser context:

* first frame: ``/watch/{id}?t=0&autoplay=1`` (what the content page's Play does), from
  navigation start to the first ``timeupdate`` past 0 (playing; the issue 9 figures'
  definition) and to the first video frame composited (``requestVideoFrameCallback``);
  **cold** with an empty segment cache, then **warm**: the same page again once the cold
  run's segments are made (cache filled);
* seek: from setting ``currentTime`` to 80 % to playback past that point (a cold segment).

Poster frames: bytes ffmpeg read (its AVIO statistics) for the app's input seek vs an output
seek (decode from the start, the naive way) on the same files. CPU: ``RUSAGE_CHILDREN`` over
the segment ffmpeg runs of 30 s of each file with the app's settings (720p cap, veryfast).

    .venv/bin/python -m bench.playback [--runs 3] [--seconds 30] [--local]
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS, serve_app
from tests.fixtures.smb import SambaServer, smb_options
from tests.web.playback_data import seed_corpus

from archive_analyzer.catalog import db, file_facts
from archive_analyzer.catalog.media import MediaInfo
from archive_analyzer.config import Settings
from archive_analyzer.sources import Source, open_source
from archive_analyzer.sources.local import LocalSource
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
  // the first video frame composited (timeupdate fires only every 250 ms or so)
  if (v.requestVideoFrameCallback) {
    v.requestVideoFrameCallback(() => { window.__t.painted = performance.now(); });
  }
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


SPANS: list[tuple[str, float, float]] = []  # (ffmpeg label, start, end) in epoch seconds


_NOW = (hls.RAMP, hls._RAMP_ENDS, hls.Encoding.preset_for, hls.start_uris)


def issue9_start(on: bool) -> None:
    """Make HLS starts as issue 9 did (``on``: first segments 1/3 and 2/3 of the length, all
    at ``transcode_preset``, no preload from the page) or as now; a fresh segment cache per
    visit keeps them apart."""
    if on:
        hls.RAMP, hls._RAMP_ENDS = (1 / 3, 2 / 3), (1 / 3, 1.0)
        hls.Encoding.preset_for = lambda self, n: self.preset  # type: ignore[method-assign]
        hls.start_uris = lambda *args, **kwargs: []
    else:
        hls.RAMP, hls._RAMP_ENDS, hls.Encoding.preset_for, hls.start_uris = _NOW  # type: ignore[method-assign]


def trace_ffmpeg() -> None:
    """Record every segment ffmpeg run of the app (for the cold-start breakdown)."""
    from archive_analyzer.web.routes import playback as routes

    original = routes.run  # type: ignore[attr-defined]

    async def traced(args: list[str], **kwargs: Any) -> str:
        started = time.time()
        try:
            return await original(args, **kwargs)
        finally:
            SPANS.append((str(kwargs.get("label", "")), started, time.time()))

    setattr(routes, "run", traced)  # noqa: B010


@dataclass
class Visit:
    first_ms: float  # navigation start -> first timeupdate past 0 (playing)
    painted_ms: float = 0.0  # navigation start -> first video frame composited
    seek_ms: float = 0.0  # seek to 80 % -> playing there (0: not measured)
    phases: dict[str, float] = field(default_factory=dict)  # where a cold HLS start went


def first_frame(
    chromium: Any, url: str, cid: str, duration: float, catalog: Path, *, seek: bool = True
) -> Visit:
    """Open ``/watch/{cid}?autoplay=1`` in a fresh browser context and time its first frame
    (and, with ``seek``, a seek to 80 %). Every visit starts at 0 (``t=0``; saved positions are
    forgotten too): a resume would start at the last visit's seek."""
    conn = db.connect(catalog, migrate=False)
    with db.transaction(conn):
        conn.execute("DELETE FROM watch_progress")
    conn.close()
    context = chromium.new_context()  # a fresh browser cache
    context.add_init_script(INIT)
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", "bench")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    SPANS.clear()
    page.goto(f"{url}/watch/{cid}?t=0&autoplay=1")
    try:
        first = float(_poll(page, "window.__t.first || 0"))
    except TimeoutError:
        state = page.evaluate(
            "(() => { const v = document.getElementById('player'); return [v.readyState, "
            "v.networkState, v.currentTime, v.paused, v.error && v.error.message]; })()"
        )
        raise TimeoutError(f"{cid}: no first frame; video state {state}") from None
    painted = float(page.evaluate("window.__t.painted || 0"))
    visit = Visit(first, painted, phases=_phases(page, first))
    if seek:
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
        visit.seek_ms = float(reached) - float(started)
    context.close()
    return visit


def _phases(page: Any, first: float) -> dict[str, float]:
    """The first video segment's request in the browser's resource timing and its ffmpeg run
    on the server, on one clock (ms from navigation start)."""
    found = page.evaluate(
        "(() => ({origin: performance.timeOrigin, domReady: "
        "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd, "
        "segments: performance.getEntriesByType('resource').filter(e => /\\/hls\\/[^/]+\\/v?0\\.ts/"
        ".test(e.name)).map(e => [e.name, e.requestStart, e.responseStart, e.responseEnd])}))()"
    )
    if not found["segments"]:
        if os.environ.get("BENCH_DEBUG"):
            names = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
            print("no segment 0 in", names)
        return {}
    _, request, first_byte, end = found["segments"][0]
    runs = [(b, e) for label, b, e in SPANS if label.endswith(("av0.ts", "v0.ts"))]
    phases = {"page": found["domReady"], "request": request}
    if runs:
        began, ended = ((t * 1000 - found["origin"]) for t in runs[0])
        phases.update(ffmpeg_start=began, ffmpeg_end=ended)
    painted = float(page.evaluate("window.__t.painted || 0"))
    phases.update(first_byte=first_byte, response_end=end, painted=painted, first_frame=first)
    return phases


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
    parser.add_argument("--local", action="store_true", help="the local folder, not SMB")
    parser.add_argument(
        "--compare-start",
        action="store_true",
        help="also time HLS starts as issue 9 made them (2 s + 4 s ramp, transcode_preset, "
        "no preload)",
    )
    args = parser.parse_args()

    files = media(args.seconds)
    tmp = Path(tempfile.mkdtemp(prefix="bench-playback-"))
    samba: SambaServer | None = None
    try:
        root = files["direct"].parent
        if args.local:
            settings = Settings(db=tmp / "web.db", data_dir=tmp / "data", source=str(root))
            source: Source = LocalSource(root)
        else:
            samba = SambaServer()
            for path in files.values():
                try:
                    os.link(path, samba.root / path.name)
                except OSError:
                    shutil.copyfile(path, samba.root / path.name)
            samba.start()
            settings = Settings(
                db=tmp / "web.db",
                data_dir=tmp / "data",
                source=samba.url,
                smb_password=SecretStr(samba.password),
            )
            source = open_source(samba.url, smb_options(samba))
        source.connect()
        conn = db.connect(settings.db)
        ids = seed_corpus(conn, files, list(files), source)
        source.close()
        accounts.add_user(conn, "bench", PASSWORD, role="admin")
        facts: dict[str, MediaInfo] = {}
        for mode, cid in ids.items():
            played = file_facts.played_file(conn, cid)
            assert played is not None and played.media is not None
            facts[mode] = played.media
        conn.close()
        app = create_app(
            settings,
            conn_factory=lambda: db.connect(settings.db, migrate=False),
            source_factory=SourceRegistry(settings),
        )
        where = settings.source if samba is not None else f"local {root}"
        print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; files on {where}")
        for mode, f in facts.items():
            print(f"  {mode:17} {files[mode].name}: {hls.plan(f).mode.value}, {f.video_codec}")

        from playwright.sync_api import sync_playwright

        trace_ffmpeg()
        variants = ["now"] + (["issue-9 start"] if args.compare_start else [])
        keys = [(m, v) for m in files for v in variants if v == "now" or m != "direct"]
        results: dict[tuple[str, str], list[Visit]] = {k: [] for k in keys}
        warm: dict[tuple[str, str], list[float]] = {k: [] for k in keys}

        def settle() -> None:
            # segments still being made for the previous page finish first
            state = app.state.playback
            deadline = time.monotonic() + 120
            while state.processes.running and time.monotonic() < deadline:
                time.sleep(0.05)

        with serve_app(app) as server, sync_playwright() as pw:
            chromium = pw.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            for run in range(args.runs):
                for mode, variant in keys:
                    issue9_start(variant != "now")
                    settle()
                    cache_dir = tmp / f"hls-{run}-{mode}-{variant}"
                    app.state.playback.segments = SegmentCache(cache_dir, settings.hls_cache_bytes)
                    duration = facts[mode].duration_s or args.seconds
                    visit = first_frame(chromium, server.url, ids[mode], duration, settings.db)
                    results[mode, variant].append(visit)
                    settle()
                    again = first_frame(
                        chromium, server.url, ids[mode], duration, settings.db, seek=False
                    )
                    warm[mode, variant].append(again.first_ms)
            issue9_start(False)
            chromium.close()

            print("\ntime to first frame (cold and warm segment cache) and to play after a seek")
            print("to 80 % (cold), ms, median of the runs:")
            base = statistics.median(r.first_ms for r in results["direct", "now"])
            for (mode, variant), rows in results.items():
                ttff = statistics.median(r.first_ms for r in rows)
                shown = statistics.median(r.painted_ms for r in rows)
                seek = statistics.median(r.seek_ms for r in rows)
                hot = statistics.median(warm[mode, variant])
                cold_runs, warm_runs = (
                    [round(r.first_ms) for r in rows],
                    [round(w) for w in warm[mode, variant]],
                )
                print(
                    f"  {mode:17} {variant:13} cold {ttff:7.0f} (x{ttff / base:4.1f} direct,"
                    f" painted {shown:5.0f})  warm {hot:7.0f}   seek {seek:7.0f}"
                    f"   runs cold {cold_runs} warm {warm_runs}"
                )
            print("\ncold HLS starts, ms from navigation start (median of the runs): page ready,")
            print(
                "segment 0 asked, its ffmpeg start and end, first byte, response end, first frame"
                " painted, first timeupdate past 0"
            )
            for (mode, variant), rows in results.items():
                names = [k for k in rows[0].phases if all(k in r.phases for r in rows)]
                if not names:
                    continue
                cells = "  ".join(
                    f"{k} {statistics.median(r.phases[k] for r in rows):6.0f}" for k in names
                )
                print(f"  {mode:17} {variant:13} {cells}")

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
        if samba is not None:
            samba.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
