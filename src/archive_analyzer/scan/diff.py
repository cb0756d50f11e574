"""The poll diff: the catalog's state + a fresh listing + the time -> a plan of changes. PURE.

No I/O here: the watcher lists, computes fingerprints where asked, calls :func:`plan`, and
applies the result in one transaction (``scan.watcher``).

Semantics (issue 4):

- a path not in the catalog is *new*; it starts ``incoming``;
- a known path whose size or mtime differs is *changed*: ``incoming`` again, to be re-probed;
- an ``incoming`` row whose size and mtime did not change since the previous poll is *stable*
  (unless its name is a temporary/upload name): it becomes ``active`` and is probed;
- a catalog row whose path vanished and a new path with the same server file id and size are one
  file *moved*: the id is kept. Where the server gives no file id, the same size and the same
  fingerprint (first and last 64 KiB) decide;
- a present row that vanished becomes *missing*; a missing row older than the grace period is
  *deleted* (soft); a missing or deleted row seen again is *restored*;
- offline safety: an empty listing, or more than ``vanish_threshold`` of the present rows
  vanishing in one poll, makes the poll *suspect*: nothing is marked missing or deleted;
- mass vanish confirmation: the same set of rows vanished (and nothing else), the listing not
  empty and some known files still listed, in every poll for ``vanish_confirm_s``, is a real
  deletion: those rows are marked missing. Any other poll in between starts the wait again.

A *partial* plan (``partial=True``, issue 19) diffs only the rows of the folders a round of
change notifications listed: the same rules for new, changed, moved and restored files, but
nothing is ever marked missing or deleted (vanished rows are left to the next full poll) and
the two-poll stability rule does not apply (rounds are seconds apart). Instead, in both kinds
of plan, a file in ``complete`` (the source said no writer holds it open) is ``active`` at
once when it is new, changed, moved or incoming, unless its name is a temporary one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from archive_analyzer import paths
from archive_analyzer.catalog.db import parse_timestamp
from archive_analyzer.catalog.files import PRESENT, FileRow, is_temporary
from archive_analyzer.sources.base import FileInfo


@dataclass(frozen=True, slots=True)
class DiffRules:
    """Thresholds of the diff (built from the settings at the entrance:
    ``pipeline.options.diff_rules``).

    ``vanish_min_files``: below this many vanished files the share check does not apply, so
    deleting 2 of 5 files in a small tree is still seen as a deletion.
    """

    missing_grace_s: float = 24 * 3600.0
    vanish_threshold: float = 0.20
    vanish_min_files: int = 10
    vanish_confirm_s: float = 3600.0


@dataclass(frozen=True, slots=True)
class PendingVanish:
    """A mass vanish waiting to be confirmed: the vanished row ids and when they were first
    seen vanished together (the poll time). Carried from poll to poll by the watcher."""

    ids: frozenset[str]
    since: datetime


@dataclass(frozen=True, slots=True)
class Plan:
    """What one poll found. Rows are the catalog's state before the poll."""

    new: tuple[tuple[FileInfo, str], ...] = ()  # (entry, status)
    changed: tuple[tuple[FileRow, FileInfo, str], ...] = ()  # (row, entry, status)
    moved: tuple[tuple[FileRow, FileInfo, str], ...] = ()  # (row, entry at new path, status)
    restored: tuple[tuple[FileRow, str], ...] = ()  # (row, status), same path and content
    stable: tuple[FileRow, ...] = ()  # incoming -> active, same path
    missing: tuple[FileRow, ...] = ()
    deleted: tuple[FileRow, ...] = ()
    refreshed: tuple[tuple[FileRow, FileInfo], ...] = ()  # only the server file id changed
    listed: int = 0
    unchanged: int = 0
    suspect: str | None = None  # why the poll is not trusted for deletions, if it is not
    # A mass vanish still waiting for confirmation after this poll (None: none, or confirmed).
    pending: PendingVanish | None = None
    confirmed: str | None = None  # set when this poll accepted a mass vanish as real
    vanished: int = 0  # partial plans: present rows gone from the listed scopes (not applied)

    @property
    def is_empty(self) -> bool:
        """True when the poll changes nothing in the catalog."""
        return not (
            self.new
            or self.changed
            or self.moved
            or self.restored
            or self.stable
            or self.missing
            or self.deleted
            or self.refreshed
        )


