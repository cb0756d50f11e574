"""Change notifications for a local folder (watchdog's inotify observer) and the local upload
completion check.

The watch uses watchdog's native ``InotifyObserver`` explicitly (never its polling fallback:
a polling observer would only repeat our own poll, slower). Only the events the watcher needs
are asked of the kernel (create, modify, close-after-write, delete, move), so our own probe
reads (open, read, close without writing) cause no events at all.

Completion (``upload_states``), decided here and written down in docs/scan.md:

1. A read lease (``fcntl(F_SETLEASE, F_RDLCK)``, released at once): the kernel grants it only
   when no process on this machine has the file open for writing, so it answers exactly the
   question, without scanning ``/proc`` the way ``lsof`` does. It works where this process
   owns the file or holds CAP_LEASE (root), on local filesystems.
2. Where a lease cannot be asked for (someone else's file without CAP_LEASE, a network mount
   that has no leases), the file counts as complete once nothing has written to it for
   ``QUIET_S`` (its mtime is that old). A writer that pauses longer than that is taken as
   finished; a later write makes the file ``changed`` and it is probed again.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import stat as statmod
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.inotify import InotifyObserver

from archive_analyzer import paths
from archive_analyzer.sources.changes import (
    Change,
    ChangeKind,
    ChangeSink,
    Completion,
    Reporter,
    WatchHealth,
    WatchStatus,
)

log = logging.getLogger(__name__)

MECHANISM = "inotify (watchdog)"
QUIET_S = 2.0
F_SETLEASE = getattr(fcntl, "F_SETLEASE", 1024)
# Events asked of the kernel: no opens, reads or plain closes (our own probes make those).
EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    DirCreatedEvent,
    FileModifiedEvent,
    FileClosedEvent,
    FileDeletedEvent,
    DirDeletedEvent,
    FileMovedEvent,
    DirMovedEvent,
]
# watchdog re-arms its watches itself after the kernel's queue overflowed (IN_Q_OVERFLOW) but
# hands its event handlers nothing; it logs warnings on these loggers, which we listen to
# (watchdog 7: "Inotify queue overflowed; filesystem events were lost" on inotify_c, then
# "Inotify queue overflowed; reconciling recursive watches below ..." on inotify). A real
# overflow is made in tests/scan/test_notify.py, so a watchdog that stops saying so fails it.
_WATCHDOG_LOGGERS = ("watchdog.observers.inotify_c", "watchdog.observers.inotify")
REARM_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


def relative(root: str, absolute: str) -> str | None:
    """The catalog path of ``absolute`` below ``root`` (NFC, ``/``), or None when it is
    outside the root or inside a housekeeping entry. PURE."""
    rel = os.path.relpath(absolute, root)
    if rel == ".":
        return ""
    if rel.startswith(".."):
        return None
    path = unicodedata.normalize("NFC", rel.replace(os.sep, "/"))
    if any(paths.is_housekeeping(part) for part in path.split("/")):
        return None
    return path


def to_changes(root: str, event: FileSystemEvent) -> list[Change]:
    """The catalog changes a watchdog event stands for (none for the root itself or for
    housekeeping entries). PURE."""
    src = relative(root, os.fsdecode(event.src_path))
    kind = event.event_type
    is_dir = bool(event.is_directory)
    if kind == "moved":
        dest = relative(root, os.fsdecode(event.dest_path))
        moved: list[Change] = []
        if src:
            moved.append(Change(ChangeKind.RENAMED_FROM, src, is_dir))
        if dest:
            moved.append(Change(ChangeKind.RENAMED_TO, dest, is_dir))
        return moved
    if not src:
        return []
    if kind == "created":
        return [Change(ChangeKind.ADDED, src, is_dir)]
    if kind == "deleted":
        return [Change(ChangeKind.REMOVED, src, is_dir)]
    if kind == "closed" and not is_dir:
        return [Change(ChangeKind.CLOSED, src, False)]
    if kind == "modified" and not is_dir:  # a folder's own mtime: its children say more
        return [Change(ChangeKind.MODIFIED, src, False)]
    return []


class _Handler(FileSystemEventHandler):
    def __init__(self, root: str, deliver: Callable[[list[Change]], None]) -> None:
        super().__init__()
        self._root = root
        self._deliver = deliver
        self.root_lost = threading.Event()

    def on_any_event(self, event: FileSystemEvent) -> None:
        gone = event.is_directory and event.event_type in ("deleted", "moved")
        if gone and os.fsdecode(event.src_path) == self._root:
            self.root_lost.set()  # the watched folder itself went away
            return
        self._deliver(to_changes(self._root, event))


class _OverflowListener(logging.Filter):
    """Notices watchdog's "queue overflowed" warnings (and lets them through)."""

    def __init__(self, on_overflow: Callable[[], None]) -> None:
        super().__init__()
        self._on_overflow = on_overflow

    def filter(self, record: logging.LogRecord) -> bool:
        if "overflow" in record.getMessage().lower():
            self._on_overflow()
        return True


