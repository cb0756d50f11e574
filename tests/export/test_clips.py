"""Clips cut from originals on a real Samba share (through the one-file range server), the
key frames around a range in several containers, and the size-capped export cache."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from archive_analyzer.catalog.hands import FileClock
from archive_analyzer.export import clip, clips
from archive_analyzer.export.cache import ExportCache, clip_key
from archive_analyzer.export.selection import ClipTarget
from archive_analyzer.sources import open_source
from archive_analyzer.sources.loopback import ffmpeg_input
from tests.fixtures.smb import SMBFolder

pytestmark = pytest.mark.smb


def _duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout)


def _target(name: str, path: Path, start: float, end: float, clock: FileClock) -> ClipTarget:
    stat = path.stat()
    return ClipTarget(
        content_id="c1",
        title="Hand 7: A/B",
        file_id="f1",
        source="smb",
        path=name,
        ext=path.suffix.lstrip("."),
        size=stat.st_size,
        mtime=stat.st_mtime,
        start=start,
        end=end,
        clock=clock,
    )


def test_clips_from_an_smb_share(
    smb_folder: SMBFolder, corpus: dict[str, Path], tmp_path: Path
) -> None:
    shutil.copyfile(corpus["mov_tmcd"], smb_folder.root / "master one.mov")
    (smb_folder.root / "master one.mov").chmod(0o644)
    source = open_source(smb_folder.url, smb_folder.options())
    source.connect()
    try:
        target = _target(
            "master one.mov",
            smb_folder.root / "master one.mov",
            2.5,
            5.0,
            FileClock(8.0, "01:00:00:00", 25.0),
        )
        options = clip.ClipOptions()
        fast = clips.make(source, target, tmp_path / "fast.mov", exact=False, options=options)
        assert (fast.real_in, fast.real_out) == (2.0, 6.0)  # the key frames around 2.5-5
        assert abs(_duration(fast.path) - 4.0) <= 0.1
        exact = clips.make(source, target, tmp_path / "exact.mp4", exact=True, options=options)
        assert (exact.real_in, exact.real_out) == (2.5, 5.0)
        assert abs(_duration(exact.path) - 2.5) <= 0.04 + 1e-3
        assert clips.download_name(target, "mov") == "Hand 7_ A_B.mov"

        # the range server: ranges, a bad range, and nothing else served
        with ffmpeg_input(source, "master one.mov") as url:
            assert url.startswith("http://127.0.0.1:")
            request = urllib.request.Request(url, headers={"Range": "bytes=4-11"})
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 206
                assert response.read() == corpus["mov_tmcd"].read_bytes()[4:12]
            bad = urllib.request.Request(url, headers={"Range": "bytes=99999999-"})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(bad, timeout=10)
            assert refused.value.code == 416
            with pytest.raises(urllib.error.HTTPError) as other:
                urllib.request.urlopen(url + "x", timeout=10)
            assert other.value.code == 404
    finally:
        source.close()


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [
        ("ts_2audio", 3.3, 5.1),
        ("mkv", 3.3, 5.1),
        ("mxf_closed", 3.3, 5.1),
        ("mov_prores", 1.0, 2.0),
    ],
)
def test_key_frames_around_a_range(
    name: str, start: float, end: float, corpus: dict[str, Path]
) -> None:
    real_in, real_out = clip.key_frames(f"file:{corpus[name]}", start, end)
    assert real_in <= start and real_out >= end
    if name == "mov_prores":  # every frame a key frame: exact
        assert (real_in, real_out) == (start, end)
    else:
        assert start - real_in < 2.1 and real_out - end < 2.1  # within a GOP


def test_the_cache_keeps_the_newest_clips_under_its_cap(tmp_path: Path) -> None:
    cache = ExportCache(tmp_path / "exports", cap_bytes=2500)
    keys = [clip_key("f", 10, 1.0, s, s + 1, False, "copy") for s in range(3)]
    assert len(set(keys)) == 3 and all(len(k) == 24 for k in keys)
    for n, key in enumerate(keys):
        partial = cache.partial(key, "mov")
        partial.write_bytes(bytes(1000))
        os.utime(partial, (time.time() - 100 + n, time.time() - 100 + n))
        cache.finish(partial)
    assert cache.find(keys[0]) is None  # the oldest went
    assert cache.find(keys[1]) is not None and cache.find(keys[2]) is not None
    assert cache.total_bytes() == 2000
    assert clip_key("f", 10, 2.0, 0, 1, False, "copy") != keys[0]  # a changed file: a new key
