"""The fixity tables: baselines (``file_hashes``, ``hash_chunks``), progress, failures.

What is due (``targets``), what a finished hash means (``record``: new, ok, mismatch,
changed) and the reports read from them. Writers (the jobs writer, ``archive-analyzer
verify``) call the write functions inside their own ``db.transaction``; nothing here commits.

Rules (docs/fixity.md): a baseline describes one file version (size, mtime). Reading the same
version again and getting other bytes is a fixity failure: a ``fixity_failures`` row is added,
the baseline stays as it was, and the file's hash status becomes ``mismatch``. A file whose
size or mtime changed is a new version: its new hash replaces the baseline and the old one is
kept in the ``hashed`` event of ``file_events``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from archive_analyzer.catalog import db
from archive_analyzer.catalog import files as repo
from archive_analyzer.fixity.hasher import Checkpoint, HashResult, HashStatus, same_version

log = logging.getLogger(__name__)

# Statuses of ``archive-analyzer verify --json`` (the contract).
NEW, OK, MISMATCH = "new", "ok", "mismatch"
CHANGED, VANISHED, ERROR = "changed", "vanished", "error"


@dataclass(frozen=True, slots=True)
class Baseline:
    """The stored hashes of one file version."""

    file: str
    size: int
    mtime: float
    xxh128: str | None
    chunk_size: int | None
    chunks: tuple[str, ...]
    sample: str | None
    hashed_at: str | None
    verified_at: str | None
    status: str

    def describes(self, size: int, mtime: float) -> bool:
        return same_version(self.size, self.mtime, size, mtime)


@dataclass(frozen=True, slots=True)
class Target:
    """A file to hash or verify. ``reason``: 'new' (never fully hashed), 'changed' (hashed as
    another version), 'due' (verification due) or 'all' (``--all``)."""

    file: str
    source: str
    path: str
    size: int
    mtime: float
    reason: str
    first_seen: str
    duration_s: float | None = None


@dataclass(frozen=True, slots=True)
class Location:
    """Where a mismatch lies in media time (None when it cannot be said)."""

    time_from: float | None = None
    time_to: float | None = None
    method: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a hash means for the catalog (one line of ``verify --json``)."""

    status: str
    xxh128: str | None = None
    chunk: int | None = None  # the first differing chunk of a mismatch
    previous: str | None = None  # the baseline's hash, for mismatch and changed


# --- reads -----------------------------------------------------------------------------------


def baseline(conn: sqlite3.Connection, file: str) -> Baseline | None:
    """The stored hashes of ``file`` (any version), with its chunk hashes, or None."""
    row = conn.execute(
        "SELECT file, size, mtime, xxh128, chunk_size, sample, hashed_at, verified_at, status "
        "FROM file_hashes WHERE file = ?",
        (file,),
    ).fetchone()
    if row is None:
        return None
    chunks = tuple(
        r[0] for r in conn.execute("SELECT xxh128 FROM hash_chunks WHERE file = ? ORDER BY idx",
                                   (file,))
    )  # fmt: skip
    return Baseline(
        row["file"], int(row["size"]), float(row["mtime"]), row["xxh128"], row["chunk_size"],
        chunks, row["sample"], row["hashed_at"], row["verified_at"], row["status"],
    )  # fmt: skip


# Media is hashed after its probe (its facts first: docs/fixity.md); other files at once.
_ELIGIBLE = "f.status = 'active' AND (f.is_media = 0 OR f.probe_state != 'pending')"


