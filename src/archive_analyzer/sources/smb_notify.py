"""SMB change notifications (CHANGE_NOTIFY, watch tree) and the share-mode completion check.

``SMBWatch`` keeps one CHANGE_NOTIFY with ``SMB2_WATCH_TREE`` outstanding on the source's root
folder, over a connection of its own (smbprotocol: a notify is a handful of messages per burst,
so the lean listing client's speed buys nothing here; docs/sources.md has the figures). It
re-arms after every answer (the server queues what happens in between on the open handle),
reconnects with a growing pause after a loss, and after every (re)arm sends
``Change(RESCAN, '')``: what happened while nobody was listening is unknown. An answer of
STATUS_NOTIFY_ENUM_DIR (the server's buffer overflowed) is a RESCAN of the whole tree too.

``share_mode_states_lean`` (on the source's lean connection, ``smb_conn``) and
``share_mode_states`` (the smbprotocol fallback) ask the server whether an upload is finished:
an open for reading that denies writers (share access READ only) fails with
STATUS_SHARING_VIOLATION while a client holds the file open for writing. The open is a related
CREATE + CLOSE compound, so the server holds it for one round trip; many files are checked with
their compounds in flight together.
"""

from __future__ import annotations

import logging
import struct
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from smbprotocol.change_notify import SMB2ChangeNotifyRequest
from smbprotocol.exceptions import SMBException, SMBResponseException
from smbprotocol.header import NtStatus
from smbprotocol.open import (
    CreateDisposition,
    CreateOptions,
    ImpersonationLevel,
    Open,
    ShareAccess,
    SMB2CloseRequest,
)

from archive_analyzer import paths
from archive_analyzer.errors import FileVanished, PermissionDenied, SourceError, SourceTimeout
from archive_analyzer.sources.changes import (
    Change,
    ChangeKind,
    ChangeSink,
    Completion,
    Reporter,
    WatchHealth,
    WatchStatus,
)
from archive_analyzer.sources.credentials import SMBCredentials
from archive_analyzer.sources.smb_conn import Connection, Request
from archive_analyzer.sources.smb_link import RELATED, SMBLink
from archive_analyzer.sources.smb_proto import (
    CLOSE,
    CREATE,
    FILE_NON_DIRECTORY_FILE,
    FILE_READ_ATTRIBUTES,
    FILE_READ_DATA,
    STATUS_SUCCESS,
    ConnectionDropped,
    WireTimeout,
    close_body,
    create_body,
)
from archive_analyzer.sources.smb_status import STATUS_SHARING_VIOLATION, Dropped, translate_status
from archive_analyzer.sources.url import SMBSpec

log = logging.getLogger(__name__)

MECHANISM = "SMB2 CHANGE_NOTIFY (watch tree)"

WATCH_TREE = 0x0001
# FILE_NAME | DIR_NAME | SIZE | LAST_WRITE: creations, deletions, renames and writes.
COMPLETION_FILTER = 0x01 | 0x02 | 0x08 | 0x10
STATUS_NOTIFY_CLEANUP = 0x0000010B
STATUS_NOTIFY_ENUM_DIR = 0x0000010C
SHARE_READ = 0x1  # FILE_SHARE_READ only: writers are denied

_ACTIONS = {
    1: ChangeKind.ADDED,
    2: ChangeKind.REMOVED,
    3: ChangeKind.MODIFIED,
    4: ChangeKind.RENAMED_FROM,
    5: ChangeKind.RENAMED_TO,
    6: ChangeKind.MODIFIED,  # a stream added/removed/modified: the file changed
    7: ChangeKind.MODIFIED,
    8: ChangeKind.MODIFIED,
    9: ChangeKind.REMOVED,  # removed by delete (on close of a delete-on-close open)
}
_NOTIFY_INFO = struct.Struct("<III")  # NextEntryOffset, Action, FileNameLength
_DIR_ACCESS = 0x1  # FILE_LIST_DIRECTORY: all CHANGE_NOTIFY needs
_SHARE_ALL = (
    ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE | ShareAccess.FILE_SHARE_DELETE
)
# FILE_READ_DATA | FILE_READ_ATTRIBUTES: a data access, so the server checks share modes (an
# attributes-only open is exempt from them).
_CHECK_ACCESS = FILE_READ_DATA | FILE_READ_ATTRIBUTES
CHECK_BATCH = 64  # compounds in flight per round trip of completion checks


