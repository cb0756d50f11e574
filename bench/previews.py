"""Scrubbing previews: bytes read, CPU and wall time per file, against ffmpeg baselines.

Makes (once, cached under ``~/.cache/archive-analyzer/bench-previews-<V>/``) a 1080p 25 fps
H.264 MP4 with a 2 s GOP (``--minutes``, default 10) and a 1080p ProRes 422 Proxy MOV
(``--prores-minutes``, default 1). For each: our strip (``previews.make``: a key frame every
10 s by seeking, read through a LocalSource) vs ffmpeg decoding the whole file at
``fps=1/10`` (Jellyfin 10.9) and ffmpeg ``-skip_frame nokey`` over the whole file (Jellyfin
10.10 / Plex). Bytes read: ours counted at the file object, ffmpeg's from its AVIO statistics.

    .venv/bin/python -m bench.previews [--minutes 10] [--prores-minutes 1]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import av

from archive_analyzer.previews import make, store
from archive_analyzer.sources.local import LocalSource
from archive_analyzer.web import thumbs

CACHE = Path(os.environ.get("ARCHIVE_CORPUS_CACHE", "~/.cache/archive-analyzer")).expanduser()


def media(minutes: int, prores_minutes: int) -> dict[str, Path]:
    root = CACHE / "bench-previews-1"
    root.mkdir(parents=True, exist_ok=True)
    files = {
        f"h264_1080p_gop2s_{minutes}min.mp4": [
            *("-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=25:duration={minutes * 60}"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-b:v", "8M"),
            *("-pix_fmt", "yuv420p", "-movflags", "+faststart"),
        ],
        f"prores_1080p_{prores_minutes}min.mov": [
            *(
                "-f",
                "lavfi",
                "-i",
                f"testsrc2=size=1920x1080:rate=25:duration={prores_minutes * 60}",
            ),
            *("-c:v", "prores", "-profile:v", "0", "-pix_fmt", "yuv422p10le"),
        ],
    }
    out = {}
    for name, args in files.items():
        target = root / name
        if not target.exists():
            partial = root / f".partial-{name}"
            subprocess.run(
                ["ffmpeg", "-nostdin", "-v", "error", "-y", *args, str(partial)], check=True
            )
            partial.rename(target)
        out[name] = target
    return out


def ffmpeg_baseline(path: Path, mode: str) -> tuple[int, float, float]:
    """(bytes read, CPU s, wall s) of an ffmpeg run over the whole file."""
    pre = ["-skip_frame", "nokey"] if mode == "nokey" else []
    vf = "fps=1/10,scale=320:-2" if mode == "fps" else "scale=320:-2"
    args = [
        *("ffmpeg", "-nostdin", "-hide_banner", "-v", "verbose", *pre, "-i", str(path)),
        *("-an", "-vf", vf, "-vsync", "vfr", "-f", "null", "-"),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.monotonic()
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    wall = time.monotonic() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return thumbs.read_stats(done.stderr)[0], cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--prores-minutes", type=int, default=1)
    args = parser.parse_args()
    files = media(args.minutes, args.prores_minutes)
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    for name, path in files.items():
        size = path.stat().st_size
        with av.open(str(path)) as probe:
            duration = float(probe.duration or 0) / 1_000_000
        with tempfile.TemporaryDirectory() as tmp:
            opts = make.PreviewOptions(root=Path(tmp) / "p", thumbs_root=Path(tmp) / "t")
            item = store.Pending("bench0", path.name, size, path.stat().st_mtime, duration)
            before = time.process_time()
            wall = time.monotonic()
            record = make.make(LocalSource(path.parent), item, opts)
            wall = time.monotonic() - wall
            cpu = time.process_time() - before
        minutes = duration / 60
        print(f"\n{name}: {size / 1e6:.0f} MB, {duration:.0f} s, {record.frames} frames")
        share = record.bytes_read / size
        print(
            f"  ours (seek to key frames) {record.bytes_read / 1e6:8.1f} MB ({share:6.2%})"
            f"  CPU {cpu / minutes:6.2f} s/media-min  wall {wall:6.1f} s"
        )
        for mode, label in (
            ("fps", "ffmpeg fps=1/10 (decode all)"),
            ("nokey", "ffmpeg -skip_frame nokey"),
        ):
            read, fcpu, fwall = ffmpeg_baseline(path, mode)
            print(
                f"  {label:26} {read / 1e6:8.1f} MB ({read / size:6.2%})  CPU {fcpu / minutes:6.2f}"
                f" s/media-min  wall {fwall:6.1f} s  (ours: x{fcpu / max(cpu, 1e-6):.0f} less CPU)"
            )
    print(f"\nload after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
