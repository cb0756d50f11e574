"""The change feed: a source's notifications, coalesced into rounds of work for the watcher.

A watch (``sources.changes``) calls ``ChangeFeed.changes`` from its own thread for every
batch it gets; the feed keeps one entry per path with the time of its last change. A path
becomes *due*:

- ``settle_s`` after its last change when it was added, modified or renamed to: by then the
  writer has probably closed it, and the round checks (``Notifying.upload_states``) whether it
  really has; a file still open is checked again later, ``settle_s`` doubling up to
  ``recheck_max_s``, and at once on its next change;
- ``quiet_s`` after its last change when it was removed or renamed away, or closed by a writer
  (inotify says so; SMB never does): nothing to wait for;
- a RESCAN (events were lost, or the watch was (re)armed) asks the caller for a poll.

A round is handed out once something is due and the stream of changes has been calm for
``quiet_s``, or something has been due for ``max_wait_s`` (so a copy that never pauses still
gets rounds): a copy of 1,000 files becomes a few rounds, each one catalog transaction.

The feed does no I/O and keeps no catalog state; the clock is injected. A small pump thread
(``start``) calls ``on_due`` when a round is ready, so the caller (the jobs writer, or the
in-process watch loop) can run it on its own thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from archive_analyzer.sources.changes import Change, ChangeKind, WatchHealth, WatchStatus

log = logging.getLogger(__name__)

_CHECKED = frozenset(
    {ChangeKind.ADDED, ChangeKind.MODIFIED, ChangeKind.RENAMED_TO, ChangeKind.CLOSED}
)
_ARRIVED = frozenset({ChangeKind.ADDED, ChangeKind.RENAMED_TO})
_GONE = frozenset({ChangeKind.REMOVED, ChangeKind.RENAMED_FROM})
_SOON = frozenset({ChangeKind.REMOVED, ChangeKind.RENAMED_FROM, ChangeKind.CLOSED})


@dataclass(frozen=True, slots=True)
class NotifyOptions:
    """Timing of the feed (built from the settings at the entrance)."""

    settle_s: float = 1.0
    quiet_s: float = 0.5
    max_wait_s: float = 5.0
    recheck_max_s: float = 30.0
    max_scopes: int = 64  # more folders than this in one round: the whole tree is listed


@dataclass(frozen=True, slots=True)
class Scopes:
    """What a round lists. ``folders``: listed without descending (their direct entries are
    in scope). ``trees``: everything below them is in scope; each is listed recursively if it
    is a folder now. ``whole``: the whole tree (more folders than ``max_scopes``)."""

    folders: tuple[str, ...] = ()
    trees: tuple[str, ...] = ()
    whole: bool = False


@dataclass(frozen=True, slots=True)
class Round:
    """One round of work: files to check for completion (before listing), the scopes to
    list, whether a poll is wanted, and what to record about the watch."""

    check: tuple[str, ...] = ()
    scopes: Scopes = field(default_factory=Scopes)
    rescan: bool = False
    status: WatchStatus | None = None  # changed since the last round: to be recorded
    events: int = 0  # notifications received since the last round
    last_event: Change | None = None
    last_event_at: datetime | None = None

    @property
    def has_listing(self) -> bool:
        return bool(self.scopes.folders or self.scopes.trees or self.scopes.whole)


@dataclass(slots=True)
class _Entry:
    kinds: set[ChangeKind]
    is_dir: bool | None
    changed: float  # monotonic time of the last change
    due: float


def parent_of(path: str) -> str:
    return path.rpartition("/")[0]


def under(path: str, trees: set[str] | frozenset[str]) -> bool:
    """True when ``path`` is one of ``trees`` or inside one ('' is the whole tree)."""
    if "" in trees:
        return True
    current = path
    while current:
        if current in trees:
            return True
        current = parent_of(current)
    return False


def scopes_for(
    entries: Sequence[tuple[str, frozenset[ChangeKind], bool | None]], limit: int
) -> Scopes:
    """The listings that show the current state of every changed path. PURE.

    Each path's parent folder is listed. A path that was removed or renamed away, or may be a
    folder (added or renamed to, and not known to be a file) is a tree as well: the catalog
    rows below it are in scope (so moves out of it are recognised) and it is listed
    recursively when the listing of its parent shows a folder. More than ``limit`` folders:
    the whole tree.
    """
    folders: set[str] = set()
    trees: set[str] = set()
    for path, kinds, is_dir in entries:
        folders.add(parent_of(path))
        if kinds & _GONE or is_dir is True or (is_dir is None and kinds & _ARRIVED):
            trees.add(path)
    kept_trees = {t for t in trees if not under(parent_of(t), trees) or t == ""}
    kept_folders = {f for f in folders if not under(f, kept_trees)}
    if len(kept_folders) > limit:
        return Scopes(whole=True)
    return Scopes(tuple(sorted(kept_folders)), tuple(sorted(kept_trees)))


class ChangeFeed:
    """Thread-safe collector of one source's notifications (a ``ChangeSink``)."""

    def __init__(
        self,
        options: NotifyOptions,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Callable[[], datetime],
    ) -> None:
        self.options = options
        self._monotonic = monotonic
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._entries: dict[str, _Entry] = {}
        self._rechecks: dict[str, float] = {}  # path -> the last re-check delay (still open)
        self._rescan = False
        self._rescan_at = float("-inf")
        self._last_change = float("-inf")
        self._events = 0
        self._last_event: Change | None = None
        self._last_event_at: datetime | None = None
        self._status = WatchStatus(WatchHealth.STARTING, "")
        self._status_dirty = False
        self._requested_at: float | None = None
        self._pump: threading.Thread | None = None
        self._closing = False
        self._on_due: Callable[[], object] | None = None

    # --- the watch's side (ChangeSink) ---------------------------------------------------

    def changes(self, batch: Sequence[Change]) -> None:
        """Record notified changes (called from the watch's thread)."""
        if not batch:
            return
        now = self._monotonic()
        with self._lock:
            for change in batch:
                self._add(change, now)
            self._events += len(batch)
            self._last_change = now
            self._last_event = batch[-1]
            self._last_event_at = self._clock()
            self._wake.notify_all()

    def _add(self, change: Change, now: float) -> None:
        if change.kind is ChangeKind.RESCAN:
            self._rescan, self._rescan_at = True, now
            return
        entry = self._entries.get(change.path)
        if entry is None:
            entry = self._entries[change.path] = _Entry(set(), change.is_dir, now, now)
        entry.kinds.add(change.kind)
        if change.is_dir is not None:
            entry.is_dir = change.is_dir
        entry.changed = now
        # The last change decides: a write pushes the check back, a close or a removal
        # brings it forward.
        entry.due = now + (self.options.quiet_s if change.kind in _SOON else self.options.settle_s)
        self._rechecks.pop(change.path, None)  # activity: the re-check backoff starts again

    def status(self, status: WatchStatus) -> None:
        """Record the watch's health (called from the watch's thread)."""
        with self._lock:
            if status == self._status:
                return
            self._status = status
            self._status_dirty = True
            self._wake.notify_all()

    # --- the watcher's side --------------------------------------------------------------

    @property
    def watch_status(self) -> WatchStatus:
        return self._status

    @property
    def active(self) -> bool:
        """True while the watch is armed (rounds then replace most of the polling work)."""
        return self._status.health is WatchHealth.ACTIVE

    def ready_at(self) -> float | None:
        """When the next round is ready (monotonic), None when nothing waits."""
        with self._lock:
            return self._ready_at()

    def _ready_at(self) -> float | None:
        if self._status_dirty or self._rescan:
            return self._last_change + self.options.quiet_s if self._rescan else float("-inf")
        if not self._entries:
            return None
        earliest = min(entry.due for entry in self._entries.values())
        calm = self._last_change + self.options.quiet_s
        return max(earliest, min(calm, earliest + self.options.max_wait_s))

    def take(self) -> Round | None:
        """The work that is due now (removed from the feed), or None when nothing is."""
        now = self._monotonic()
        with self._lock:
            ready = self._ready_at()
            if ready is None or ready > now:
                return None
            self._requested_at = None
            due = {p: e for p, e in self._entries.items() if e.due <= now}
            for path in due:
                del self._entries[path]
            check = tuple(
                sorted(p for p, e in due.items() if e.kinds & _CHECKED and e.is_dir is not True)
            )
            scopes = scopes_for(
                [(p, frozenset(e.kinds), e.is_dir) for p, e in due.items()], self.options.max_scopes
            )
            work = Round(
                check=check,
                scopes=scopes,
                rescan=self._rescan,
                status=self._status if self._status_dirty else None,
                events=self._events,
                last_event=self._last_event,
                last_event_at=self._last_event_at,
            )
            self._rescan = False
            self._status_dirty = False
            self._events = 0
            self._wake.notify_all()
            return work

    def recheck(self, files: Iterable[str]) -> None:
        """Files found still open: check them again later (``settle_s`` doubling up to
        ``recheck_max_s``), unless a newer change already scheduled them."""
        now = self._monotonic()
        with self._lock:
            for path in files:
                entry = self._entries.get(path)
                if entry is not None:
                    continue  # changed again meanwhile: its own timer runs
                previous = self._rechecks.get(path, 0.0)
                delay = min(max(self.options.settle_s, previous * 2), self.options.recheck_max_s)
                self._rechecks[path] = delay
                self._entries[path] = _Entry({ChangeKind.MODIFIED}, False, now, now + delay)
            self._wake.notify_all()

    def settled(self, files: Iterable[str]) -> None:
        """Files found complete (or gone): forget their re-check backoff."""
        with self._lock:
            for path in files:
                self._rechecks.pop(path, None)

    def schedule_checks(self, files: Iterable[str]) -> None:
        """Files a poll found new or changed while the watch is active: check them after
        ``settle_s`` instead of waiting for a second poll (the watch may have missed them)."""
        now = self._monotonic()
        with self._lock:
            for path in files:
                if path not in self._entries:
                    due = now + self.options.settle_s
                    self._entries[path] = _Entry({ChangeKind.MODIFIED}, False, now, due)
            self._wake.notify_all()

    def polled(self, started: float) -> None:
        """A poll whose listing began at ``started`` (monotonic) saw the whole tree: a rescan
        asked for before that is answered."""
        with self._lock:
            if self._rescan and self._rescan_at <= started:
                self._rescan = False
                self._wake.notify_all()

    @property
    def monotonic(self) -> Callable[[], float]:
        """The feed's clock (callers stamp ``polled`` with it)."""
        return self._monotonic

    def pending(self) -> int:
        """Paths waiting for a round (for tests and the status)."""
        with self._lock:
            return len(self._entries)

    # --- the pump ------------------------------------------------------------------------

    def start(self, on_due: Callable[[], object]) -> None:
        """Call ``on_due`` (from a thread of the feed's own) whenever a round is ready and was
        not taken yet; again after ``max_wait_s`` if it still is not (the request was lost)."""
        self._on_due = on_due
        self._pump = threading.Thread(target=self._run_pump, name="change-feed", daemon=True)
        self._pump.start()

    def close(self) -> None:
        """Stop the pump (idempotent)."""
        with self._lock:
            self._closing = True
            self._wake.notify_all()
        if self._pump is not None:
            self._pump.join(timeout=5.0)

    def _run_pump(self) -> None:
        while True:
            with self._lock:
                if self._closing:
                    return
                now = self._monotonic()
                ready = self._ready_at()
                if ready is not None and self._requested_at is not None:
                    ready = max(ready, self._requested_at + max(1.0, self.options.max_wait_s))
                if ready is None or ready > now:
                    self._wake.wait(None if ready is None else ready - now)
                    continue
                self._requested_at = now
            try:
                assert self._on_due is not None
                self._on_due()
            except Exception:  # the queue may be down: the next wake asks again
                log.exception("cannot request a change round")