@dataclass(frozen=True, slots=True)
class WatchOptions:
    """How an ``SMBWatch`` behaves (built by ``SMBSource``).

    ``keepalive_s``: an armed watch with no answer for this long sends an ECHO, so a server
    that vanished without closing the connection is noticed. ``backoff_s``: pauses before
    reconnect attempts (the last one repeats). ``buffer_bytes``: the notify output buffer; a
    burst that does not fit comes back as STATUS_NOTIFY_ENUM_DIR (a rescan)."""

    timeout_s: float = 30.0
    keepalive_s: float = 60.0
    backoff_s: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
    buffer_bytes: int = 65536


def parse_notify(buffer: bytes) -> list[tuple[int, str]]:
    """(action, name) pairs of a FILE_NOTIFY_INFORMATION chain. Names are as the server sent
    them: relative to the watched folder, ``\\``-separated. PURE."""
    found: list[tuple[int, str]] = []
    offset = 0
    while offset + _NOTIFY_INFO.size <= len(buffer):
        following, action, length = _NOTIFY_INFO.unpack_from(buffer, offset)
        start = offset + _NOTIFY_INFO.size
        name = bytes(buffer[start : start + length]).decode("utf-16-le", errors="replace")
        found.append((action, name))
        if following == 0:
            break
        offset += following
    return found


def to_changes(actions: Sequence[tuple[int, str]]) -> list[Change]:
    """Catalog changes for notified (action, name) pairs: NFC, ``/``, housekeeping entries and
    unknown actions dropped. PURE."""
    changes: list[Change] = []
    for action, name in actions:
        kind = _ACTIONS.get(action)
        if kind is None:
            continue
        try:
            path = paths.normalize(unicodedata.normalize("NFC", name))
        except ValueError:  # a name climbing out of the root: not ours to follow
            continue
        if not path or any(paths.is_housekeeping(part) for part in path.split("/")):
            continue
        changes.append(Change(kind, path))
    return changes


class _Stopped(Exception):
    """The watch was closed while waiting."""


