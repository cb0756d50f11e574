"""Change notifications and upload completion: the second, optional half of a source's contract.

A source that implements ``Notifying`` can report changes as they happen (SMB2 CHANGE_NOTIFY
over a share, inotify through watchdog for a local folder) and say whether a file is still held
open by a writer. The watcher (``scan.feed``) turns both into prompt, targeted listings; the
poll stays the safety net for everything a notification misses. Both implementations run the
one contract suite in ``tests/sources/test_changes_contract.py``.

A notification is a hint, never a verdict: it names a path that changed, and the caller lists
the folder to see what is there. Nothing is ever marked missing because a notification said
"removed".
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

log = logging.getLogger(__name__)


class ChangeKind(StrEnum):
    """What a notification says happened to a path."""

    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"  # size, last write time or attributes
    RENAMED_FROM = "renamed_from"  # the old name of a rename (or a move out of a folder)
    RENAMED_TO = "renamed_to"  # the new name
    CLOSED = "closed"  # a writer closed the file (inotify's IN_CLOSE_WRITE; SMB never says)
    RESCAN = "rescan"  # events were lost below ``path`` ('' = the whole tree): list it again


@dataclass(frozen=True, slots=True)
class Change:
    """One notification: ``path`` is a catalog path (relative to the source root, ``/``, NFC).
    ``is_dir`` is None when the notification does not say (SMB never does)."""

    kind: ChangeKind
    path: str
    is_dir: bool | None = None


class WatchHealth(StrEnum):
    """Where a watch stands."""

    STARTING = "starting"
    ACTIVE = "active"  # armed: changes are reported as they happen
    RECONNECTING = "reconnecting"  # lost (server restart, dropped connection); trying again
    UNAVAILABLE = "unavailable"  # cannot watch at all (server refuses, no inotify); polls only
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class WatchStatus:
    """A watch's health, how it watches (``mechanism``) and why, when it is not active."""

    health: WatchHealth
    mechanism: str
    detail: str | None = None


class Completion(StrEnum):
    """Whether a file's upload is finished, as far as the source can tell."""

    COMPLETE = "complete"  # nobody holds it open for writing
    OPEN = "open"  # a writer still holds it open
    GONE = "gone"  # not there (any more)


class ChangeSink(Protocol):
    """Where a watch delivers what it sees. Called from the watch's own thread; must be quick
    and thread-safe (``scan.feed.ChangeFeed`` is)."""

    def changes(self, batch: Sequence[Change]) -> None:
        """Changes, in the order the source reported them."""
        ...

    def status(self, status: WatchStatus) -> None:
        """The watch's health changed. A watch that becomes ACTIVE again after being lost also
        sends ``Change(RESCAN, '')``: what happened meanwhile is unknown."""
        ...


class Reporter:
    """How a watch talks to its sink: a health only when it changed, and a sink that raises is
    logged, never the end of the watch. Used by both watches."""

    def __init__(self, sink: ChangeSink, mechanism: str) -> None:
        self._sink = sink
        self.status = WatchStatus(WatchHealth.STARTING, mechanism)

    def health(self, health: WatchHealth, detail: str | None = None) -> None:
        status = WatchStatus(health, self.status.mechanism, detail)
        if status == self.status:
            return
        self.status = status
        try:
            self._sink.status(status)
        except Exception:
            log.exception("change sink failed on a status")

    def changes(self, batch: Sequence[Change]) -> None:
        if not batch:
            return
        try:
            self._sink.changes(batch)
        except Exception:
            log.exception("change sink failed")


class ChangeWatch(Protocol):
    """A running watch of a whole source tree (started by ``Notifying.watch_changes``)."""

    @property
    def status(self) -> WatchStatus:
        """The current health."""
        ...

    def close(self) -> None:
        """Stop watching and release the connection/threads (idempotent; the sink gets a last
        STOPPED status)."""
        ...


@runtime_checkable
class Notifying(Protocol):
    """A source that can watch for changes and check upload completion."""

    @property
    def name(self) -> str: ...

    def watch_changes(self, sink: ChangeSink) -> ChangeWatch:
        """Start watching the whole tree in the background, re-arming after every response and
        reconnecting after a loss; returns at once (the first status is sent from the watch's
        thread). The watch never raises into the caller: trouble is a status."""
        ...

    def upload_states(self, files: Sequence[str]) -> dict[str, Completion]:
        """For each catalog path in ``files``, whether a writer still holds the file open.
        The check holds nothing a writer could trip over for longer than one round trip. Raises
        ``SourceError`` only when the source itself cannot be reached."""
        ...
