"""The polling watcher: list the tree, diff it with the catalog (``scan.diff``), apply the plan.

One poll is one listing and at most one write transaction (a no-change poll writes only its
``scans`` row). The clock, the monotonic timer and ``sleep`` are injected so tests drive polls
directly. Probing is not done here: a poll returns the rows that became ready to probe and the
caller (``pipeline``) turns them into probe jobs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from archive_analyzer.catalog import db
from archive_analyzer.catalog import files as repo
from archive_analyzer.catalog.files import FileRow
from archive_analyzer.catalog.rules import Rules
from archive_analyzer.errors import ArchiveError, SourceError
from archive_analyzer.scan.diff import (
    DiffRules,
    PendingVanish,
    Plan,
    fingerprint_candidates,
    plan,
    unique_files,
)
from archive_analyzer.sources.base import Source
from archive_analyzer.sources.changes import Completion

log = logging.getLogger(__name__)

FINGERPRINT_SPAN = 64 * 1024

# Called inside the poll's write transaction with the ids of files that appeared, moved or
# changed (the catalog model's ``contents.refresh``).
RefreshHook = Callable[[sqlite3.Connection, Sequence[str]], None]
# Whether files are still held open by a writer (``Notifying.upload_states``).
Checker = Callable[[Sequence[str]], Mapping[str, Completion]]


def fingerprint(source: Source, path: str, size: int) -> str:
    """sha1 over the size and the first and last 64 KiB: identifies a file across a rename on
    servers without stable file ids (reads at most 128 KiB)."""
    digest = hashlib.sha1(str(size).encode(), usedforsecurity=False)
    digest.update(source.read_partial(path, 0, FINGERPRINT_SPAN))
    if size > FINGERPRINT_SPAN:
        tail = max(FINGERPRINT_SPAN, size - FINGERPRINT_SPAN)
        digest.update(source.read_partial(path, tail, FINGERPRINT_SPAN))
    return digest.hexdigest()


@dataclass
class WatchState:
    """What the watcher carries from one poll to the next (the catalog holds the rest, so a
    restart loses nothing: a fresh state only re-offers files still pending a probe)."""

    polls: int = 0
    suspect_polls: int = 0
    backlog_offered: bool = False
    # The source's rows as of the last poll that changed nothing, reused while the catalog is
    # provably untouched since: no commit by another connection (``PRAGMA data_version``) and
    # none by this one (``total_changes``). A no-change poll of a big tree then skips reading
    # every row again; any write anywhere means a fresh load.
    cached_rows: dict[str, FileRow] | None = field(default=None, repr=False)
    cached_token: tuple[int, int] | None = None
    # Classification rules for the contents hook, loaded once per watch (by the pipeline).
    rules: Rules | None = field(default=None, repr=False)
    # A mass vanish waiting for confirmation (``diff.confirm_vanish``); any poll that does not
    # see the very same vanish again (a failed or empty listing included) clears it.
    pending_vanish: PendingVanish | None = field(default=None, repr=False)


def _token(conn: sqlite3.Connection) -> tuple[int, int]:
    return int(conn.execute("PRAGMA data_version").fetchone()[0]), conn.total_changes


def _previous_rows(
    conn: sqlite3.Connection, source: str, state: WatchState, token: tuple[int, int]
) -> dict[str, FileRow]:
    if state.cached_rows is not None and state.cached_token == token:
        return state.cached_rows
    state.cached_rows = state.cached_token = None
    return repo.load(conn, source)


@dataclass(frozen=True, slots=True)
class PollResult:
    """One poll's outcome. ``ready`` are active media rows pending a probe that this poll made
    ready (or, on the first poll of a watcher, every such row: the backlog)."""

    scan_id: int
    status: str  # completed | suspect
    message: str | None
    listed: int
    new: int
    changed: int
    moved: int
    restored: int
    stable: int
    missing: int
    deleted: int
    duration_s: float
    ready: tuple[FileRow, ...] = field(default_factory=tuple)
    # Paths this poll left ``incoming`` because they are new or changed (a notification round
    # may check them sooner than the next poll), and settled files a writer still holds open.
    arrived: tuple[str, ...] = ()
    still_open: tuple[str, ...] = ()


def fingerprints_for(source: Source, entries: Sequence[tuple[str, int]]) -> dict[str, str]:
    """Fingerprints of ``(path, size)`` entries; a file that cannot be read gets none."""
    found: dict[str, str] = {}
    for path, size in entries:
        try:
            found[path] = fingerprint(source, path, size)
        except SourceError as exc:
            log.debug("no fingerprint for %r: %s", path, exc)
    return found


def poll(
    conn: sqlite3.Connection,
    source: Source,
    rules: DiffRules,
    state: WatchState,
    *,
    now: db.Clock,
    refresh: RefreshHook | None = None,
    monotonic: Callable[[], float] = time.monotonic,
    checker: Checker | None = None,
) -> PollResult:
    """List ``source`` once, diff with the catalog and apply the plan in one transaction.

    A listing that fails (``SourceError``: share unreachable, root gone) records a 'suspect'
    poll and changes nothing. With ``checker``, files about to settle (unchanged across two
    polls) are asked about first and those a writer still holds open stay ``incoming``.
    Returns the poll's counts and the rows ready to probe.
    """
    started = now()
    t0 = monotonic()
    state.polls += 1
    before = _token(conn)
    previous = _previous_rows(conn, source.name, state, before)
    try:
        listed = unique_files(source.list_directory("", recursive=True))
    except SourceError as exc:
        message = f"listing failed, nothing changed: {exc}"
        state.pending_vanish = None  # a mass vanish must be seen by every poll of its window
        return _record_suspect(conn, source, state, started, t0, monotonic, message, 0)

    candidates = fingerprint_candidates(previous, listed)
    prints = fingerprints_for(source, [(c.path, c.size) for c in candidates])
    the_plan = plan(
        previous, listed, started, rules, fingerprints=prints, pending=state.pending_vanish
    )
    if state.pending_vanish is not None and the_plan.pending is None and not the_plan.confirmed:
        log.info("poll of %s: the mass vanish being watched is over (files back or changed)",
                 source.name)  # fmt: skip
    state.pending_vanish = the_plan.pending
    the_plan, still_open = _hold_open_files(source, the_plan, checker)

    # Rows settling now on a server without file ids get a fingerprint (I/O before the
    # transaction) so a later rename can still be recognised.
    settle = [r for r in the_plan.stable if r.file_id is None and r.fingerprint is None]
    settle_prints = fingerprints_for(source, [(r.path, r.size) for r in settle])
    by_path = {r.path: r.id for r in settle}
    new_prints = {by_path[p]: v for p, v in settle_prints.items()}

    stamp = db.timestamp(started)
    with db.transaction(conn):
        touched = apply_plan(conn, source.name, the_plan, stamp, new_prints)
        if refresh is not None and touched:
            refresh(conn, touched)
        duration = monotonic() - t0
        status = "completed" if the_plan.suspect is None else "suspect"
        scan_id = _insert_poll(conn, source.name, the_plan, stamp, now(), duration, status)
    # Keep the rows for the next poll only when this poll wrote no file row and no other
    # connection committed while it ran.
    after = _token(conn)
    if the_plan.is_empty and not new_prints and after[0] == before[0]:
        state.cached_rows, state.cached_token = previous, after
    else:
        state.cached_rows = state.cached_token = None
    if the_plan.suspect is not None:
        state.suspect_polls += 1
        log.warning("poll of %s is suspect, nothing marked missing: %s", source.name,
                    the_plan.suspect)  # fmt: skip
    if the_plan.confirmed is not None:
        log.warning("poll of %s: %d files marked missing after a confirmed mass vanish: %s",
                    source.name, len(the_plan.missing), the_plan.confirmed)  # fmt: skip
    if not the_plan.is_empty:
        log.info(
            "poll %s: %d new, %d changed, %d moved, %d restored, %d stable, %d missing, "
            "%d deleted (%d files, %.2fs)",
            source.name,
            len(the_plan.new),
            len(the_plan.changed),
            len(the_plan.moved),
            len(the_plan.restored),
            len(the_plan.stable),
            len(the_plan.missing),
            len(the_plan.deleted),
            the_plan.listed,
            duration,
        )
    pending = repo.pending_probe(conn, source.name)
    if state.backlog_offered:
        wanted = set(touched)
        ready = tuple(r for r in pending if r.id in wanted)
    else:
        ready = tuple(pending)
        state.backlog_offered = True
    return PollResult(
        scan_id=scan_id,
        status=status,
        message=the_plan.suspect or the_plan.confirmed,
        listed=the_plan.listed,
        new=len(the_plan.new),
        changed=len(the_plan.changed),
        moved=len(the_plan.moved),
        restored=len(the_plan.restored),
        stable=len(the_plan.stable),
        missing=len(the_plan.missing),
        deleted=len(the_plan.deleted),
        duration_s=duration,
        ready=ready,
        arrived=arrivals(the_plan),
        still_open=still_open,
    )


def arrivals(the_plan: Plan) -> tuple[str, ...]:
    """Paths a plan leaves ``incoming`` because they are new, changed or moved."""
    found = [info.path for info, status in the_plan.new if status == "incoming"]
    found += [info.path for _, info, status in the_plan.changed if status == "incoming"]
    found += [info.path for _, info, status in the_plan.moved if status == "incoming"]
    return tuple(found)


def _hold_open_files(
    source: Source, the_plan: Plan, checker: Checker | None
) -> tuple[Plan, tuple[str, ...]]:
    """The plan without the settling files a writer still holds open (they stay incoming)."""
    if checker is None or not the_plan.stable:
        return the_plan, ()
    try:
        states = checker([row.path for row in the_plan.stable])
    except SourceError as exc:  # cannot ask: the two-poll rule alone decides, as before
        log.info("cannot check whether uploads on %s are finished: %s", source.name, exc)
        return the_plan, ()
    held = tuple(row.path for row in the_plan.stable if states.get(row.path) is Completion.OPEN)
    if not held:
        return the_plan, ()
    log.info("%d settled file(s) on %s are still open for writing; they stay incoming",
             len(held), source.name)  # fmt: skip
    holding = set(held)
    kept = tuple(row for row in the_plan.stable if row.path not in holding)
    return dataclasses.replace(
        the_plan, stable=kept, unchanged=the_plan.unchanged + len(held)
    ), held


def apply_plan(
    conn: sqlite3.Connection,
    source: str,
    the_plan: Plan,
    stamp: str,
    new_prints: dict[str, str],
) -> list[str]:
    """Write the plan; returns the ids of every row it changed (for the refresh hook)."""
    touched: list[str] = []
    if the_plan.new:
        touched += repo.add(conn, source, list(the_plan.new), stamp)
    if the_plan.moved:
        repo.move(conn, list(the_plan.moved), stamp)
        touched += [row.id for row, _, _ in the_plan.moved]
        # A move that also touched the content (mtime) needs a re-probe like any change.
        retouched = [
            (_moved_row(row, info.path), info, status)
            for row, info, status in the_plan.moved
            if (row.size, row.mtime) != (info.size, info.mtime)
        ]
        if retouched:
            repo.change(conn, retouched, stamp)
    if the_plan.changed:
        repo.change(conn, list(the_plan.changed), stamp)
        touched += [row.id for row, _, _ in the_plan.changed]
    for status in ("active", "incoming"):
        rows = [row for row, s in the_plan.restored if s == status]
        if rows:
            repo.set_status(conn, rows, status, stamp, event="restored")
            touched += [r.id for r in rows]
    if the_plan.stable:
        repo.set_status(conn, list(the_plan.stable), "active", stamp, event="stable")
        touched += [r.id for r in the_plan.stable]
    if new_prints:
        repo.set_fingerprints(conn, new_prints, stamp)
    if the_plan.refreshed:
        repo.refresh_ids(conn, list(the_plan.refreshed), stamp)
    if the_plan.missing:
        repo.set_status(conn, list(the_plan.missing), "missing", stamp)
        touched += [r.id for r in the_plan.missing]
    if the_plan.deleted:  # the catalog model retires the contents of deleted files
        repo.set_status(conn, list(the_plan.deleted), "deleted", stamp)
        touched += [r.id for r in the_plan.deleted]
    return touched


def _moved_row(row: FileRow, path: str) -> FileRow:
    return FileRow(
        id=row.id,
        source=row.source,
        path=path,
        size=row.size,
        mtime=row.mtime,
        file_id=row.file_id,
        status="active",  # already moved and restored by repo.move: no second 'restored'
        is_media=row.is_media,
        probe_state=row.probe_state,
        missing_since=None,
        fingerprint=row.fingerprint,
    )


def _insert_poll(
    conn: sqlite3.Connection,
    source: str,
    the_plan: Plan,
    stamp: str,
    finished: datetime,
    duration: float,
    status: str,
) -> int:
    finished_at = db.timestamp(finished)
    cursor = conn.execute(
        "INSERT INTO scans (source, kind, status, started_at, finished_at, files_seen, "
        "files_new, files_changed, files_moved, files_missing, files_deleted, files_restored, "
        "files_stable, duration_s, message) "
        "VALUES (?, 'poll', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            source,
            status,
            stamp,
            finished_at,
            the_plan.listed,
            len(the_plan.new),
            len(the_plan.changed),
            len(the_plan.moved),
            len(the_plan.missing),
            len(the_plan.deleted),
            len(the_plan.restored),
            len(the_plan.stable),
            duration,
            the_plan.suspect or the_plan.confirmed,
        ),
    )
    return int(cursor.lastrowid or 0)


def _record_suspect(
    conn: sqlite3.Connection,
    source: Source,
    state: WatchState,
    started: datetime,
    t0: float,
    monotonic: Callable[[], float],
    message: str,
    listed: int,
) -> PollResult:
    state.suspect_polls += 1
    log.warning("poll of %s is suspect: %s", source.name, message)
    stamp = db.timestamp(started)
    duration = monotonic() - t0
    with db.transaction(conn):
        cursor = conn.execute(
            "INSERT INTO scans (source, kind, status, started_at, finished_at, files_seen, "
            "errors, duration_s, message) VALUES (?, 'poll', 'suspect', ?, ?, ?, 1, ?, ?)",
            (source.name, stamp, stamp, listed, duration, message),
        )
    return PollResult(
        scan_id=int(cursor.lastrowid or 0),
        status="suspect",
        message=message,
        listed=listed,
        new=0,
        changed=0,
        moved=0,
        restored=0,
        stable=0,
        missing=0,
        deleted=0,
        duration_s=duration,
    )


def run_loop(
    poll_once: Callable[[], object],
    *,
    interval_s: float,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    should_stop: Callable[[], bool] = lambda: False,
    max_polls: int | None = None,
) -> int:
    """Call ``poll_once`` every ``interval_s`` (measured start to start) until ``should_stop``
    or ``max_polls``. A poll that raises is logged (with a traceback unless it is an
    ``ArchiveError`` or a database error) and the loop goes on.
    Returns the number of polls made."""
    polls = 0
    while not should_stop() and (max_polls is None or polls < max_polls):
        t0 = monotonic()
        try:
            poll_once()
        except (ArchiveError, sqlite3.Error) as exc:  # e.g. the catalog busy past its timeout
            log.error("poll failed, trying again next interval: %s", exc)
        except Exception:  # a bug must not stop the archive being watched: log it loudly
            log.exception("poll failed unexpectedly, trying again next interval")
        polls += 1
        if max_polls is not None and polls >= max_polls:
            break
        remaining = interval_s - (monotonic() - t0)
        if remaining > 0 and not should_stop():
            sleep(remaining)
    return polls