class SMBWatch:
    """One CHANGE_NOTIFY watch of a share folder's whole tree, on its own connection and
    thread. Start with ``SMBWatch.start``; ``close`` stops it."""

    def __init__(
        self,
        spec: SMBSpec,
        creds: SMBCredentials,
        wire_root: str,
        sink: ChangeSink,
        *,
        name: str,
        options: WatchOptions,
    ) -> None:
        self._spec = spec
        self._creds = creds
        self._wire_root = wire_root
        self._name = name
        self._options = options
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._link: SMBLink | None = None
        self._report = Reporter(sink, MECHANISM)
        self._thread = threading.Thread(target=self._run, name="smb-watch", daemon=True)

    @classmethod
    def start(
        cls,
        spec: SMBSpec,
        creds: SMBCredentials,
        wire_root: str,
        sink: ChangeSink,
        *,
        name: str,
        options: WatchOptions | None = None,
    ) -> SMBWatch:
        """A running watch (connecting in the background)."""
        watch = cls(spec, creds, wire_root, sink, name=name, options=options or WatchOptions())
        watch._thread.start()
        return watch

    def __repr__(self) -> str:
        return f"SMBWatch({self._name!r}, {self._report.status.health.value})"

    @property
    def status(self) -> WatchStatus:
        return self._report.status

    def close(self) -> None:
        """Stop watching: drop the connection (the server forgets the request) and wait for
        the thread."""
        if self._stop.is_set():
            return
        self._stop.set()
        with self._lock:
            link, self._link = self._link, None
        if link is not None:
            link.close()
        self._thread.join(timeout=self._options.timeout_s + 5.0)

    # --- the watch thread ------------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._watch_once()
                failures = 0
            except _Stopped:
                break
            except (Dropped, SourceError, SMBException, OSError, ValueError) as exc:
                self._drop_link()
                if self._stop.is_set():
                    break
                pause = self._options.backoff_s[min(failures, len(self._options.backoff_s) - 1)]
                failures += 1
                reason = _reason(exc)
                if failures == 1:
                    log.warning("change notifications for %s lost (%s); reconnecting",
                                self._name, reason)  # fmt: skip
                else:
                    log.info("change notifications for %s: still reconnecting (%s)",
                             self._name, reason)  # fmt: skip
                self._report.health(WatchHealth.RECONNECTING, reason)
                self._stop.wait(pause)
            except Exception as exc:  # a bug must not leave the share unwatched for ever
                log.exception("change notifications for %s failed unexpectedly", self._name)
                self._drop_link()
                self._report.health(WatchHealth.RECONNECTING, type(exc).__name__)
                self._stop.wait(self._options.backoff_s[-1])
        self._drop_link()
        self._report.health(WatchHealth.STOPPED)

    def _drop_link(self) -> None:
        with self._lock:
            link, self._link = self._link, None
        if link is not None:
            link.close()

    def _watch_once(self) -> None:
        """Connect, open the root folder and keep a notify armed until something breaks."""
        link = SMBLink.open(
            self._spec, self._creds, timeout=self._options.timeout_s, name=self._name
        )
        with self._lock:
            if self._stop.is_set():
                link.close()
                raise _Stopped
            self._link = link
        folder = Open(link.tree, self._wire_root)
        try:
            folder.create(
                ImpersonationLevel.Impersonation,
                _DIR_ACCESS,
                0,
                _SHARE_ALL,
                CreateDisposition.FILE_OPEN,
                CreateOptions.FILE_DIRECTORY_FILE,
            )
        except SMBResponseException as exc:
            status = int(exc.status)
            raise SourceError(f"cannot open the watched folder: status 0x{status:08x}") from None
        first = True
        while True:
            request = self._arm(link, folder.file_id)
            if first:
                # Armed: from here on the server queues every change for us. What happened
                # before (or while we were away) is unknown: ask for a rescan.
                first = False
                self._report.health(WatchHealth.ACTIVE)
                log.info("change notifications for %s active", self._name)
                self._report.changes([Change(ChangeKind.RESCAN, "")])
            status, buffer = self._await(link, request)
            if status == STATUS_NOTIFY_ENUM_DIR or (status == 0 and not buffer):
                log.info("change notifications for %s overflowed: rescanning", self._name)
                self._report.changes([Change(ChangeKind.RESCAN, "")])
            elif status == 0:
                self._report.changes(to_changes(parse_notify(buffer)))
            elif status == STATUS_NOTIFY_CLEANUP:
                raise SourceError("the server closed the watch (folder removed?)")
            else:
                raise SourceError(f"the watch ended with status 0x{status:08x}")

    def _arm(self, link: SMBLink, file_id: bytes) -> Any:
        request = SMB2ChangeNotifyRequest()
        request["flags"] = WATCH_TREE
        request["output_buffer_length"] = self._options.buffer_bytes
        request["file_id"] = file_id
        request["completion_filter"] = COMPLETION_FILTER
        try:
            return link.conn.send(request, link.sid, link.tid)
        except (SMBException, OSError) as exc:
            raise Dropped("connection lost while arming the watch") from exc

    def _await(self, link: SMBLink, request: Any) -> tuple[int, bytes]:
        """Wait for the notify's final answer: (status, buffer). Sends an ECHO after
        ``keepalive_s`` of silence to prove the server is still there."""
        conn = link.conn
        while True:
            answered = request.response_event.wait(self._options.keepalive_s)
            if self._stop.is_set():
                raise _Stopped
            if not conn.transport.connected:
                raise Dropped("the server closed the connection")
            if not answered:
                self._echo(link)
                continue
            with request.response_event_lock:
                response = request.response
                if response is None:
                    raise Dropped("the connection ended")
                if response["status"].get_value() == NtStatus.STATUS_PENDING:
                    request.response_event.clear()  # the interim answer; the real one follows
                    continue
            break
        try:
            final = conn.receive(request, timeout=self._options.timeout_s)
        except SMBResponseException as exc:
            return int(exc.status), b""
        except (SMBException, OSError) as exc:
            raise Dropped("connection lost while reading a notification") from exc
        data: bytes = final["data"].get_value()
        # CHANGE_NOTIFY response: StructureSize(2), OutputBufferOffset(2, from the header),
        # OutputBufferLength(4), then the buffer.
        offset = int.from_bytes(data[2:4], "little") - 64
        length = int.from_bytes(data[4:8], "little")
        return int(final["status"].get_value()), data[offset : offset + length] if length else b""

    def _echo(self, link: SMBLink) -> None:
        try:
            link.conn.echo(sid=link.sid, timeout=int(self._options.timeout_s) + 1)
        except (SMBException, OSError) as exc:
            raise Dropped("the server stopped answering") from exc


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- upload completion ---------------------------------------------------------------------