def targets(
    conn: sqlite3.Connection,
    source: str,
    *,
    now: datetime,
    interval_days: float,
    everything: bool = False,
    limit: int | None = None,
    exclude: Sequence[str] = (),
) -> list[Target]:
    """What to hash next, in order: files without a full hash of their current version
    (newest first), then files whose last verification is older than ``interval_days``
    (oldest first; ``interval_days`` 0 means never due). ``everything``: every eligible file,
    the unhashed first. Active files only; media once probed."""
    skip = set(exclude)
    found: list[Target] = []
    unhashed = conn.execute(
        "SELECT f.id, f.source, f.path, f.size, f.mtime, f.first_seen, m.duration_s, "
        "h.xxh128 AS hash "
        "FROM files f LEFT JOIN file_hashes h ON h.file = f.id "
        "LEFT JOIN media_info m ON m.id = f.id "
        f"WHERE f.source = ? AND {_ELIGIBLE} AND (h.file IS NULL OR h.xxh128 IS NULL "
        "OR h.size != f.size OR abs(h.mtime - f.mtime) > 1e-6) "
        "ORDER BY f.first_seen DESC, f.mtime DESC, f.path",
        (source,),
    ).fetchall()
    for row in unhashed:
        if row["id"] in skip:
            continue
        reason = "changed" if row["hash"] else "new"
        found.append(_target(row, reason))
        if limit is not None and len(found) >= limit:
            return found
    if not everything and interval_days <= 0:
        return found
    deadline = db.timestamp(now - timedelta(days=interval_days)) if not everything else None
    due = conn.execute(
        "SELECT f.id, f.source, f.path, f.size, f.mtime, f.first_seen, m.duration_s "
        "FROM files f JOIN file_hashes h ON h.file = f.id LEFT JOIN media_info m ON m.id = f.id "
        f"WHERE f.source = ? AND {_ELIGIBLE} AND h.xxh128 IS NOT NULL AND h.size = f.size "
        "AND abs(h.mtime - f.mtime) <= 1e-6 AND (? IS NULL OR h.verified_at <= ?) "
        "ORDER BY h.verified_at, f.path",
        (source, deadline, deadline),
    )
    for row in due:
        if row["id"] in skip:
            continue
        found.append(_target(row, "all" if everything else "due"))
        if limit is not None and len(found) >= limit:
            break
    return found


def target(conn: sqlite3.Connection, file: str) -> Target | None:
    """The hashing target for one eligible file (reason as ``targets`` would give), or None."""
    row = conn.execute(
        "SELECT f.id, f.source, f.path, f.size, f.mtime, f.first_seen, m.duration_s, "
        "h.xxh128 AS hash, h.size AS hsize, h.mtime AS hmtime FROM files f "
        "LEFT JOIN file_hashes h ON h.file = f.id LEFT JOIN media_info m ON m.id = f.id "
        f"WHERE f.id = ? AND {_ELIGIBLE}",
        (file,),
    ).fetchone()
    if row is None:
        return None
    if row["hash"] is None:
        reason = "new"
    elif not same_version(int(row["hsize"]), float(row["hmtime"]), row["size"], row["mtime"]):
        reason = "changed"
    else:
        reason = "due"
    return _target(row, reason)


def _target(row: sqlite3.Row, reason: str) -> Target:
    return Target(
        row["id"], row["source"], row["path"], int(row["size"]), float(row["mtime"]), reason,
        row["first_seen"], row["duration_s"],
    )  # fmt: skip


def load_progress(
    conn: sqlite3.Connection, file: str, size: int, mtime: float
) -> Checkpoint | None:
    """The checkpoint of an unfinished hash of this version of ``file``, or None."""
    row = conn.execute(
        "SELECT size, mtime, chunk_size, chunks, state FROM hash_progress WHERE file = ?", (file,)
    ).fetchone()
    if row is None or not same_version(int(row[0]), float(row[1]), size, mtime):
        return None
    return Checkpoint(int(row[2]), tuple(json.loads(row[3])), row[4])


def open_failures(conn: sqlite3.Connection, limit: int = 100) -> list[dict[str, object]]:
    """Unresolved fixity failures, newest first."""
    rows = conn.execute(
        "SELECT file, path, size, expected, actual, chunk_size, chunks, first_chunk, byte_from, "
        "byte_to, time_from, time_to, time_method, detected_at, last_seen_at "
        "FROM fixity_failures WHERE resolved_at IS NULL ORDER BY detected_at DESC LIMIT ?",
        (limit,),
    )
    return [dict(row) for row in rows]


def summary(conn: sqlite3.Connection) -> dict[str, int]:
    """Counts for /metrics and status: hashed, sampled, unhashed eligible, failures."""
    row = conn.execute(
        "SELECT "
        "(SELECT count(*) FROM file_hashes h JOIN files f ON f.id = h.file "
        " WHERE f.status = 'active' AND h.xxh128 IS NOT NULL AND h.size = f.size "
        " AND abs(h.mtime - f.mtime) <= 1e-6) AS hashed, "
        f"(SELECT count(*) FROM files f WHERE {_ELIGIBLE}) AS eligible, "
        "(SELECT count(*) FROM fixity_failures WHERE resolved_at IS NULL) AS failures_open, "
        "(SELECT count(*) FROM fixity_failures) AS failures_total, "
        "(SELECT coalesce(sum(f.size), 0) FROM file_hashes h JOIN files f ON f.id = h.file "
        " WHERE f.status = 'active' AND h.xxh128 IS NOT NULL) AS bytes_hashed, "
        "(SELECT count(*) FROM hash_progress) AS in_progress"
    ).fetchone()
    values = {key: int(row[key] or 0) for key in row.keys()}  # noqa: SIM118 - sqlite3.Row
    values["unhashed"] = max(0, values["eligible"] - values["hashed"])
    return values


