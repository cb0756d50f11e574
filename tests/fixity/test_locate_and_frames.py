"""A byte range of a real MP4 and MPEG-TS located in media time; frame hashes of re-encodes
match, of other pictures do not."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from archive_analyzer.fixity import frames
from archive_analyzer.fixity.locate import estimate, time_range
from archive_analyzer.previews.frames import open_frames
from archive_analyzer.sources.local import LocalSource

LAVFI = ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i"]
H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p"]


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("locate")
    for name, graph, codec in (
        ("a.mp4", "testsrc2=size=320x240:rate=25", [*H264, "-b:v", "800k"]),
        ("a.ts", "testsrc2=size=320x240:rate=25", [*H264, "-b:v", "800k", "-f", "mpegts"]),
        ("a.mov", "testsrc2=size=320x240:rate=25", ["-c:v", "mjpeg", "-q:v", "5"]),
        ("b.mp4", "mandelbrot=size=320x240:rate=25", H264),
    ):
        subprocess.run([*LAVFI, graph, "-t", "20", *codec, str(root / name)], check=True,
                       timeout=120)  # fmt: skip
    return root


@pytest.mark.parametrize("name", ["a.mp4", "a.ts"])
def test_middle_bytes_are_in_the_middle(media: Path, name: str) -> None:
    size = (media / name).stat().st_size
    found = time_range(LocalSource(media), name, size // 2, size // 2 + size // 10,
                       size=size, duration_s=20.0)  # fmt: skip
    assert found is not None and found.method == "timestamps"
    assert 7.0 <= found.start_s <= 11.0 and found.start_s < found.end_s <= 14.0


def test_estimate_without_timestamps(media: Path) -> None:
    (media / "junk.bin").write_bytes(b"\0" * 100_000)
    found = time_range(LocalSource(media), "junk.bin", 50_000, 60_000, size=100_000,
                       duration_s=10.0)  # fmt: skip
    assert found == estimate(50_000, 60_000, 100_000, 10.0) and found.method == "estimate"
    assert time_range(LocalSource(media), "a.mp4", 0, 10, size=10, duration_s=None) is None


def test_frames_match_across_encodings_not_across_pictures(media: Path) -> None:
    source = LocalSource(media)
    a, same, other = (frames.hashes(source, n, 20.0) for n in ("a.mp4", "a.mov", "b.mp4"))
    assert len(a) >= 3
    assert frames.compare(a, same).same
    assert not frames.compare(a, other).same
    assert frames.frame_times(20.0) == frames.frame_times(20.4)  # half a second apart: same
    assert frames.frame_times(0.8) == []
    for d in (12.0, 17.3, 99.8, 160.2, 5400.0, 10800.3):  # a step apart: one is a subset
        a_times, b_times = set(frames.frame_times(d)), set(frames.frame_times(d + 0.5))
        assert a_times <= b_times or b_times <= a_times
        assert min(len(a_times), len(b_times)) >= 3 and max(len(a_times), len(b_times)) <= 16
    assert all(t % 10 == 0 for t in frames.frame_times(5400.0))  # the preview strips' grid


@pytest.fixture(scope="module")
def long_gops(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 40 s programme as an all-intra master and as H.264 whose key frames are off the
    10 s grid: x264's default GOP at 29.97 fps (8.3 s) in MP4, a 1.2 s GOP in MPEG-TS."""
    root = tmp_path_factory.mktemp("gops")
    graph = "testsrc2=size=160x120:rate=25"
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    for name, codec in (
        ("master.mov", ["-c:v", "mjpeg", "-q:v", "5"]),
        ("web.mp4", ["-vf", "fps=30000/1001", *x264]),
        ("air.ts", [*x264, "-g", "30", "-f", "mpegts"]),
    ):
        subprocess.run([*LAVFI, graph, "-t", "40", *codec, str(root / name)], check=True,
                       timeout=120)  # fmt: skip
    return root


def test_frames_are_at_the_times_not_at_key_frames(long_gops: Path) -> None:
    """Why the frame hashes decode their own frames instead of reusing the preview strip's
    key frames (docs/fixity.md): the key frame before 10 s of a long-GOP encode shows another
    moment than the master's frame at 10 s; the frame at 10 s itself matches. And an MPEG-TS,
    where libavformat's seek may land on the key frame after the time, still gives the frame
    at the time."""
    source = LocalSource(long_gops)
    with open_frames(source, "web.mp4") as reader:
        key = reader.frame_at(10.0)
    assert key is not None and key.time_s < 9.0  # the key frame at 8.3 s
    master = frames.hashes(source, "master.mov", 40.0)
    assert sorted(master) == [10.0, 20.0, 30.0]
    for name in ("web.mp4", "air.ts"):
        match = frames.compare(master, frames.hashes(source, name, 40.0))
        assert match.compared == 3 and match.matched == 3, (name, match)
