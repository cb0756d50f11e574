"""Making the previews of one file, and the sweep the job and the CLI run.

``make(source, pending, options)`` reads one key frame every ``interval_s`` (``frames.py``),
scales each to ``width``, tiles them into sprites, writes the WebVTT track and the poster
(the strip frame nearest 10 % of the duration), then ``sweep`` records the row and keeps the
folder under its cap. Nothing here reads settings: ``PreviewOptions`` is built at the entrance.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive_analyzer.catalog import db
from archive_analyzer.errors import ArchiveError
from archive_analyzer.previews import frames, sprites, store
from archive_analyzer.sources.base import FileInfo, Source

log = logging.getLogger(__name__)

POSTER_POSITION = 0.10


@dataclass(frozen=True, slots=True)
class PreviewOptions:
    """What a sweep makes and where (built from the settings by the caller)."""

    root: Path  # data_dir / "previews"
    thumbs_root: Path  # data_dir / "thumbs" (posters)
    interval_s: float = 10.0
    width: int = 320
    cap_bytes: int = 20 * 1024**3
    max_frames: int = 5000  # a 14-hour file at 10 s; longer files get a wider interval


def _cpu() -> float:
    # the calling thread's CPU time (decoding runs in this thread, GIL released)
    return time.thread_time()


def make(source: Source, item: store.Pending, options: PreviewOptions) -> store.PreviewRecord:
    """Make the strip, track and poster of one file version; returns the row to store (status
    ``failed`` with the reason when no frame could be read)."""
    started, cpu0 = time.monotonic(), _cpu()
    interval = max(options.interval_s, item.duration_s / options.max_frames)
    count = max(1, int(item.duration_s // interval) + (1 if item.duration_s % interval else 0))
    target = store.folder(options.root, item.file_id, item.size, item.mtime)
    base = store.PreviewRecord(item.file_id, item.size, item.mtime, "failed", interval)
    tiles: list[Any] = []
    times: list[float] = []
    bytes_read = 0
    try:
        expect = FileInfo(item.path, item.size, item.mtime, None, False)
        with frames.open_frames(source, item.path, expect=expect) as reader:
            sar = reader.sample_aspect_ratio
            last: Any = None
            missing = 0
            for i in range(count):
                found = reader.frame_at(i * interval)
                if found is not None:
                    last = frames.scaled(found.frame, options.width, sar)
                    while missing:  # points before the first frame take it too
                        tiles.append(last)
                        times.append(found.time_s)
                        missing -= 1
                elif last is None:
                    missing += 1
                    continue
                tiles.append(last)
                times.append(found.time_s if found is not None else times[-1])
            bytes_read = reader.bytes_read
    except (ArchiveError, OSError) as exc:
        return _failed(base, str(exc), started, cpu0, bytes_read)
    if not tiles:
        return _failed(base, "no key frame could be read", started, cpu0, bytes_read)
    width, height = tiles[0].width, tiles[0].height
    partial = target.with_name(f".partial-{target.name}-{os.getpid()}-{threading.get_ident()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        made = sprites.tile(tiles)
        for n, sprite in enumerate(made):
            (partial / f"sprite-{n}.jpg").write_bytes(sprites.jpeg(sprite))
        track = sprites.vtt(len(tiles), interval, item.duration_s, width, height)
        (partial / store.TRACK).write_text(track, encoding="utf-8")
        stored = sum(p.stat().st_size for p in partial.iterdir())
        shutil.rmtree(target, ignore_errors=True)
        partial.replace(target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    store.remove_old_versions(options.root, item.file_id, target.name)
    poster_index = min(len(tiles) - 1, round(item.duration_s * POSTER_POSITION / interval))
    poster = store.poster_path(options.thumbs_root, item.file_id, item.size, item.mtime)
    poster.parent.mkdir(parents=True, exist_ok=True)
    temp = poster.with_name(f".partial-{poster.name}")
    temp.write_bytes(sprites.jpeg(tiles[poster_index]))
    temp.replace(poster)
    return store.PreviewRecord(
        item.file_id,
        item.size,
        item.mtime,
        "done",
        interval,
        frames=len(tiles),
        tile_width=width,
        tile_height=height,
        columns=sprites.COLUMNS,
        sprites=len(made),
        poster_s=times[poster_index],
        bytes_read=bytes_read,
        cpu_s=round(_cpu() - cpu0, 3),
        ms=round((time.monotonic() - started) * 1000, 1),
        stored_bytes=stored,
    )


def _failed(
    base: store.PreviewRecord, error: str, started: float, cpu0: float, bytes_read: int
) -> store.PreviewRecord:
    return store.PreviewRecord(
        base.file,
        base.size,
        base.mtime,
        "failed",
        base.interval_s,
        bytes_read=bytes_read,
        cpu_s=round(_cpu() - cpu0, 3),
        ms=round((time.monotonic() - started) * 1000, 1),
        error=error[:500],
    )


@dataclass(frozen=True, slots=True)
class SweepResult:
    made: int = 0
    failed: int = 0
    left: int = 0  # still pending after this sweep (limit reached or stopped)


def sweep(
    conn: sqlite3.Connection,
    source: Source,
    options: PreviewOptions,
    *,
    now: db.Clock = db.utc_now,
    limit: int | None = None,
    on_item: Callable[[store.Pending, store.PreviewRecord], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> SweepResult:
    """Make previews for the source's pending files, newest content first, up to ``limit``
    files (None: all). Each file's row is stored as soon as it is made."""
    made = failed = 0
    while limit is None or made + failed < limit:
        if should_stop():
            break
        batch = store.pending(conn, source.name, 1)
        if not batch:
            break
        item = batch[0]
        record = make(source, item, options)
        with db.transaction(conn):
            store.save(conn, record, now)
        if record.status == "done":
            made += 1
            store.enforce_cap(conn, options.root, options.cap_bytes, now, keep=item.file_id)
            log.info(
                "previews of %s: %d frames, read %d bytes in %.0f ms",
                item.path,
                record.frames,
                record.bytes_read,
                record.ms,
            )
        else:
            failed += 1
            log.warning("previews of %s failed: %s", item.path, record.error)
        if on_item is not None:
            on_item(item, record)
    left = store.count_pending(conn, source.name) if limit is not None else 0
    return SweepResult(made, failed, left)