# --- writes ----------------------------------------------------------------------------------


def save_progress(
    conn: sqlite3.Connection,
    file: str,
    size: int,
    mtime: float,
    checkpoint: Checkpoint,
    now: datetime,
) -> None:
    """Keep ``checkpoint`` for this version of ``file`` (replacing an older one)."""
    stamp = db.timestamp(now)
    conn.execute(
        "INSERT INTO hash_progress (file, size, mtime, chunk_size, chunks, state, started_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (file) DO UPDATE SET "
        "size = excluded.size, mtime = excluded.mtime, chunk_size = excluded.chunk_size, "
        "chunks = excluded.chunks, state = excluded.state, updated_at = excluded.updated_at, "
        "started_at = CASE WHEN hash_progress.size = excluded.size "
        "AND hash_progress.mtime = excluded.mtime THEN hash_progress.started_at "
        "ELSE excluded.started_at END",
        (file, size, mtime, checkpoint.chunk_bytes, json.dumps(list(checkpoint.chunks)),
         checkpoint.state, stamp, stamp),
    )  # fmt: skip


def clear_progress(conn: sqlite3.Connection, file: str) -> None:
    conn.execute("DELETE FROM hash_progress WHERE file = ?", (file,))


def store_sample(
    conn: sqlite3.Connection, file: str, size: int, mtime: float, sample: str, now: datetime
) -> None:
    """Record the sampled hash of a version that has no full hash yet (a duplicate
    candidate); a full hash of the same version is left alone."""
    stamp = db.timestamp(now)
    current = baseline(conn, file)
    if current is not None and current.describes(size, mtime):
        conn.execute(
            "UPDATE file_hashes SET sample = ?, updated_at = ? WHERE file = ?",
            (sample, stamp, file),
        )
        return
    if current is not None and current.xxh128 is not None:
        return  # the full hash of the old version stays until the new one is taken
    conn.execute(
        "INSERT INTO file_hashes (file, size, mtime, sample, status, updated_at) "
        "VALUES (?, ?, ?, ?, 'sampled', ?) ON CONFLICT (file) DO UPDATE SET size = excluded.size, "
        "mtime = excluded.mtime, sample = excluded.sample, updated_at = excluded.updated_at",
        (file, size, mtime, sample, stamp),
    )


def record(
    conn: sqlite3.Connection,
    file: str,
    path: str,
    size: int,
    mtime: float,
    result: HashResult,
    *,
    now: datetime,
    location: Location | None = None,
) -> Verdict:
    """Store what a finished hash of version (``size``, ``mtime``) of ``file`` found.

    ``done``: a first hash of this version is the new baseline ('new', or 'changed' when
    another version was hashed before); a repeat read compares with the baseline ('ok' or
    'mismatch'). ``paused`` keeps its checkpoint. Other statuses store nothing.
    """
    if result.status is HashStatus.PAUSED:
        if result.checkpoint is not None and result.checkpoint.chunks:
            save_progress(conn, file, size, mtime, result.checkpoint, now)
        return Verdict("paused")
    if result.status is HashStatus.VANISHED:
        return Verdict(VANISHED)
    if result.status is HashStatus.CHANGED:
        return Verdict(CHANGED)
    if result.status is not HashStatus.DONE or result.xxh128 is None:
        return Verdict(ERROR)
    stamp = db.timestamp(now)
    clear_progress(conn, file)
    current = baseline(conn, file)
    if current is not None and current.xxh128 is not None and current.describes(size, mtime):
        return _verified(conn, current, path, result, stamp, location)
    _store_baseline(conn, file, size, mtime, result, stamp, current)
    if current is not None and current.xxh128 is not None:
        _resolve(conn, file, "new version", stamp)
        return Verdict(CHANGED, result.xxh128, previous=current.xxh128)
    return Verdict(NEW, result.xxh128)