def unique_files(listing: Iterable[FileInfo]) -> dict[str, FileInfo]:
    """The listing's files (folders dropped) keyed by NFC path; the first spelling wins when
    an NFC and an NFD name both appear."""
    found: dict[str, FileInfo] = {}
    for info in listing:
        if info.is_dir:
            continue
        path = info.path
        if "\\" in path or not unicodedata.is_normalized("NFC", path):
            path = paths.normalize(path)  # sources give NFC; this is the rare exception
        if path in found:
            continue
        if path != info.path:
            info = FileInfo(path, info.size, info.mtime, info.file_id, False)
        found[path] = info
    return found


def _settled_status(info: FileInfo) -> str:
    return "incoming" if is_temporary(info.path) else "active"


def _arrival_status(info: FileInfo, complete: frozenset[str]) -> str:
    """A new or changed file: ``incoming``, or ``active`` when known complete."""
    return "active" if info.path in complete and not is_temporary(info.path) else "incoming"


def _same_content(row: FileRow, info: FileInfo) -> bool:
    return row.size == info.size and row.mtime == info.mtime


def same_file(row: FileRow, info: FileInfo) -> bool:
    """Whether an id or fingerprint match may be trusted as one file moved.

    File ids are inode numbers on most servers and get reused: an empty file says nothing,
    and a row deleted long ago matches a new file only with the very same mtime too.
    """
    if info.size == 0:
        return False
    return row.status != "deleted" or row.mtime == info.mtime


def fingerprint_candidates(
    previous: Mapping[str, FileRow], listed: Mapping[str, FileInfo]
) -> list[FileInfo]:
    """New entries without a server file id whose size equals a vanished row's that has a
    fingerprint: the only files worth reading 2 x 64 KiB of to detect a move."""
    sizes = {
        row.size
        for path, row in previous.items()
        if path not in listed and row.fingerprint is not None
    }
    if not sizes:
        return []
    return [
        info
        for path, info in listed.items()
        if path not in previous and info.file_id is None and info.size in sizes
    ]


def vanish_suspect(vanished: int, present: int, listed: int, rules: DiffRules) -> str | None:
    """Why a listing looks like an outage rather than deletions (None when it does not):
    it is empty while files are known, or too large a share of the known files vanished."""
    if present and not listed:
        return f"the listing is empty but {present} files are known"
    if vanished >= rules.vanish_min_files and vanished > rules.vanish_threshold * present:
        return (
            f"{vanished} of {present} known files vanished at once "
            f"(more than {rules.vanish_threshold:.0%})"
        )
    return None


def confirm_vanish(
    pending: PendingVanish | None,
    vanished: frozenset[str],
    kept: int,
    now: datetime,
    rules: DiffRules,
) -> tuple[PendingVanish | None, bool, str]:
    """Weigh a poll whose only problem is a mass vanish (the listing is not empty).

    ``vanished`` are the row ids that vanished in this poll, ``kept`` how many known present
    files are still listed. Returns the pending vanish to carry on (None when confirmed or
    when it cannot be), whether it is confirmed now, and a sentence for the poll's message.
    It is confirmed when ``pending`` names exactly the same ids and was first seen at least
    ``rules.vanish_confirm_s`` ago.
    """
    if kept == 0:  # nothing known is left: looks like a different share, never confirmed
        return None, False, "no known file is left, so it is never taken as a deletion"
    if pending is None or pending.ids != vanished:
        return (
            PendingVanish(vanished, now),
            False,
            (f"accepted as deleted if the same files stay away for {rules.vanish_confirm_s:.0f} s"),
        )
    waited = (now - pending.since).total_seconds()
    if waited >= rules.vanish_confirm_s:
        return None, True, f"the same files stayed away for {waited:.0f} s: accepted as deleted"
    return (
        pending,
        False,
        (
            f"the same files away for {waited:.0f} s; accepted as deleted after "
            f"{rules.vanish_confirm_s:.0f} s"
        ),
    )


