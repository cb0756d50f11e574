"""One round of change notifications: check completion, list the touched folders, diff, apply.

A round (``scan.feed.Round``) names files to check and folders to list. The round asks the
source which files writers have closed (``Notifying.upload_states``), lists only those folders
(and, recursively, the folders that were added, moved or removed), loads only the catalog
rows in them, and diffs the two with ``diff.plan(partial=True)``: the poll's rules for new,
changed, moved and restored files, files known complete become ``active`` at once, nothing is
marked missing. Everything is written in one transaction.

Moves across folders keep their ids even when only the destination folder is in the round: a
new entry whose server file id (and size) belongs to a row elsewhere is a move when that row's
path is gone from the share (one ``stat``), as in the full scan. Rows that vanished from the
listed folders without a match are not touched; the round asks for a poll, which applies the
grace period and the mass-vanish protection as always.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from archive_analyzer.catalog import db
from archive_analyzer.catalog import files as repo
from archive_analyzer.catalog.files import FileRow
from archive_analyzer.errors import FileVanished, NotADirectory, SourceError
from archive_analyzer.scan.diff import DiffRules, Plan, plan, same_file, unique_files
from archive_analyzer.scan.feed import Round, Scopes
from archive_analyzer.scan.watcher import (
    Checker,
    RefreshHook,
    apply_plan,
    arrivals,
    fingerprints_for,
)
from archive_analyzer.sources.base import FileInfo, Source
from archive_analyzer.sources.changes import Completion

log = logging.getLogger(__name__)

# Called inside the round's transaction with whether the round wrote file rows (the caller
# records the round in ``notify_state``).
RecordHook = Callable[[sqlite3.Connection, bool], None]


@dataclass(frozen=True, slots=True)
class RoundResult:
    """What a round did. ``poll_reason`` is set when a full poll should follow at once."""

    new: int = 0
    changed: int = 0
    moved: int = 0
    restored: int = 0
    completed: int = 0  # incoming -> active because the source says no writer holds them
    listed: int = 0
    checked: int = 0
    ready: tuple[FileRow, ...] = ()
    still_open: tuple[str, ...] = ()
    settled: tuple[str, ...] = ()  # checked and found complete or gone
    arrived: tuple[str, ...] = ()  # left incoming without a check in this round
    poll_reason: str | None = None
    duration_s: float = 0.0

    @property
    def changes(self) -> int:
        return self.new + self.changed + self.moved + self.restored + self.completed


class _ListingFailed(Exception):
    pass


def run_round(
    conn: sqlite3.Connection,
    source: Source,
    rules: DiffRules,
    work: Round,
    *,
    now: db.Clock,
    checker: Checker | None,
    refresh: RefreshHook | None = None,
    record: RecordHook | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> RoundResult:
    """Run one round against ``source`` and the catalog; one write transaction at most.

    A source that cannot be reached (checks or listings fail) changes nothing and asks for a
    poll (which records the outage the usual way)."""
    t0 = monotonic()
    started = now()
    poll_reason = "the watch asked for a rescan" if work.rescan else None
    if not work.has_listing and not work.check:
        if record is not None:
            with db.transaction(conn):
                record(conn, False)
        return RoundResult(poll_reason=poll_reason, duration_s=monotonic() - t0)

    states: dict[str, Completion] = {}
    if work.check and checker is not None:
        try:
            states = dict(checker(list(work.check)))
        except SourceError as exc:
            return RoundResult(poll_reason=f"cannot check uploads: {exc}")
    complete = frozenset(p for p, s in states.items() if s is Completion.COMPLETE)
    still_open = tuple(p for p, s in states.items() if s is Completion.OPEN)
    settled = tuple(p for p, s in states.items() if s is not Completion.OPEN)

    scopes = work.scopes
    try:
        listed, folders, trees = _list_scopes(source, scopes)
    except _ListingFailed as exc:
        return RoundResult(poll_reason=str(exc), duration_s=monotonic() - t0)

    previous = repo.load_scope(conn, source.name, folders, trees)
    fresh = [info for path, info in listed.items() if path not in previous and info.size > 0]
    previous.update(_moved_in(conn, source, previous, fresh))
    prints = _prints_for_moves(conn, source, previous, listed, fresh)
    the_plan = plan(previous, listed, started, rules, fingerprints=prints, partial=True,
                    complete=complete)  # fmt: skip

    settle = [r for r in the_plan.stable if r.file_id is None and r.fingerprint is None]
    new_prints = fingerprints_for(source, [(r.path, r.size) for r in settle])
    by_path = {r.path: r.id for r in settle}
    stamp = db.timestamp(started)
    with db.transaction(conn):
        touched = apply_plan(
            conn, source.name, the_plan, stamp, {by_path[p]: v for p, v in new_prints.items()}
        )
        if refresh is not None and touched:
            refresh(conn, touched)
        if record is not None:
            record(conn, bool(touched))
    if the_plan.vanished:
        poll_reason = poll_reason or (
            f"{the_plan.vanished} file(s) gone from notified folders: the poll decides"
        )
    if not the_plan.is_empty:
        _log_round(source.name, the_plan, len(states), monotonic() - t0)
    wanted = set(touched)
    ready = tuple(r for r in repo.pending_probe(conn, source.name) if r.id in wanted)
    checked = set(states)
    return RoundResult(
        new=len(the_plan.new),
        changed=len(the_plan.changed),
        moved=len(the_plan.moved),
        restored=len(the_plan.restored),
        completed=len(the_plan.stable),
        listed=the_plan.listed,
        checked=len(states),
        ready=ready,
        still_open=still_open,
        settled=settled,
        arrived=tuple(p for p in arrivals(the_plan) if p not in checked),
        poll_reason=poll_reason,
        duration_s=monotonic() - t0,
    )


def _list_scopes(
    source: Source, scopes: Scopes
) -> tuple[dict[str, FileInfo], tuple[str, ...], tuple[str, ...]]:
    """The entries of a round's scopes, and the folders and trees whose catalog rows the
    listing covers. A folder that is gone lists as empty (its rows are gone); any other
    failure raises ``_ListingFailed``."""
    if scopes.whole:
        try:
            return unique_files(source.list_directory("", recursive=True)), (), ("",)
        except SourceError as exc:
            raise _ListingFailed(f"listing failed: {exc}") from None
    entries: list[FileInfo] = []
    folders_seen: set[str] = set()
    for folder in scopes.folders:
        for info in _list(source, folder, recursive=False):
            entries.append(info)
            if info.is_dir:
                folders_seen.add(info.path)
    for tree in scopes.trees:
        if tree == "" or tree in folders_seen:
            entries.extend(_list(source, tree, recursive=True))
    return unique_files(entries), scopes.folders, scopes.trees


def _list(source: Source, folder: str, *, recursive: bool) -> Iterable[FileInfo]:
    try:
        return list(source.list_directory(folder, recursive=recursive))
    except (FileVanished, NotADirectory):
        return []  # gone (or a file now): nothing is inside it any more
    except SourceError as exc:
        raise _ListingFailed(f"listing {folder or '/'} failed: {exc}") from None


def _moved_in(
    conn: sqlite3.Connection,
    source: Source,
    previous: Mapping[str, FileRow],
    fresh: list[FileInfo],
) -> dict[str, FileRow]:
    """Rows outside the round's scopes that moved into it: same server file id and size as a
    new entry, and their old path gone from the share."""
    wanted = {(info.file_id, info.size): info for info in fresh if info.file_id is not None}
    if not wanted:
        return {}
    found: dict[str, FileRow] = {}
    for row in repo.by_file_ids(conn, source.name, {key for key, _ in wanted}):
        if row.path in previous or row.file_id is None:
            continue
        info = wanted.get((row.file_id, row.size))
        if info is None or not same_file(row, info) or not _gone(source, row.path):
            continue
        found[row.path] = row
    return found


def _prints_for_moves(
    conn: sqlite3.Connection,
    source: Source,
    previous: dict[str, FileRow],
    listed: Mapping[str, FileInfo],
    fresh: list[FileInfo],
) -> dict[str, str]:
    """On servers without file ids: fingerprints of new entries whose size matches a
    fingerprinted row that is gone (in the scopes, or outside them and gone from the share),
    so the plan can recognise the move. Outside rows found are added to ``previous``."""
    candidates = [info for info in fresh if info.file_id is None]
    if not candidates:
        return {}
    sizes = {info.size for info in candidates}
    gone_sizes: set[int] = set()
    for row in repo.fingerprinted_of_sizes(conn, source.name, sizes):
        if row.path in previous:
            if row.path not in listed:
                gone_sizes.add(row.size)
        elif _gone(source, row.path):
            previous[row.path] = row
            gone_sizes.add(row.size)
    return fingerprints_for(
        source, [(info.path, info.size) for info in candidates if info.size in gone_sizes]
    )


def _gone(source: Source, path: str) -> bool:
    try:
        source.stat(path)
    except FileVanished:
        return True
    except SourceError:
        return False  # cannot tell: not a move for now; the poll will see
    return False


def _log_round(name: str, the_plan: Plan, checked: int, duration: float) -> None:
    log.info(
        "notified %s: %d new, %d changed, %d moved, %d restored, %d complete "
        "(%d listed, %d checked, %.2fs)",
        name,
        len(the_plan.new),
        len(the_plan.changed),
        len(the_plan.moved),
        len(the_plan.restored),
        len(the_plan.stable),
        the_plan.listed,
        checked,
        duration,
    )
