"""The previews sweep on a scanned folder (``pipeline.make_previews`` -> ``previews.make``):
sprites, the WebVTT track and the poster from one strip, one row per file version, a changed
file made again (old folder gone), newest content first, and the size cap."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from archive_analyzer import pipeline
from archive_analyzer.catalog import db
from archive_analyzer.config import Settings
from archive_analyzer.errors import ConfigError
from archive_analyzer.previews import store


def _video(path: Path, seconds: int, tone: int = 440) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            *("ffmpeg", "-nostdin", "-v", "error", "-y"),
            *("-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=25:duration={seconds}"),
            *("-f", "lavfi", "-i", f"sine=frequency={tone}:duration={seconds}"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-pix_fmt", "yuv420p"),
            *("-c:a", "aac", str(path)),
        ],
        check=True,
    )


@pytest.fixture
def archive(tmp_path: Path) -> Settings:
    root = tmp_path / "share"
    _video(root / "HCL/2025/Episode 1.mp4", 35)
    _video(root / "PAD/PAD S12/PAD S12 EP05.mp4", 12, tone=880)
    settings = Settings(
        db=tmp_path / "archive.db", data_dir=tmp_path / "data", source=str(root), thumb_width=160
    )
    pipeline.scan(settings)
    return settings


def _rows(settings: Settings) -> dict[str, store.PreviewRecord]:
    conn = db.connect(settings.db, migrate=False)
    try:
        paths = dict(conn.execute("SELECT id, path FROM files").fetchall())
        found = (store.load(conn, file_id) for file_id in paths)
        return {paths[r.file]: r for r in found if r is not None}
    finally:
        conn.close()


def test_a_sweep_makes_sprites_track_and_poster(archive: Settings) -> None:
    made: list[str] = []
    result = pipeline.make_previews(archive, on_item=lambda item, _r: made.append(item.path))
    assert (result.made, result.failed, result.left) == (2, 0, 0)
    assert sorted(made) == ["HCL/2025/Episode 1.mp4", "PAD/PAD S12/PAD S12 EP05.mp4"]
    rows = _rows(archive)
    episode = rows["HCL/2025/Episode 1.mp4"]
    assert episode.status == "done" and episode.frames == 4  # 0, 10, 20, 30 s
    assert (episode.tile_width, episode.tile_height) == (160, 90)
    assert (
        0
        < episode.bytes_read
        < 0.5 * (Path(archive.source or "") / "HCL/2025/Episode 1.mp4").stat().st_size
    )
    options = pipeline.preview_options(archive)
    folder = store.folder(options.root, episode.file, episode.size, episode.mtime)
    track = (folder / store.TRACK).read_text(encoding="utf-8")
    assert track.startswith("WEBVTT")
    assert "sprite-0.jpg#xywh=160,0,160,90" in track  # the second point, second tile
    assert (folder / "sprite-0.jpg").read_bytes()[:2] == b"\xff\xd8"
    poster = store.poster_path(options.thumbs_root, episode.file, episode.size, episode.mtime)
    assert poster.read_bytes()[:2] == b"\xff\xd8"
    # nothing is left to do: a second sweep reads nothing
    assert pipeline.make_previews(archive).made == 0


def test_a_changed_file_gets_new_previews_and_loses_the_old(archive: Settings) -> None:
    pipeline.make_previews(archive)
    before = _rows(archive)["PAD/PAD S12/PAD S12 EP05.mp4"]
    options = pipeline.preview_options(archive)
    old = store.folder(options.root, before.file, before.size, before.mtime)
    assert old.is_dir()
    path = Path(archive.source or "") / "PAD/PAD S12/PAD S12 EP05.mp4"
    _video(path, 21, tone=660)  # re-exported: another size and time
    os.utime(path, (before.mtime + 100, before.mtime + 100))
    pipeline.scan(archive)
    result = pipeline.make_previews(archive)
    assert result.made == 1
    after = _rows(archive)["PAD/PAD S12/PAD S12 EP05.mp4"]
    assert (after.size, after.frames) != (before.size, before.frames)
    assert store.folder(options.root, after.file, after.size, after.mtime).is_dir()
    assert not old.exists()


def test_the_size_cap_evicts_the_least_recently_viewed(archive: Settings) -> None:
    small = archive.model_copy(update={"previews_cache_bytes": 1})
    pipeline.make_previews(small, limit=1)  # the newest content first
    first = next(iter(_rows(small)))
    pipeline.make_previews(small)
    rows = _rows(small)
    assert rows[first].status == "evicted"  # the cap keeps only the one just made
    assert [p for p, r in rows.items() if r.status == "done"] != [first]
    options = pipeline.preview_options(small)
    gone = rows[first]
    assert not store.folder(options.root, gone.file, gone.size, gone.mtime).exists()


def test_no_source_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        pipeline.make_previews(Settings(db=tmp_path / "a.db", data_dir=tmp_path, source=None))
