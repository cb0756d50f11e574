"""Fixity composed: hash and verify catalogued files through a source and store the verdicts.

Used in-process by ``archive-analyzer verify`` and, one file at a time, by the jobs layer's
hash task (``hash_one`` on any worker host, ``record`` on the writer). The options come from
the settings at the entrance (``FixityOptions.from_settings``); the clock, the source and the
pacing are injected.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from archive_analyzer import paths
from archive_analyzer.catalog import db, duplicates, versions
from archive_analyzer.catalog import fixity as store
from archive_analyzer.config import Settings
from archive_analyzer.errors import ArchiveError, FileVanished, FixityError, SourceError
from archive_analyzer.fixity import frames as framing
from archive_analyzer.fixity.hasher import (
    Checkpoint,
    HashControl,
    HashRequest,
    HashResult,
    HashStatus,
    hash_file,
    sample_hash,
)
from archive_analyzer.fixity.locate import time_range
from archive_analyzer.fixity.mhl import Manifest, ManifestEntry, write_manifest
from archive_analyzer.fixity.throttle import MIB, QuietHours, Throttle, parse_quiet_hours
from archive_analyzer.scan.progress import NullProgress, Progress
from archive_analyzer.sources.base import Source

log = logging.getLogger(__name__)

# MHL modification dates have whole seconds.
MANIFEST_MTIME_SLACK_S = 1.0


@dataclass(frozen=True, slots=True)
class FixityOptions:
    """How files are hashed (built once from the settings at the entrance)."""

    chunk_bytes: int = 256 * MIB
    max_bps: float = 200.0 * MIB
    busy_bps: float = 20.0 * MIB
    quiet_hours: QuietHours | None = None
    interval_days: float = 90.0
    frames: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> FixityOptions:
        """``ConfigError`` for bad quiet hours or time zone."""
        return cls(
            chunk_bytes=settings.hash_chunk_mib * MIB,
            max_bps=settings.hash_max_mib_s * MIB,
            busy_bps=settings.hash_busy_mib_s * MIB,
            quiet_hours=parse_quiet_hours(settings.hash_quiet_hours, settings.hash_timezone),
            interval_days=settings.fixity_interval_days,
            frames=settings.hash_frames,
        )


@dataclass(frozen=True, slots=True)
class Line:
    """One file checked: a line of ``verify --json``."""

    path: str
    status: str
    xxh128: str | None
    chunk: int | None = None
    seconds: float | None = None
    nbytes: int = 0
    detail: str | None = None

    def as_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {"path": self.path, "status": self.status, "xxh128": self.xxh128}
        if self.chunk is not None:
            record["chunk"] = self.chunk
        if self.seconds is not None:
            record["seconds"] = round(self.seconds, 3)
        if self.detail:
            record["error" if self.status == store.ERROR else "detail"] = self.detail
        return record


@dataclass(frozen=True, slots=True)
class VerifySummary:
    lines: tuple[Line, ...]
    sampled: int = 0

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line.status == status)

    @property
    def failed(self) -> bool:
        return self.count(store.MISMATCH) > 0


Viewers = Callable[[], bool]


def throttle_for(
    options: FixityOptions, *, viewers: Viewers | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Throttle:  # fmt: skip
    return Throttle(
        max_bps=options.max_bps,
        busy_bps=options.busy_bps,
        viewers=viewers or (lambda: False),
        should_stop=should_stop,
    )


# --- sampled hashes (duplicate candidates) ---------------------------------------------------


def sample_candidates(conn: sqlite3.Connection, source: str) -> list[tuple[str, str, int, float]]:
    """(file, path, size, mtime) of active files that share their size with another active
    file and have neither a sample nor a full hash of their current version."""
    rows = conn.execute(
        "SELECT f.id, f.path, f.size, f.mtime FROM files f "
        "LEFT JOIN file_hashes h ON h.file = f.id "
        "WHERE f.source = ? AND f.status = 'active' AND f.size > 0 AND f.size IN "
        "(SELECT size FROM files WHERE source = ? AND status = 'active' GROUP BY size "
        " HAVING count(*) > 1) "
        "AND (h.file IS NULL OR h.sample IS NULL OR h.size != f.size "
        " OR abs(h.mtime - f.mtime) > 1e-6) ORDER BY f.size DESC, f.path",
        (source, source),
    )
    return [(r[0], r[1], int(r[2]), float(r[3])) for r in rows]


def sample_all(
    conn: sqlite3.Connection, source: Source, *, clock: db.Clock,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:  # fmt: skip
    """Take the sampled hash of every duplicate candidate (3 MiB read each); returns how many
    were stored. Unreadable files are skipped (the full pass reports them)."""
    done = 0
    for file, path, size, mtime in sample_candidates(conn, source.name):
        if should_stop():
            break
        try:
            value = sample_hash(source, path, size)
        except SourceError as exc:
            log.info("no sample hash for %s: %s", path, exc)
            continue
        with db.transaction(conn):
            store.store_sample(conn, file, size, mtime, value, clock())
        done += 1
    return done


# --- one file --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Plan:
    """What to ask the hasher for one target: the request and the baseline it is checked
    against (None for a first hash of this version)."""

    request: HashRequest
    baseline: store.Baseline | None


def plan(conn: sqlite3.Connection, target: store.Target, options: FixityOptions) -> Plan:
    base = store.baseline(conn, target.file)
    checking = (
        base is not None
        and base.xxh128 is not None
        and base.describes(target.size, target.mtime)
        and bool(base.chunk_size)
    )
    chunk_bytes = options.chunk_bytes
    if checking and base is not None and base.chunk_size:
        chunk_bytes = int(base.chunk_size)
    resume = store.load_progress(conn, target.file, target.size, target.mtime)
    request = HashRequest(
        target.path,
        target.size,
        target.mtime,
        chunk_bytes,
        expected=base.chunks if checking and base is not None else None,
        resume=resume,
    )
    return Plan(request, base if checking else None)


def locate(
    source: Source, target: store.Target, plan_: Plan, result: HashResult
) -> store.Location | None:
    """The media time of the first differing chunk of a mismatch (None otherwise)."""
    base = plan_.baseline
    if base is None or result.status is not HashStatus.DONE or result.xxh128 == base.xxh128:
        return None
    if not result.differing:
        return None
    chunk = plan_.request.chunk_bytes
    start = result.differing[0] * chunk
    end = min(target.size, start + chunk)
    found = time_range(source, target.path, start, end, size=target.size,
                       duration_s=target.duration_s)  # fmt: skip
    if found is None:
        return None
    return store.Location(found.start_s, found.end_s, found.method)


def frame_hashes(
    source: Source, path: str, duration_s: float | None,
    grab: framing.FrameSource = framing.grab_frames,
) -> tuple[dict[float, str], str | None]:  # fmt: skip
    """Perceptual hashes of the file's frames, or ({}, why not)."""
    try:
        return framing.hashes(source, path, duration_s, grab=grab), None
    except ArchiveError as exc:
        return {}, str(exc)
    except Exception as exc:  # PyAV / Pillow errors: recorded, not fatal
        return {}, f"{type(exc).__name__}: {exc}"