def completion_of(status: int, rel: str, source_name: str) -> Completion:
    """What the status of a deny-writers open says about an upload. PURE (raises ``Dropped``
    for a lost session, which the caller retries)."""
    if status == STATUS_SUCCESS:
        return Completion.COMPLETE
    if status == STATUS_SHARING_VIOLATION:
        return Completion.OPEN
    error = translate_status(status, rel, source_name)
    if isinstance(error, Dropped):
        raise error
    if isinstance(error, PermissionDenied):
        return Completion.COMPLETE  # we may not read it at all: the probe will say so
    return Completion.GONE  # vanished, a folder, or nothing we can check


def share_mode_states_lean(
    conn: Connection, items: Sequence[tuple[str, str]], *, source_name: str, timeout_s: float
) -> dict[str, Completion]:
    """``share_mode_states`` on the source's lean connection (``smb_conn``). Raises ``Dropped``
    when the connection breaks and ``SourceTimeout`` when an answer takes too long."""
    found: dict[str, Completion] = {}
    try:
        for start in range(0, len(items), CHECK_BATCH):
            batch = items[start : start + CHECK_BATCH]
            sent = []
            for rel, wire in batch:
                create = create_body(
                    wire, access=_CHECK_ACCESS, options=FILE_NON_DIRECTORY_FILE, share=SHARE_READ
                )
                compound = [Request(CREATE, create), Request(CLOSE, close_body(RELATED))]
                sent.append((rel, conn.send(compound, related=True)))
            for rel, replies in sent:
                for reply in replies:
                    conn.wait(reply)
                found[rel] = completion_of(replies[0].status, rel, source_name)
    except ConnectionDropped as exc:
        raise Dropped(str(exc)) from exc
    except WireTimeout:
        raise SourceTimeout(f"{source_name}: no answer within {timeout_s:g} s") from None
    return found


def share_mode_states(link: SMBLink, items: Sequence[tuple[str, str]]) -> dict[str, Completion]:
    """Whether each file (``(rel, wire path)``) is still held open by a writer: an open for
    reading that denies writers, closed in the same compound. Raises ``Dropped`` when the
    connection breaks (the caller reconnects and asks again)."""
    found: dict[str, Completion] = {}
    for start in range(0, len(items), CHECK_BATCH):
        batch = items[start : start + CHECK_BATCH]
        sent = [(rel, link.send(_check_compound(link, wire))) for rel, wire in batch]
        for rel, (create, close) in sent:
            found[rel] = _check_answer(link, rel, create, close)
    return found


def _check_compound(link: SMBLink, wire: str) -> list[Any]:
    opener = Open(link.tree, wire)
    create, _ = opener.create(
        ImpersonationLevel.Impersonation,
        _CHECK_ACCESS,
        0,
        ShareAccess.FILE_SHARE_READ,  # deny writers: fails while one holds the file
        CreateDisposition.FILE_OPEN,
        CreateOptions.FILE_NON_DIRECTORY_FILE,
        send=False,
    )
    close = SMB2CloseRequest()
    close["file_id"] = RELATED
    return [create, close]


def _check_answer(link: SMBLink, rel: str, create: Any, close: Any) -> Completion:
    try:
        answer = link.wait(create, rel, frozenset({STATUS_SHARING_VIOLATION}))
    except FileVanished:
        link.settle([close])
        return Completion.GONE
    except PermissionDenied:
        # We may not read it at all: nothing to learn here; the probe will say so.
        link.settle([close])
        return Completion.COMPLETE
    except SourceError:  # e.g. a folder: not a file being uploaded
        link.settle([close])
        return Completion.GONE
    link.settle([close])
    return Completion.OPEN if answer is None else Completion.COMPLETE