class LocalWatch:
    """A watch of a local folder's whole tree through watchdog's inotify observer."""

    def __init__(self, root: Path, sink: ChangeSink, *, rearm_s: Sequence[float] = REARM_S):
        self._root = os.path.abspath(root)
        self._rearm_s = tuple(rearm_s)
        self._stop = threading.Event()
        self._report = Reporter(sink, MECHANISM)
        self._handler = _Handler(self._root, self._deliver)
        self._overflow = _OverflowListener(self._overflowed)
        self._observer: InotifyObserver | None = None
        self._thread = threading.Thread(target=self._run, name="local-watch", daemon=True)

    @classmethod
    def start(
        cls, root: Path, sink: ChangeSink, *, rearm_s: Sequence[float] = REARM_S
    ) -> LocalWatch:
        watch = cls(root, sink, rearm_s=rearm_s)
        for name in _WATCHDOG_LOGGERS:
            logging.getLogger(name).addFilter(watch._overflow)
        watch._thread.start()
        return watch

    def __repr__(self) -> str:
        return f"LocalWatch({self._root!r}, {self._report.status.health.value})"

    @property
    def status(self) -> WatchStatus:
        return self._report.status

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._handler.root_lost.set()  # wakes the supervising thread
        self._thread.join(timeout=10.0)
        for name in _WATCHDOG_LOGGERS:
            logging.getLogger(name).removeFilter(self._overflow)

    def _deliver(self, changes: list[Change]) -> None:
        if not self._stop.is_set():
            self._report.changes(changes)

    def _overflowed(self) -> None:
        log.info("change notifications for %s overflowed: rescanning", self._root)
        self._deliver([Change(ChangeKind.RESCAN, "")])

    def _run(self) -> None:
        """Arm the observer; re-arm when the watched folder goes away and comes back."""
        failures = 0
        armed_once = False
        while not self._stop.is_set():
            try:
                self._arm()
            except OSError as exc:  # no such folder, inotify limits reached ...
                self._disarm()
                pause = self._rearm_s[min(failures, len(self._rearm_s) - 1)]
                failures += 1
                health = WatchHealth.RECONNECTING if armed_once else WatchHealth.UNAVAILABLE
                reason = exc.strerror or str(exc)
                if failures == 1 and not armed_once:
                    log.warning("cannot watch %s with inotify (%s); polling only until it can",
                                self._root, reason)  # fmt: skip
                self._report.health(health, reason)
                self._stop.wait(pause)
                continue
            failures, armed_once = 0, True
            self._handler.root_lost.wait()
            self._disarm()
            if not self._stop.is_set():
                self._handler.root_lost.clear()
                log.warning("the watched folder %s went away; watching again when it is back",
                            self._root)  # fmt: skip
                self._report.health(WatchHealth.RECONNECTING, "the watched folder went away")
                self._stop.wait(self._rearm_s[0])
        self._disarm()
        self._report.health(WatchHealth.STOPPED)

    def _arm(self) -> None:
        if not os.path.isdir(self._root):
            raise FileNotFoundError(errno.ENOENT, "no such folder", self._root)
        observer = InotifyObserver()
        observer.schedule(self._handler, self._root, recursive=True, event_filter=EVENTS)
        observer.start()
        self._observer = observer
        self._report.health(WatchHealth.ACTIVE)
        log.info("change notifications for %s active", self._root)
        self._deliver([Change(ChangeKind.RESCAN, "")])  # what happened before is unknown

    def _disarm(self) -> None:
        observer, self._observer = self._observer, None
        if observer is None:
            return
        try:
            observer.stop()
            observer.join(timeout=5.0)
        except Exception as exc:  # stopping a broken observer may fail; nothing to keep
            log.debug("stopping the inotify observer: %s", exc)


# --- upload completion ---------------------------------------------------------------------


def upload_state(disk_path: str, *, now: Callable[[], float] = time.time) -> Completion:
    """Whether a writer still holds the file at ``disk_path`` open (see the module doc)."""
    try:
        fd = os.open(disk_path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return Completion.GONE
    except PermissionError:
        return Completion.COMPLETE  # unreadable: nothing to learn; the probe will say so
    except OSError:
        return Completion.GONE
    try:
        st = os.fstat(fd)
        if not statmod.S_ISREG(st.st_mode):
            return Completion.GONE
        try:
            fcntl.fcntl(fd, F_SETLEASE, fcntl.F_RDLCK)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                return Completion.OPEN  # some process has it open for writing
            # no lease for us here (not our file, no CAP_LEASE, no leases on this mount)
            quiet = now() - st.st_mtime >= QUIET_S
            return Completion.COMPLETE if quiet else Completion.OPEN
        fcntl.fcntl(fd, F_SETLEASE, fcntl.F_UNLCK)
        return Completion.COMPLETE
    finally:
        os.close(fd)
