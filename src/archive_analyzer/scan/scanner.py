"""The full scan: walk the whole tree once, write the catalog in batches, resume exactly.

The source lists in traversal order (``paths.sort_key``), so the checkpoint's ``last_path`` says
exactly which entries are already in the catalog: each batch of rows and its checkpoint update
are one transaction, and a resumed scan skips every entry up to ``last_path``. Writes are
idempotent by (source, path) as well, so even a source that broke the order could not produce a
file twice. Files the walk did not see are marked missing at the end, with the same offline
safety as the watcher (``scan.diff``).
"""

from __future__ import annotations

import logging
import sqlite3
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from archive_analyzer import paths
from archive_analyzer.catalog import db
from archive_analyzer.catalog import files as repo
from archive_analyzer.catalog.files import PRESENT, FileRow, is_temporary
from archive_analyzer.errors import FileVanished, SourceError
from archive_analyzer.scan.diff import DiffRules, same_file, vanish_suspect
from archive_analyzer.scan.progress import NullProgress, Progress
from archive_analyzer.scan.watcher import RefreshHook
from archive_analyzer.sources.base import FileInfo, Source

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Where a full scan of one source got to."""

    scan_id: int
    source: str
    last_path: str | None
    processed_files: int
    processed_bytes: int
    status: str  # in_progress | completed
    updated_at: str


@dataclass(frozen=True, slots=True)
class ScanResult:
    """A scan run's outcome (counts cover the whole scan, across resumes)."""

    scan_id: int
    kind: str
    status: str  # completed | suspect
    files_seen: int
    bytes_seen: int
    new: int
    changed: int
    moved: int
    restored: int
    missing: int
    deleted: int
    duration_s: float
    resumed: bool
    message: str | None = None


@dataclass
class _Counts:
    files: int = 0
    bytes: int = 0
    new: int = 0
    changed: int = 0
    moved: int = 0
    restored: int = 0
    missing: int = 0
    deleted: int = 0
    duration_s: float = 0.0