def check_one(
    conn: sqlite3.Connection,
    source: Source,
    target: store.Target,
    options: FixityOptions,
    *,
    clock: db.Clock,
    throttle: Throttle,
    control: HashControl | None = None,
) -> Line:
    """Hash ``target``, store the verdict (checkpoints after every chunk) and return its line.

    When the file on the share turns out to be a newer version than the catalog knows (its
    size or mtime changed), that version is hashed and stored as the new baseline: status
    ``changed``.
    """
    t0 = time.monotonic()
    the_plan = plan(conn, target, options)

    def save(point: Checkpoint) -> None:
        with db.transaction(conn):
            store.save_progress(conn, target.file, target.size, target.mtime, point, clock())

    result = hash_file(source, the_plan.request, throttle=throttle, control=control,
                       on_checkpoint=save)  # fmt: skip
    size, mtime = target.size, target.mtime
    if result.status is HashStatus.CHANGED and result.observed is not None:
        size, mtime = result.observed
        log.info("%s changed on the share since it was catalogued; hashing the new version",
                 target.path)  # fmt: skip
        request = HashRequest(target.path, size, mtime, options.chunk_bytes)
        result = hash_file(source, request, throttle=throttle, control=control)
    where = locate(source, target, the_plan, result)
    with db.transaction(conn):
        verdict = store.record(
            conn, target.file, target.path, size, mtime, result, now=clock(), location=where
        )
    if result.status is HashStatus.DONE and verdict.status in (store.NEW, store.CHANGED):
        store_frames(conn, source, target.file, target.path, size, mtime, target.duration_s,
                     options, clock=clock)  # fmt: skip
    status = verdict.status
    if (
        result.status is HashStatus.DONE
        and status == store.NEW
        and (size, mtime)
        != (
            target.size,
            target.mtime,
        )
    ):
        status = store.CHANGED
    return Line(
        target.path,
        status,
        verdict.xxh128,
        chunk=verdict.chunk,
        seconds=time.monotonic() - t0,
        nbytes=result.bytes_read,
        detail=result.error,
    )