def _store_baseline(
    conn: sqlite3.Connection,
    file: str,
    size: int,
    mtime: float,
    result: HashResult,
    stamp: str,
    previous: Baseline | None,
) -> None:
    chunk_size = result.chunk_bytes or None
    conn.execute(
        "INSERT INTO file_hashes (file, size, mtime, xxh128, chunk_size, chunks, sample, "
        "hashed_at, verified_at, status, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'ok', ?) "
        "ON CONFLICT (file) DO UPDATE SET size = excluded.size, mtime = excluded.mtime, "
        "xxh128 = excluded.xxh128, chunk_size = excluded.chunk_size, chunks = excluded.chunks, "
        "sample = excluded.sample, hashed_at = excluded.hashed_at, "
        "verified_at = excluded.verified_at, status = 'ok', updated_at = excluded.updated_at",
        (file, size, mtime, result.xxh128, chunk_size, len(result.chunks), result.sample, stamp,
         stamp, stamp),
    )  # fmt: skip
    conn.execute("DELETE FROM hash_chunks WHERE file = ?", (file,))
    conn.executemany(
        "INSERT INTO hash_chunks (file, idx, xxh128) VALUES (?, ?, ?)",
        [(file, i, value) for i, value in enumerate(result.chunks)],
    )
    detail: dict[str, object] = {
        "xxh128": result.xxh128,
        "size": size,
        "mtime": mtime,
        "chunks": len(result.chunks),
        "seconds": round(result.seconds, 3),
    }
    if result.resumed_at:
        detail["resumed_at_chunk"] = result.resumed_at
    if previous is not None and previous.xxh128 is not None:
        detail["previous"] = {
            "xxh128": previous.xxh128,
            "size": previous.size,
            "mtime": previous.mtime,
            "hashed_at": previous.hashed_at,
        }
    repo.record_events(conn, [repo.Event(file, "hashed", detail)], stamp)


def _verified(
    conn: sqlite3.Connection,
    current: Baseline,
    path: str,
    result: HashResult,
    stamp: str,
    location: Location | None,
) -> Verdict:
    file = current.file
    if result.xxh128 == current.xxh128:
        conn.execute(
            "UPDATE file_hashes SET verified_at = ?, status = 'ok', "
            "sample = coalesce(sample, ?), updated_at = ? WHERE file = ?",
            (stamp, result.sample, stamp, file),
        )
        repo.record_events(
            conn,
            [repo.Event(file, "verified", {"xxh128": result.xxh128,
                                           "seconds": round(result.seconds, 3)})],
            stamp,
        )  # fmt: skip
        _resolve(conn, file, "verified", stamp)
        return Verdict(OK, result.xxh128)
    # Same version, other bytes: a fixity failure. The baseline is never overwritten.
    from archive_analyzer.fixity.hasher import differing_chunks

    differing = result.differing or differing_chunks(current.chunks, result.chunks)
    first = differing[0] if differing else 0
    chunk_size = current.chunk_size or max(1, current.size)
    byte_from = first * chunk_size
    byte_to = min(current.size, byte_from + chunk_size)
    where = location or Location()
    conn.execute(
        "UPDATE file_hashes SET status = 'mismatch', updated_at = ? WHERE file = ?", (stamp, file)
    )
    latest = conn.execute(
        "SELECT id, actual FROM fixity_failures WHERE file = ? AND resolved_at IS NULL "
        "ORDER BY id DESC LIMIT 1",
        (file,),
    ).fetchone()
    if latest is not None and latest["actual"] == result.xxh128:
        conn.execute(
            "UPDATE fixity_failures SET last_seen_at = ? WHERE id = ?", (stamp, latest["id"])
        )
    else:
        conn.execute(
            "INSERT INTO fixity_failures (file, path, size, mtime, expected, actual, chunk_size, "
            "chunks, first_chunk, byte_from, byte_to, time_from, time_to, time_method, "
            "detected_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (file, path, current.size, current.mtime, current.xxh128, result.xxh128, chunk_size,
             json.dumps(list(differing)), first, byte_from, byte_to, where.time_from,
             where.time_to, where.method, stamp, stamp),
        )  # fmt: skip
    detail: dict[str, object] = {
        "expected": current.xxh128,
        "actual": result.xxh128,
        "chunks": list(differing),
        "bytes": [byte_from, byte_to],
    }
    if where.time_from is not None:
        detail["time"] = [where.time_from, where.time_to, where.method]
    repo.record_events(conn, [repo.Event(file, "fixity_failed", detail)], stamp)
    log.error(
        "FIXITY FAILURE %s: same size and mtime but the bytes changed; chunk %d (bytes %d-%d%s) "
        "differs, expected xxh128 %s, got %s",
        path,
        first,
        byte_from,
        byte_to,
        f", {where.time_from:.1f}-{where.time_to:.1f} s"
        if where.time_from is not None and where.time_to is not None
        else "",
        current.xxh128,
        result.xxh128,
    )
    return Verdict(MISMATCH, result.xxh128, chunk=first, previous=current.xxh128)


