"""Scrubbing previews: bytes read, CPU and wall time per file, against ffmpeg baselines.

Makes (once, cached under ``~/.cache/archive-analyzer/bench-previews-<V>/``) a 1080p 25 fps
H.264 MP4 with a 2 s GOP and AAC audio (``--minutes``, default 10), the same streams copied
into MPEG-TS (no index: the hard case), and a 1080p ProRes 422 Proxy MOV (``--prores-minutes``,
default 1). With ``--smb`` (the default) they are served by a throwaway ``smbd`` on a loopback
port and everything reads over SMB.

For each file: our strip (``previews.make.make``: a key frame every 10 s by seeking, read
through the Source's file object, as the previews job does) against ffmpeg decoding the whole
file at ``fps=1/10`` (Jellyfin 10.9) and ffmpeg ``-skip_frame nokey`` over the whole file
(Jellyfin 10.10 / Plex). ffmpeg has no SMB protocol here, so it reads the same Source through
a local HTTP range server in this process; its bytes are counted there, and the CPU of this
process while it serves is added to ffmpeg's (ours includes the SMB client's CPU too).

    .venv/bin/python -m bench.previews [--minutes 10] [--prores-minutes 1] [--local]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import resource
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import av
from tests.fixtures.smb import SambaServer, smb_options

from archive_analyzer.previews import make, store
from archive_analyzer.sources import Source, open_source
from archive_analyzer.sources.local import LocalSource

VERSION = "2"
CACHE = Path(os.environ.get("ARCHIVE_CORPUS_CACHE", "~/.cache/archive-analyzer")).expanduser()


def media(minutes: int, prores_minutes: int) -> dict[str, Path]:
    root = CACHE / f"bench-previews-{VERSION}"
    root.mkdir(parents=True, exist_ok=True)
    h264 = f"h264_1080p_gop2s_{minutes}min.mp4"
    lavfi = ["-f", "lavfi", "-i"]
    files: dict[str, list[str]] = {
        h264: [
            *lavfi,
            f"testsrc2=size=1920x1080:rate=25:duration={minutes * 60}",
            *lavfi,
            f"sine=frequency=440:sample_rate=48000:duration={minutes * 60}",
            *("-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-b:v", "8M"),
            *("-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart"),
        ],
        h264.replace(".mp4", ".ts"): ["-i", str(root / h264), "-c", "copy", "-f", "mpegts"],
        f"prores_1080p_{prores_minutes}min.mov": [
            *lavfi,
            f"testsrc2=size=1920x1080:rate=25:duration={prores_minutes * 60}",
            *("-c:v", "prores", "-profile:v", "0", "-pix_fmt", "yuv422p10le"),
        ],
    }
    out = {}
    for name, args in files.items():
        target = root / name
        if not target.exists():
            partial = root / f".partial-{name}"
            fmt = [] if "-f" in args[-2:] else ["-f", "mp4" if name.endswith(".mp4") else "mov"]
            subprocess.run(
                ["ffmpeg", "-nostdin", "-v", "error", "-y", *args, *fmt, str(partial)], check=True
            )
            partial.rename(target)
        out[name] = target
    return out


class _Served:
    """One file of a Source over HTTP with ranges (for ffmpeg), counting the bytes sent."""

    def __init__(self, source: Source, path: str, size: int) -> None:
        self.source, self.path, self.size = source, path, size
        self.sent = 0
        self.lock = threading.Lock()


def _handler(served: _Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            start, end = 0, served.size - 1
            found = re.match(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            if found:
                start = int(found.group(1))
                end = min(end, int(found.group(2))) if found.group(2) else end
            if start >= served.size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{served.size}")
                self.end_headers()
                return
            self.send_response(206 if found else 200)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(end - start + 1))
            if found:
                self.send_header("Content-Range", f"bytes {start}-{end}/{served.size}")
            self.end_headers()
            handle = served.source.open(served.path)
            try:
                handle.seek(start)
                left = end - start + 1
                while left > 0:
                    chunk = handle.read(min(left, 1024 * 1024))
                    if not chunk:
                        break
                    try:
                        self.wfile.write(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        break  # ffmpeg seeks away: it closes the connection
                    left -= len(chunk)
                    with served.lock:
                        served.sent += len(chunk)
            finally:
                handle.close()

    return Handler


@contextlib.contextmanager
def http_file(source: Source, path: str, size: int) -> Iterator[tuple[str, _Served]]:
    served = _Served(source, path, size)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/file", served
    finally:
        server.shutdown()
        server.server_close()


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def ffmpeg_baseline(source: Source, path: str, size: int, mode: str) -> tuple[int, float, float]:
    """(bytes read, CPU s, wall s) of an ffmpeg run over the whole file."""
    pre = ["-skip_frame", "nokey"] if mode == "nokey" else []
    vf = "fps=1/10,scale=320:-2" if mode == "fps" else "scale=320:-2"
    with http_file(source, path, size) as (url, served):
        args = [
            *("ffmpeg", "-nostdin", "-hide_banner", "-v", "error", *pre, "-i", url),
            *("-an", "-vf", vf, "-fps_mode", "vfr", "-f", "null", "-"),
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        own = _cpu_self()
        wall = time.monotonic()
        subprocess.run(args, capture_output=True, text=True, check=True)
        wall = time.monotonic() - wall
        own = _cpu_self() - own
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime) + own
    return served.sent, cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--prores-minutes", type=int, default=1)
    parser.add_argument("--local", action="store_true", help="read the local files, not SMB")
    args = parser.parse_args()
    files = media(args.minutes, args.prores_minutes)
    samba: SambaServer | None = None
    if args.local:
        source: Source = LocalSource(next(iter(files.values())).parent)
        where = "local disk"
    else:
        samba = SambaServer()
        for path in files.values():
            target = samba.root / path.name
            try:
                os.link(path, target)
            except OSError:
                shutil.copyfile(path, target)
        samba.start()
        source = open_source(samba.url, smb_options(samba))
        where = f"loopback SMB ({samba.url})"
    source.connect()
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; reading {where}")
    try:
        for name, path in files.items():
            _one(source, name, path)
    finally:
        source.close()
        if samba is not None:
            samba.close()
    print(f"\nload after: {os.getloadavg()[0]:.1f}")


def _one(source: Source, name: str, path: Path) -> None:
    size = path.stat().st_size
    with av.open(str(path)) as probe:
        duration = float(probe.duration or 0) / 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        opts = make.PreviewOptions(root=Path(tmp) / "p", thumbs_root=Path(tmp) / "t")
        item = store.Pending("bench0", name, size, path.stat().st_mtime, duration)
        before = _cpu_self()
        wall = time.monotonic()
        record = make.make(source, item, opts)
        wall = time.monotonic() - wall
        cpu = _cpu_self() - before
    assert record.status == "done", record.error
    minutes = duration / 60
    print(f"\n{name}: {size / 1e6:.0f} MB, {duration:.0f} s, {record.frames} frames")
    share = record.bytes_read / size
    print(
        f"  ours (seek to key frames)  {record.bytes_read / 1e6:8.1f} MB ({share:6.2%})"
        f"  CPU {cpu / minutes:6.3f} s/media-min  wall {wall:6.1f} s"
    )
    for mode, label in (
        ("fps", "ffmpeg fps=1/10 (decode all)"),
        ("nokey", "ffmpeg -skip_frame nokey"),
    ):
        read, fcpu, fwall = ffmpeg_baseline(source, name, size, mode)
        print(
            f"  {label:27} {read / 1e6:8.1f} MB ({read / size:6.2%})  CPU {fcpu / minutes:6.3f}"
            f" s/media-min  wall {fwall:6.1f} s  (baseline/ours CPU x{fcpu / max(cpu, 1e-6):.1f}"
            f", bytes x{read / max(record.bytes_read, 1):.0f})"
        )


if __name__ == "__main__":
    main()