def store_frames(
    conn: sqlite3.Connection,
    source: Source,
    file: str,
    path: str,
    size: int,
    mtime: float,
    duration_s: float | None,
    options: FixityOptions,
    *,
    clock: db.Clock,
) -> None:
    """Take and store the perceptual frame hashes of a media file version (when enabled and
    the duration is known)."""
    if not options.frames or not duration_s:
        return
    found, error = frame_hashes(source, path, duration_s)
    with db.transaction(conn):
        store.store_frames(conn, file, size, mtime, duration_s, found, error, clock())


# --- the whole pass --------------------------------------------------------------------------


def verify(
    conn: sqlite3.Connection,
    source: Source,
    options: FixityOptions,
    *,
    everything: bool = False,
    clock: db.Clock = db.utc_now,
    progress: Progress | None = None,
    on_line: Callable[[Line], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    throttle: Throttle | None = None,
) -> VerifySummary:
    """Sample duplicate candidates, then hash files without a hash and verify those due
    (``everything``: every file), newest unhashed first, then oldest verification first.
    Quiet hours do not apply (a person asked for it now); the rate cap does."""
    sampled = sample_all(conn, source, clock=clock, should_stop=should_stop)
    targets = store.targets(
        conn, source.name, now=clock(), interval_days=options.interval_days,
        everything=everything,
    )  # fmt: skip
    pace = throttle or throttle_for(options, should_stop=should_stop)
    control = HashControl(should_stop=should_stop)
    bar = progress or NullProgress()
    bar.start(len(targets))
    lines: list[Line] = []
    try:
        for target in targets:
            if should_stop():
                break
            line = check_one(conn, source, target, options, clock=clock, throttle=pace,
                             control=control)  # fmt: skip
            lines.append(line)
            if on_line is not None:
                on_line(line)
            bar.advance(1, line.nbytes)
        frames_missing(conn, source, options, clock=clock, should_stop=should_stop)
        with db.transaction(conn):
            versions.reconcile(conn, duplicates.report(conn, source.name), clock())
    finally:
        bar.finish()
    return VerifySummary(tuple(lines), sampled)


def frames_missing(
    conn: sqlite3.Connection, source: Source, options: FixityOptions, *, clock: db.Clock,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:  # fmt: skip
    """Take frame hashes for hashed media files that have none for their version (the probe
    came after the hash, or frames were switched on later)."""
    if not options.frames:
        return 0
    done = 0
    for file, path, size, mtime, duration in store.frames_due(conn, source.name):
        if should_stop():
            break
        store_frames(conn, source, file, path, size, mtime, duration, options, clock=clock)
        done += 1
    return done


def lines_failed(lines: Iterable[Line]) -> bool:
    return any(line.status == store.MISMATCH for line in lines)


# --- manifests (ASC MHL) ---------------------------------------------------------------------


def export_manifest(
    conn: sqlite3.Connection,
    source_name: str,
    folder: str,
    out_dir: Path,
    *,
    now: datetime,
    host: str,
) -> tuple[Path, int]:
    """Write an ASC MHL of ``folder`` from the stored hashes; returns (file, entries).

    ``FixityError`` when the folder holds no catalogued file, or files without a hash of
    their current version (a partial manifest would pass for a complete one).
    """
    from archive_analyzer import __version__

    stored = store.hashes_under(conn, source_name, folder)
    if not stored:
        raise FixityError(f"no catalogued files under {folder or 'the source root'}")
    missing = [item.path for item in stored if item.xxh128 is None]
    if missing:
        raise FixityError(
            f"{len(missing)} of {len(stored)} files under {folder or 'the root'} have no hash "
            f"of their current version yet (first: {missing[0]}); run archive-analyzer verify"
        )
    cut = len(folder) + 1 if folder else 0
    entries = [
        ManifestEntry(
            item.path[cut:],
            item.size,
            item.mtime,
            str(item.xxh128),
            db.parse_timestamp(item.hashed_at) if item.hashed_at else None,
        )
        for item in stored
    ]
    path = write_manifest(folder, entries, out_dir, now=now, host=host,
                          tool_version=__version__)  # fmt: skip
    return path, len(entries)


def verify_manifest(
    source: Source,
    manifest: Manifest,
    options: FixityOptions,
    *,
    folder: str | None = None,
    conn: sqlite3.Connection | None = None,
    on_line: Callable[[Line], None] | None = None,
    progress: Progress | None = None,
    throttle: Throttle | None = None,
) -> VerifySummary:
    """Read every file of the manifest's folder (or ``folder``) and compare with it.

    ``ok``/``mismatch`` by xxh128; ``changed`` when size or modification time differ from the
    manifest's (a new version, not a failure); ``vanished`` when gone; ``new`` for files in the
    folder the manifest does not list. With a catalog whose baseline of the same version has
    chunk hashes, a mismatch names its chunk. Stores nothing.
    """
    root = paths.normalize(folder if folder is not None else manifest.folder)
    pace = throttle or throttle_for(options)
    bar = progress or NullProgress()
    listed = {e.path: e for e in manifest.entries}
    bar.start(len(listed))
    lines: list[Line] = []

    def emit(line: Line) -> None:
        lines.append(line)
        if on_line is not None:
            on_line(line)

    try:
        for rel, entry in sorted(listed.items()):
            full = paths.join(root, paths.normalize(rel))
            line = _check_entry(source, full, entry, options, pace, conn)
            emit(line)
            bar.advance(1, line.nbytes)
        try:
            present = [i for i in source.list_directory(root, recursive=True) if not i.is_dir]
        except SourceError as exc:
            raise FixityError(f"cannot list {root or 'the source root'}: {exc}") from exc
        cut = len(root) + 1 if root else 0
        for info in present:
            if info.path[cut:] not in listed:
                emit(Line(info.path, store.NEW, None, detail="not in the manifest"))
    finally:
        bar.finish()
    return VerifySummary(tuple(lines))


def _check_entry(
    source: Source,
    path: str,
    entry: ManifestEntry,
    options: FixityOptions,
    pace: Throttle,
    conn: sqlite3.Connection | None,
) -> Line:
    t0 = time.monotonic()
    try:
        info = source.stat(path)
    except FileVanished:
        return Line(path, store.VANISHED, None)
    except SourceError as exc:
        return Line(path, store.ERROR, None, detail=str(exc))
    if info.size != entry.size or abs(info.mtime - entry.mtime) >= MANIFEST_MTIME_SLACK_S:
        return Line(path, store.CHANGED, None, detail="size or modification time differ")
    base = store.baseline_by_path(conn, source.name, path) if conn is not None else None
    expected = None
    chunk_bytes = options.chunk_bytes
    if base is not None and base.describes(info.size, info.mtime) and base.chunk_size:
        expected, chunk_bytes = base.chunks, int(base.chunk_size)
    request = HashRequest(path, info.size, info.mtime, chunk_bytes, expected=expected)
    result = hash_file(source, request, throttle=pace)
    seconds = time.monotonic() - t0
    if result.status is not HashStatus.DONE:
        status = {HashStatus.VANISHED: store.VANISHED, HashStatus.CHANGED: store.CHANGED}.get(
            result.status, store.ERROR
        )
        return Line(path, status, None, seconds=seconds, detail=result.error)
    if result.xxh128 == entry.xxh128:
        return Line(path, store.OK, result.xxh128, seconds=seconds, nbytes=result.bytes_read)
    chunk = result.differing[0] if result.differing else None
    log.error("MANIFEST MISMATCH %s: expected xxh128 %s, got %s", path, entry.xxh128,
              result.xxh128)  # fmt: skip
    return Line(
        path, store.MISMATCH, result.xxh128, chunk=chunk, seconds=seconds, nbytes=result.bytes_read
    )