def _resolve(conn: sqlite3.Connection, file: str, resolution: str, stamp: str) -> None:
    conn.execute(
        "UPDATE fixity_failures SET resolved_at = ?, resolution = ? "
        "WHERE file = ? AND resolved_at IS NULL",
        (stamp, resolution, file),
    )


# --- perceptual frame hashes -----------------------------------------------------------------


def store_frames(
    conn: sqlite3.Connection,
    file: str,
    size: int,
    mtime: float,
    duration_s: float | None,
    found: dict[float, str],
    error: str | None,
    now: datetime,
) -> None:
    """Keep the frame hashes of one version of ``file`` (replacing older ones)."""
    stamp = db.timestamp(now)
    frames = json.dumps({f"{at:g}": value for at, value in sorted(found.items())})
    conn.execute(
        "INSERT INTO frame_hashes (file, size, mtime, duration_s, frames, error, made_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (file) DO UPDATE SET "
        "size = excluded.size, mtime = excluded.mtime, duration_s = excluded.duration_s, "
        "frames = excluded.frames, error = excluded.error, made_at = excluded.made_at, "
        "updated_at = excluded.updated_at",
        (file, size, mtime, duration_s, frames, error, stamp, stamp),
    )


def load_frames(conn: sqlite3.Connection, file: str) -> dict[float, str]:
    """The frame hashes of the current version of ``file`` (empty when none)."""
    row = conn.execute(
        "SELECT g.frames FROM frame_hashes g JOIN files f ON f.id = g.file "
        "WHERE g.file = ? AND g.size = f.size AND abs(g.mtime - f.mtime) <= 1e-6",
        (file,),
    ).fetchone()
    return {} if row is None else {float(k): v for k, v in json.loads(row[0]).items()}


def frames_due(conn: sqlite3.Connection, source: str) -> list[tuple[str, str, int, float, float]]:
    """(file, path, size, mtime, duration) of hashed media with a duration whose current
    version has no frame hashes yet."""
    rows = conn.execute(
        "SELECT f.id, f.path, f.size, f.mtime, m.duration_s FROM files f "
        "JOIN file_hashes h ON h.file = f.id JOIN media_info m ON m.id = f.id "
        "LEFT JOIN frame_hashes g ON g.file = f.id AND g.size = f.size "
        "AND abs(g.mtime - f.mtime) <= 1e-6 "
        "WHERE f.source = ? AND f.status = 'active' AND f.is_media = 1 AND h.xxh128 IS NOT NULL "
        "AND m.duration_s > 1 AND g.file IS NULL ORDER BY f.first_seen DESC",
        (source,),
    )
    return [(r[0], r[1], int(r[2]), float(r[3]), float(r[4])) for r in rows]


# --- manifests -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredHash:
    """A present file under a folder and the full hash of its current version (if any)."""

    path: str
    size: int
    mtime: float
    xxh128: str | None
    hashed_at: str | None


def hashes_under(conn: sqlite3.Connection, source: str, folder: str) -> list[StoredHash]:
    """Every active file under ``folder`` ('' = the whole source), by path."""
    prefix = f"{folder}/" if folder else ""
    rows = conn.execute(
        "SELECT f.path, f.size, f.mtime, "
        "CASE WHEN h.size = f.size AND abs(h.mtime - f.mtime) <= 1e-6 THEN h.xxh128 END, "
        "h.hashed_at FROM files f LEFT JOIN file_hashes h ON h.file = f.id "
        "WHERE f.source = ? AND f.status = 'active' AND substr(f.path, 1, ?) = ? ORDER BY f.path",
        (source, len(prefix), prefix),
    )
    return [StoredHash(r[0], int(r[1]), float(r[2]), r[3], r[4]) for r in rows]


def baseline_by_path(conn: sqlite3.Connection, source: str, path: str) -> Baseline | None:
    row = conn.execute(
        "SELECT id FROM files WHERE source = ? AND path = ?", (source, path)
    ).fetchone()
    return None if row is None else baseline(conn, row[0])
