"""Same-programme evidence: preview strip key frames vs exact frames (issue 18 on issue 15).

Makes a 200 s programme of 34 shots of 3-9 s (lavfi sources cut like a broadcast, hue-shifted,
320x180, FFV1), encodes it as a ProRes master and as four H.264 copies (x264 defaults at
25 fps and at 29.97 fps, a fixed 2 s GOP, an MPEG-TS with 0.5 s GOPs) plus another programme
of the same length, and compares each copy with the master at the frame-hash times
(``fixity.frames.frame_times``): once with the key frame the preview strip takes at each time
(``previews.frames.FrameReader.frame_at``), once with the frame at the time
(``fixity.frames.grab_frames``). Prints how far behind each time the key frame is, both
``compare`` results and the bytes ``grab_frames`` read. Counts, not timings: the load does
not change them.

    .venv/bin/python -m bench.frame_evidence [--keep DIR]
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, cast

from PIL import Image

from archive_analyzer.fixity import frames as fx
from archive_analyzer.previews.frames import open_frames, scaled
from archive_analyzer.sources.base import Source
from archive_analyzer.sources.local import LocalSource

SIZE = "320x180"
DURATION = 200.0
PICTURES = (
    "testsrc2",
    "mandelbrot",
    "life=mold=10:ratio=0.5",
    "cellauto=rule=30",
    "gradients=speed=0.05",
    "sierpinski",
    "testsrc",
    "smptehdbars",
)
SHOTS = (7, 4, 9, 5, 6, 3, 8, 5, 4, 7, 6, 9, 3, 5, 8, 4, 7, 6, 5, 9, 3, 6, 8, 4, 7, 5, 6, 8, 3,
         9, 5, 6, 4, 7)  # fmt: skip
X264 = ("-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p")
COPIES = {
    "web_default.mp4": ["-i", "src.mkv", *X264],
    "web_2997.mp4": ["-i", "src.mkv", "-vf", "fps=30000/1001", *X264],
    "web_g2s.mp4": ["-i", "src.mkv", *X264, "-g", "50", "-sc_threshold", "0"],
    "bcast_g05.ts": ["-i", "src.mkv", *X264, "-g", "12", "-f", "mpegts"],
    "other.mp4": [
        *("-i", "src.mkv", "-filter_complex"),
        "[0:v]trim=100:200,setpts=PTS-STARTPTS[a];[0:v]trim=0:100,setpts=PTS-STARTPTS[b];"
        "[a][b]concat=n=2:v=1[o]",
        *("-map", "[o]", *X264),
    ],
}


def ffmpeg(root: Path, *args: str) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], cwd=root, check=True)


def make(root: Path) -> None:
    inputs: list[str] = []
    graph = ""
    for n, seconds in enumerate(SHOTS):
        picture = PICTURES[n % len(PICTURES)]
        options = f"size={SIZE}:rate=25"
        spec = f"{picture}:{options}" if "=" in picture else f"{picture}={options}"
        inputs += ["-f", "lavfi", "-t", str(seconds), "-i", spec]
        graph += f"[{n}:v]hue=h={(n * 47) % 360},format=yuv420p,setsar=1[v{n}];"
    graph += "".join(f"[v{n}]" for n in range(len(SHOTS))) + f"concat=n={len(SHOTS)}:v=1[out]"
    ffmpeg(root, *inputs, "-filter_complex", graph, "-map", "[out]", "-t", str(DURATION),
           "-c:v", "ffv1", "src.mkv")  # fmt: skip
    ffmpeg(root, "-i", "src.mkv", "-c:v", "prores_ks", "-profile:v", "0", "master.mov")
    for name, args in COPIES.items():
        ffmpeg(root, *args, name)


class _Counting(io.RawIOBase):
    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        buffer[: len(data)] = data
        self.bytes += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.inner.seek(offset, whence)

    def tell(self) -> int:
        return self.inner.tell()


class _Counted:
    """``grab_frames`` through a source whose ``open`` counts the bytes read."""

    def __init__(self, source: LocalSource) -> None:
        self.source = source
        self.bytes = 0

    @contextmanager
    def open(self, path: str) -> Iterator[BinaryIO]:
        with self.source.open(path) as handle:
            counting = _Counting(handle)
            try:
                yield cast(BinaryIO, counting)
            finally:
                self.bytes += counting.bytes

    def grab(self, _: Source, path: str, times: Sequence[float]) -> dict[float, Image.Image]:
        return fx.grab_frames(cast(Source, self), path, times)


def strip_frames(source: LocalSource, name: str, times: list[float]) -> dict[float, Any]:
    """(key frame time, phash) at each time, as the preview strip takes it."""
    found: dict[float, Any] = {}
    with open_frames(source, name) as reader:
        for t in [0.0, *times]:  # the strip starts at 0
            key = reader.frame_at(t)
            if key is not None and t:
                image = scaled(key.frame, 320, reader.sample_aspect_ratio).to_image()
                found[t] = (key.time_s, fx.phash(image))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="make the files here (reused when present)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="frame-evidence-") as scratch:
        root = args.keep or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        if not (root / "other.mp4").exists():
            make(root)
        report(root)


def report(root: Path) -> None:
    times = fx.frame_times(DURATION)
    grid = [float(t) for t in range(10, int(DURATION), 10)]
    source = LocalSource(root)
    master_strip = {t: h for t, (_, h) in strip_frames(source, "master.mov", times).items()}
    counted = _Counted(source)
    master = fx.hashes(source, "master.mov", DURATION, grab=counted.grab)
    size = (root / "master.mov").stat().st_size
    print(f"frame-hash times: {times}")
    print(f"master.mov: exact frames read {counted.bytes / size:.1%} of {size} bytes")
    for name in COPIES:
        behind = [round(t - at, 2) for t, (at, _) in strip_frames(source, name, grid).items()]
        strip = {t: h for t, (_, h) in strip_frames(source, name, times).items()}
        counted = _Counted(source)
        exact = fx.hashes(source, name, DURATION, grab=counted.grab)
        size = (root / name).stat().st_size
        a, b = fx.compare(master_strip, strip), fx.compare(master, exact)
        print(
            f"{name}: key frame behind the time {min(behind)}..{max(behind)} s "
            f"(median {statistics.median(behind)}); strip {a.matched}/{a.compared} "
            f"same={a.same} {list(a.distances)}; exact {b.matched}/{b.compared} "
            f"same={b.same} {list(b.distances)}; exact frames read "
            f"{counted.bytes / size:.1%} of {size} bytes"
        )


if __name__ == "__main__":
    main()