def plan(
    previous: Mapping[str, FileRow],
    listing: Mapping[str, FileInfo] | Iterable[FileInfo],
    now: datetime,
    rules: DiffRules,
    *,
    fingerprints: Mapping[str, str] | None = None,
    pending: PendingVanish | None = None,
    partial: bool = False,
    complete: frozenset[str] = frozenset(),
) -> Plan:
    """Diff the catalog rows of one source (``previous``, keyed by path, every status) with a
    complete fresh ``listing``. ``fingerprints`` maps new paths to their content fingerprint
    (see :func:`fingerprint_candidates`); ``pending`` is the mass vanish the previous poll left
    waiting (see :func:`confirm_vanish`). With ``partial``, ``previous`` and ``listing`` cover
    only the scopes a notification round listed (see the module doc); ``complete`` are paths
    known to be no longer open for writing. Returns the plan; applies nothing.
    """
    listed = listing if isinstance(listing, Mapping) else unique_files(listing)
    prints = fingerprints or {}

    changed: list[tuple[FileRow, FileInfo, str]] = []
    restored: list[tuple[FileRow, str]] = []
    stable: list[FileRow] = []
    refreshed: list[tuple[FileRow, FileInfo]] = []
    unchanged = 0
    fresh: list[FileInfo] = []
    for path, info in listed.items():
        row = previous.get(path)
        if row is None:
            fresh.append(info)
        elif not _same_content(row, info):
            changed.append((row, info, _arrival_status(info, complete)))
        elif row.status not in PRESENT:
            restored.append((row, _settled_status(info)))
        elif (
            row.status == "incoming"
            and not is_temporary(path)
            and (not partial or path in complete)
        ):
            stable.append(row)
        elif info.file_id is not None and info.file_id != row.file_id:
            refreshed.append((row, info))
        else:
            unchanged += 1

    # Rows whose path is gone are candidates for a move; present rows are preferred as the
    # source of a move over rows already missing or deleted.
    gone = [row for path, row in previous.items() if path not in listed]
    gone.sort(key=lambda r: (r.status not in PRESENT, r.path))
    by_id: dict[tuple[str, int], FileRow] = {}
    by_print: dict[tuple[str, int], FileRow] = {}
    for row in gone:
        if row.file_id is not None:
            by_id.setdefault((row.file_id, row.size), row)
        if row.fingerprint is not None:
            by_print.setdefault((row.fingerprint, row.size), row)

    moved: list[tuple[FileRow, FileInfo, str]] = []
    taken: set[str] = set()
    new: list[tuple[FileInfo, str]] = []
    for info in fresh:
        match: FileRow | None = None
        if info.file_id is not None:
            match = by_id.get((info.file_id, info.size))
        if match is None and info.path in prints:
            match = by_print.get((prints[info.path], info.size))
        if match is not None and match.id not in taken and same_file(match, info):
            taken.add(match.id)
            if not _same_content(match, info):
                status = _arrival_status(info, complete)  # touched on the way: re-probe
            elif match.status == "active":
                status = "active"
            elif partial and match.status == "incoming":  # no second poll to settle it
                status = _arrival_status(info, complete)
            else:  # incoming, missing or deleted, unchanged since the last poll
                status = _settled_status(info)
            moved.append((match, info, status))
        else:
            new.append((info, _arrival_status(info, complete)))

    vanished = [row for row in gone if row.id not in taken and row.status in PRESENT]
    if partial:  # a notification round never marks anything missing: the poll decides
        return Plan(
            new=tuple(new),
            changed=tuple(changed),
            moved=tuple(moved),
            restored=tuple(restored),
            stable=tuple(stable),
            refreshed=tuple(refreshed),
            listed=len(listed),
            unchanged=unchanged,
            vanished=len(vanished),
        )
    present = sum(1 for row in previous.values() if row.status in PRESENT)
    suspect = vanish_suspect(len(vanished), present, len(listed), rules)
    waiting: PendingVanish | None = None
    confirmed: str | None = None
    if suspect is not None and listed:  # a mass vanish, not an empty listing
        ids = frozenset(row.id for row in vanished)
        waiting, accepted, note = confirm_vanish(pending, ids, present - len(vanished), now, rules)
        if accepted:
            confirmed, suspect = f"{suspect}; {note}", None
        else:
            suspect = f"{suspect}; {note}"

    missing: tuple[FileRow, ...] = ()
    deleted: tuple[FileRow, ...] = ()
    if suspect is None:
        missing = tuple(vanished)
        deleted = tuple(
            row
            for row in gone
            if row.id not in taken
            and row.status == "missing"
            and row.missing_since is not None
            and (now - parse_timestamp(row.missing_since)).total_seconds() >= rules.missing_grace_s
        )

    return Plan(
        new=tuple(new),
        changed=tuple(changed),
        moved=tuple(moved),
        restored=tuple(restored),
        stable=tuple(stable),
        missing=missing,
        deleted=deleted,
        refreshed=tuple(refreshed),
        listed=len(listed),
        unchanged=unchanged,
        suspect=suspect,
        pending=waiting,
        confirmed=confirmed,
    )