class Scanner:
    """Full and incremental scans of one source into the catalog.

    ``refresh`` is called inside each batch transaction with the ids of rows that appeared,
    moved or changed (the catalog model's ``contents.refresh``).
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        source: Source,
        *,
        batch_size: int = 500,
        rules: DiffRules | None = None,
        clock: db.Clock = db.utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        progress: Progress | None = None,
        refresh: RefreshHook | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._conn = conn
        self._source = source
        self._batch_size = batch_size
        self._rules = rules or DiffRules()
        self._clock = clock
        self._monotonic = monotonic
        self._progress = progress or NullProgress()
        self._refresh = refresh

    @property
    def source_name(self) -> str:
        """The source's display name, as stored in ``files.source``."""
        return self._source.name

    # --- checkpoints -----------------------------------------------------------------------

    def get_checkpoint(self) -> Checkpoint | None:
        """The newest checkpoint of this source, or None before its first scan."""
        record = self._conn.execute(
            "SELECT scan_id, source, last_path, processed_files, processed_bytes, status, "
            "updated_at FROM scan_checkpoints WHERE source = ? ORDER BY scan_id DESC LIMIT 1",
            (self.source_name,),
        ).fetchone()
        return None if record is None else Checkpoint(*record)

    def _last_full_checkpoint(self) -> Checkpoint | None:
        record = self._conn.execute(
            "SELECT c.scan_id, c.source, c.last_path, c.processed_files, c.processed_bytes, "
            "c.status, c.updated_at FROM scan_checkpoints c JOIN scans s ON s.id = c.scan_id "
            "WHERE c.source = ? AND s.kind = 'full' ORDER BY c.scan_id DESC LIMIT 1",
            (self.source_name,),
        ).fetchone()
        return None if record is None else Checkpoint(*record)

    # --- scans -----------------------------------------------------------------------------

    def scan(self, resume: bool = False) -> ScanResult:
        """Walk the whole tree; with ``resume`` continue the interrupted scan after its
        checkpoint (or start a new one when there is none). Files not seen are marked missing,
        unless the walk looks like an outage (then the scan is 'suspect').

        Raises ``SourceError`` (e.g. ``SourceUnavailable``) when the listing fails; the scan row
        is then 'failed' and the checkpoint kept for ``resume``.
        """
        checkpoint = self._last_full_checkpoint()
        resumable = checkpoint is not None and checkpoint.status == "in_progress"
        counts = _Counts()
        after: tuple[str, ...] | None = None
        if resume and resumable:
            assert checkpoint is not None
            scan_id = checkpoint.scan_id
            counts = self._load_counts(scan_id)
            after = paths.sort_key(checkpoint.last_path) if checkpoint.last_path else None
            with db.transaction(self._conn):
                self._conn.execute(
                    "UPDATE scans SET status = 'in_progress', message = NULL WHERE id = ?",
                    (scan_id,),
                )
            log.info(
                "resuming scan %d of %s after %r (%d files done)",
                scan_id,
                self.source_name,
                checkpoint.last_path,
                checkpoint.processed_files,
            )
        else:
            if resume:
                log.info(
                    "no interrupted scan of %s to resume; starting a new one", self.source_name
                )
            scan_id = self._start("full", superseded=checkpoint if resumable else None)
        return self._run(
            scan_id, "full", counts, after=after, since=None, resumed=after is not None
        )

    def incremental_scan(self, since: datetime | float) -> ScanResult:
        """Walk the tree but write only files modified at or after ``since`` (a moment or POSIX
        seconds) and files the catalog does not know. Marks nothing missing."""
        threshold = since.timestamp() if isinstance(since, datetime) else float(since)
        scan_id = self._start("incremental", superseded=None)
        return self._run(scan_id, "incremental", _Counts(), after=None, since=threshold,
                         resumed=False)  # fmt: skip

    # --- internals -------------------------------------------------------------------------

    def _start(self, kind: str, superseded: Checkpoint | None) -> int:
        stamp = db.timestamp(self._clock())
        with db.transaction(self._conn):
            if superseded is not None:
                self._conn.execute(
                    "UPDATE scans SET status = 'failed', message = 'superseded by a new scan' "
                    "WHERE id = ? AND status IN ('in_progress', 'failed')",
                    (superseded.scan_id,),
                )
            cursor = self._conn.execute(
                "INSERT INTO scans (source, kind, status, started_at) "
                "VALUES (?, ?, 'in_progress', ?)",
                (self.source_name, kind, stamp),
            )
            scan_id = int(cursor.lastrowid or 0)
            self._conn.execute(
                "INSERT INTO scan_checkpoints (scan_id, source, last_path, processed_files, "
                "processed_bytes, status, updated_at) VALUES (?, ?, NULL, 0, 0, 'in_progress', ?)",
                (scan_id, self.source_name, stamp),
            )
        return scan_id

    def _load_counts(self, scan_id: int) -> _Counts:
        record = self._conn.execute(
            "SELECT files_seen, bytes_seen, files_new, files_changed, files_moved, "
            "files_restored, coalesce(duration_s, 0) FROM scans WHERE id = ?",
            (scan_id,),
        ).fetchone()
        return _Counts(
            files=record[0],
            bytes=record[1],
            new=record[2],
            changed=record[3],
            moved=record[4],
            restored=record[5],
            duration_s=float(record[6]),
        )

    def _estimate(self) -> int | None:
        record = self._conn.execute(
            "SELECT files_seen FROM scans WHERE source = ? AND kind = 'full' "
            "AND status IN ('completed', 'suspect') ORDER BY id DESC LIMIT 1",
            (self.source_name,),
        ).fetchone()
        return None if record is None else int(record[0])

    def _run(
        self,
        scan_id: int,
        kind: str,
        counts: _Counts,
        *,
        after: tuple[str, ...] | None,
        since: float | None,
        resumed: bool,
    ) -> ScanResult:
        t0 = self._monotonic()
        base_duration = counts.duration_s
        previous = repo.load(self._conn, self.source_name)
        by_id: dict[tuple[str, int], FileRow] = {
            (row.file_id, row.size): row for row in previous.values() if row.file_id is not None
        }
        seen: set[str] = set()
        self._progress.start(self._estimate() if kind == "full" else None)
        if after is not None:
            self._progress.advance(counts.files, counts.bytes)
        batch: list[FileInfo] = []
        last_key: tuple[str, ...] = ()
        warned_order = False
        try:
            for info in self._files():
                if info.path in seen:
                    continue  # NFC and NFD spellings of one name: one catalog path
                seen.add(info.path)
                key = paths.sort_key(info.path)
                if key < last_key and not warned_order:
                    log.warning("source %s lists out of traversal order", self.source_name)
                    warned_order = True
                last_key = key
                if after is not None and key <= after:
                    continue  # written before the interruption
                if since is not None and info.mtime < since and info.path in previous:
                    continue
                batch.append(info)
                if len(batch) >= self._batch_size:
                    self._flush(scan_id, batch, previous, by_id, seen, counts, t0, base_duration)
                    batch = []
            if batch:
                self._flush(scan_id, batch, previous, by_id, seen, counts, t0, base_duration)
        except SourceError as exc:
            message = f"listing failed after {counts.files} files: {exc}"
            with db.transaction(self._conn):
                self._conn.execute(
                    "UPDATE scans SET status = 'failed', errors = errors + 1, message = ?, "
                    "finished_at = ?, duration_s = ? WHERE id = ?",
                    (
                        message,
                        db.timestamp(self._clock()),
                        base_duration + self._monotonic() - t0,
                        scan_id,
                    ),
                )
            self._progress.finish()
            log.error("scan %d of %s failed (resume with --resume): %s", scan_id,
                      self.source_name, exc)  # fmt: skip
            raise
        self._progress.finish()
        return self._finish(scan_id, kind, previous, seen, counts, t0, base_duration, resumed)

    def _files(self) -> Iterator[FileInfo]:
        for info in self._source.list_directory("", recursive=True):
            if info.is_dir:
                continue
            path = info.path
            if "\\" in path or not unicodedata.is_normalized("NFC", path):
                path = paths.normalize(path)
            if path != info.path:
                info = FileInfo(path, info.size, info.mtime, info.file_id, False)
            yield info

    def _gone(self, old: FileRow, new_path: str, seen: set[str]) -> bool:
        """True when ``old``'s path is no longer on the share (so ``new_path`` is a move)."""
        if old.path in seen:
            return False
        if paths.sort_key(old.path) < paths.sort_key(new_path):
            return True  # the walk is past it and did not see it
        try:
            self._source.stat(old.path)
        except FileVanished:
            return True
        except SourceError:
            return False
        return False

    def _flush(
        self,
        scan_id: int,
        batch: Sequence[FileInfo],
        previous: dict[str, FileRow],
        by_id: dict[tuple[str, int], FileRow],
        seen: set[str],
        counts: _Counts,
        t0: float,
        base_duration: float,
    ) -> None:
        new: list[tuple[FileInfo, str]] = []
        changed: list[tuple[FileRow, FileInfo, str]] = []
        moved: list[tuple[FileRow, FileInfo, str]] = []
        restored: list[FileRow] = []
        settled: list[FileRow] = []
        refreshed: list[tuple[FileRow, FileInfo]] = []
        for info in batch:
            status = "incoming" if is_temporary(info.path) else "active"
            row = previous.get(info.path)
            if row is None:
                old = by_id.get((info.file_id, info.size)) if info.file_id is not None else None
                if (
                    old is not None
                    and old.path != info.path
                    and same_file(old, info)
                    and self._gone(old, info.path, seen)
                ):
                    moved.append((old, info, status))
                    if old.mtime != info.mtime:  # touched on the way: re-probe as a change
                        here = replace(old, path=info.path, status="active", missing_since=None)
                        changed.append((here, info, status))
                else:
                    new.append((info, status))
            elif (row.size, row.mtime) != (info.size, info.mtime):
                changed.append((row, info, status))
            elif row.status not in PRESENT:
                restored.append(row)
            elif row.status == "incoming" and status == "active":
                settled.append(row)
            elif info.file_id is not None and info.file_id != row.file_id:
                refreshed.append((row, info))
        stamp = db.timestamp(self._clock())
        with db.transaction(self._conn):
            touched: list[str] = []
            if new:
                touched += repo.add(self._conn, self.source_name, new, stamp)
            if moved:  # before the changes: a moved and touched file is in both lists
                repo.move(self._conn, moved, stamp)
                touched += [row.id for row, _, _ in moved]
            if changed:
                repo.change(self._conn, changed, stamp)
                touched += [row.id for row, _, _ in changed]
            if restored:
                repo.set_status(self._conn, restored, "active", stamp, event="restored")
                touched += [row.id for row in restored]
            if settled:
                repo.set_status(self._conn, settled, "active", stamp, event="stable")
            if refreshed:
                repo.refresh_ids(self._conn, refreshed, stamp)
            if self._refresh is not None and touched:
                self._refresh(self._conn, touched)
            counts.files += len(batch)
            counts.bytes += sum(info.size for info in batch)
            counts.new += len(new)
            counts.changed += len(changed)
            counts.moved += len(moved)
            counts.restored += len(restored)
            self._save(
                scan_id, batch[-1].path, counts, stamp, base_duration + self._monotonic() - t0
            )
        for old, info, _ in moved:
            previous.pop(old.path, None)
            moved_row = repo.get(self._conn, old.id)
            if moved_row is not None:
                previous[info.path] = moved_row
                by_id[(info.file_id or "", info.size)] = moved_row
        self._progress.advance(len(batch), sum(info.size for info in batch))

    def _save(
        self, scan_id: int, last_path: str, counts: _Counts, stamp: str, duration: float
    ) -> None:
        self._conn.execute(
            "UPDATE scan_checkpoints SET last_path = ?, processed_files = ?, processed_bytes = ?, "
            "updated_at = ? WHERE scan_id = ?",
            (last_path, counts.files, counts.bytes, stamp, scan_id),
        )
        self._conn.execute(
            "UPDATE scans SET files_seen = ?, bytes_seen = ?, files_new = ?, files_changed = ?, "
            "files_moved = ?, files_restored = ?, duration_s = ? WHERE id = ?",
            (
                counts.files,
                counts.bytes,
                counts.new,
                counts.changed,
                counts.moved,
                counts.restored,
                duration,
                scan_id,
            ),
        )

    def _finish(
        self,
        scan_id: int,
        kind: str,
        previous: dict[str, FileRow],
        seen: set[str],
        counts: _Counts,
        t0: float,
        base_duration: float,
        resumed: bool,
    ) -> ScanResult:
        now = self._clock()
        stamp = db.timestamp(now)
        message: str | None = None
        missing: list[FileRow] = []
        deleted: list[FileRow] = []
        if kind == "full":
            present = [row for row in previous.values() if row.status in PRESENT]
            vanished = [row for row in present if row.path not in seen]
            message = vanish_suspect(len(vanished), len(present), len(seen), self._rules)
            if message is None:
                missing = vanished
                grace = self._rules.missing_grace_s
                deleted = [
                    row
                    for row in previous.values()
                    if row.status == "missing"
                    and row.path not in seen
                    and row.missing_since is not None
                    and (now - db.parse_timestamp(row.missing_since)).total_seconds() >= grace
                ]
            else:
                log.warning("scan of %s is suspect, nothing marked missing: %s",
                            self.source_name, message)  # fmt: skip
        status = "completed" if message is None else "suspect"
        counts.missing = len(missing)
        counts.deleted = len(deleted)
        duration = base_duration + self._monotonic() - t0
        with db.transaction(self._conn):
            if missing:
                repo.set_status(self._conn, missing, "missing", stamp)
            if deleted:
                repo.set_status(self._conn, deleted, "deleted", stamp)
            if self._refresh is not None and (missing or deleted):
                self._refresh(self._conn, [row.id for row in (*missing, *deleted)])
            self._conn.execute(
                "UPDATE scans SET status = ?, finished_at = ?, files_seen = ?, bytes_seen = ?, "
                "files_missing = ?, files_deleted = ?, duration_s = ?, message = ? WHERE id = ?",
                (
                    status,
                    stamp,
                    counts.files,
                    counts.bytes,
                    counts.missing,
                    counts.deleted,
                    duration,
                    message,
                    scan_id,
                ),
            )
            self._conn.execute(
                "UPDATE scan_checkpoints SET status = 'completed', updated_at = ? "
                "WHERE scan_id = ?",
                (stamp, scan_id),
            )
        rate = counts.files / duration if duration > 0 else 0.0
        log.info(
            "%s scan %d of %s %s: %d files, %d new, %d changed, %d moved, %d missing "
            "in %.1fs (%.0f files/s)",
            kind,
            scan_id,
            self.source_name,
            status,
            counts.files,
            counts.new,
            counts.changed,
            counts.moved,
            counts.missing,
            duration,
            rate,
        )
        return ScanResult(
            scan_id=scan_id,
            kind=kind,
            status=status,
            files_seen=counts.files,
            bytes_seen=counts.bytes,
            new=counts.new,
            changed=counts.changed,
            moved=counts.moved,
            restored=counts.restored,
            missing=counts.missing,
            deleted=counts.deleted,
            duration_s=duration,
            resumed=resumed,
            message=message,
        )
