"""Key frames by seeking (``previews/frames.py``) on real files made with ffmpeg: every point
lands on its key frame, and an index-less MPEG-TS is searched by bytes, not read through."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from archive_analyzer.errors import FileChanged
from archive_analyzer.previews import frames
from archive_analyzer.sources.base import FileInfo
from archive_analyzer.sources.local import LocalSource

SECONDS = 40
POINTS = [float(t) for t in range(0, SECONDS, 4)]


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 640x360 H.264 stream with B-frames and a 2 s GOP (a broadcast-like TS) and the same
    stream in MP4."""
    root = tmp_path_factory.mktemp("frames")
    common = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
    subprocess.run(
        [
            *common,
            *("-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=25:duration={SECONDS}"),
            *("-f", "lavfi", "-i", f"sine=frequency=440:duration={SECONDS}"),
            *("-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-b:v", "1500k"),
            *("-g", "50", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "mpegts"),
            str(root / "broadcast.ts"),
        ],
        check=True,
    )
    subprocess.run(
        [*common, "-i", str(root / "broadcast.ts"), "-c", "copy", str(root / "broadcast.mp4")],
        check=True,
    )
    return root


@pytest.mark.parametrize("name", ["broadcast.ts", "broadcast.mp4"])
def test_each_point_gets_its_key_frame(media: Path, name: str) -> None:
    with frames.open_frames(LocalSource(media), name) as reader:
        found = [reader.frame_at(t) for t in POINTS]
        share = reader.bytes_read / (media / name).stat().st_size
    assert [f.time_s if f else None for f in found] == pytest.approx(POINTS, abs=0.05)
    assert all(f is not None and f.frame.width == 640 for f in found)
    # a point every 4 s, a 2 s GOP: never the whole file (the TS read 30 % before the byte search)
    assert share < 0.25, share


def test_a_ts_is_searched_by_bytes_after_the_gop_is_known(media: Path) -> None:
    """Once two key frames are known, a point costs about its key frame: the bytes read per
    point stay under an eighth of the stream between points."""
    path = media / "broadcast.ts"
    per_point = path.stat().st_size / SECONDS * 4
    with frames.open_frames(LocalSource(media), path.name) as reader:
        reader.frame_at(0.0)
        reader.frame_at(4.0)  # the GOP is measured by now
        before = reader.bytes_read
        for t in POINTS[2:]:
            assert reader.frame_at(t) is not None
        spent = (reader.bytes_read - before) / len(POINTS[2:])
    assert spent < per_point / 8, (spent, per_point)  # libav's timestamp search: 1/6


def test_frames_at_scales_for_other_features(media: Path) -> None:
    got = list(frames.frames_at(LocalSource(media), "broadcast.mp4", [10.0, 20.0], width=160))
    assert [t for t, _ in got] == [10.0, 20.0]
    assert all(f.width == 160 and f.height == 90 for _, f in got)


def test_a_file_without_video_is_a_frame_error(tmp_path: Path) -> None:
    (tmp_path / "tone.m4a").write_bytes(b"")
    subprocess.run(
        [
            *("ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi"),
            *("-i", "sine=duration=1", str(tmp_path / "tone.m4a")),
        ],
        check=True,
    )
    with pytest.raises(frames.FrameError), frames.open_frames(LocalSource(tmp_path), "tone.m4a"):
        pass


def test_another_version_than_expected_is_refused(media: Path) -> None:
    """Strips are made for the catalog's version of a file: a changed file is not read."""
    path = media / "broadcast.mp4"
    stale = FileInfo(path.name, path.stat().st_size + 1, path.stat().st_mtime, None, False)
    with (
        pytest.raises(FileChanged),
        frames.open_frames(LocalSource(media), path.name, expect=stale),
    ):
        pass


# A programme of shots of uneven length cut like a broadcast: x264 with short GOPs puts a key
# frame at every cut, so the key frames are off any grid (bench.frame_evidence's TS).
SHOTS = (2.3, 3.7, 1.9, 4.4, 2.6, 3.1, 1.7, 4.9, 2.2, 3.5, 2.8, 4.1)
SHOT_PICTURES = ("testsrc2", "mandelbrot", "cellauto=rule=30", "smptehdbars", "sierpinski")


@pytest.fixture(scope="module")
def cuts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[float]]:
    """An MPEG-TS with 0.48 s GOPs restarted at every scene cut and its key frames' times
    (ffprobe: the truth)."""
    root = tmp_path_factory.mktemp("cuts")
    inputs: list[str] = []
    graph = ""
    for n, seconds in enumerate(SHOTS):
        picture = SHOT_PICTURES[n % len(SHOT_PICTURES)]
        spec = (
            f"{picture}:size=480x270:rate=25"
            if "=" in picture
            else f"{picture}=size=480x270:rate=25"
        )
        inputs += ["-f", "lavfi", "-t", str(seconds), "-i", spec]
        graph += f"[{n}:v]hue=h={(n * 47) % 360},format=yuv420p,setsar=1[v{n}];"
    graph += "".join(f"[v{n}]" for n in range(len(SHOTS))) + f"concat=n={len(SHOTS)}:v=1[out]"
    subprocess.run(
        [
            *("ffmpeg", "-nostdin", "-v", "error", "-y", *inputs, "-filter_complex", graph),
            *("-map", "[out]", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "2000k"),
            *("-g", "12", "-pix_fmt", "yuv420p", "-f", "mpegts", str(root / "cuts.ts")),
        ],
        check=True,
    )
    probe = subprocess.run(
        [
            *("ffprobe", "-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey"),
            *("-show_entries", "frame=pts_time", "-of", "csv=p=0", str(root / "cuts.ts")),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    times = [float(line.split(",")[0]) for line in probe.stdout.split() if line.strip()]
    start = times[0]
    return root, [t - start for t in times]


def test_a_ts_with_irregular_gops_gets_the_key_frame_at_or_before_each_point(
    cuts: tuple[Path, list[float]],
) -> None:
    """Scene cuts move the key frames off the GOP grid: each point still gets the last key
    frame at or before it (it got one up to 10 s early, or the next one), and each point costs
    a small part of the stream between points."""
    root, keys = cuts
    path = root / "cuts.ts"
    duration = sum(SHOTS)
    points = [0.0, *(t + 0.37 for t in range(1, int(duration) - 1, 3))]
    with frames.open_frames(LocalSource(root), path.name) as reader:
        got = [reader.frame_at(t) for t in points]
        share = reader.bytes_read / path.stat().st_size
    expected = [max(k for k in keys if k <= t + 0.001) for t in points]
    assert [f.time_s if f else None for f in got] == pytest.approx(expected, abs=0.05)
    # A point every 3 s on 0.48 s GOPs costs less than half the stream between points (the
    # least possible here, from each key frame to its point, is 14 %; a GOP grid predicted
    # from the first key frames read 45 % and got 10 of 13 wrong).
    assert share < 0.5, share


def test_a_point_after_the_last_key_frame_of_a_ts_gets_that_key_frame(media: Path) -> None:
    """The strip's last point can be the file's end, past its last key frame: it gets that
    key frame (it got none, and the strip repeated the previous tile)."""
    with frames.open_frames(LocalSource(media), "broadcast.ts") as reader:
        reader.frame_at(0.0)
        reader.frame_at(4.0)
        found = reader.frame_at(float(SECONDS))
    assert found is not None and found.time_s == pytest.approx(SECONDS - 2, abs=0.05)
