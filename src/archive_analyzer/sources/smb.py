"""An SMB2/3 share as a source, through smbprotocol.

Directory listing goes through ``smb_wire.WireClient``, a lean listing-only SMB2/3 client
(related CREATE + QUERY_DIRECTORY x2 + CLOSE compounds, many folders in flight, buffers
parsed with ``struct``); when a server needs what it cannot do (encryption), the same
compounds go through smbprotocol. Everything else (stat, reads) uses smbprotocol's
low-level API: files are read with related CREATE + READ + CLOSE compounds or through a
seekable file object (``smb_file``).

Faults: a dropped connection is retried up to 3 times, waiting 1 s, 2 s, 4 s (tenacity), then
``SourceUnavailable``; a missing file is ``FileVanished``; an answer slower than
``settings.smb_timeout_s`` is ``SourceTimeout``. The password never leaves ``SMBCredentials``
except into smbprotocol's session setup.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import tenacity
from smbprotocol.connection import Connection
from smbprotocol.exceptions import SMBAuthenticationError, SMBException, SMBResponseException
from smbprotocol.header import NtStatus
from smbprotocol.open import (
    CreateDisposition,
    CreateOptions,
    FilePipePrinterAccessMask,
    ImpersonationLevel,
    Open,
    ShareAccess,
    SMB2CloseRequest,
)
from smbprotocol.session import Session
from smbprotocol.tree import TreeConnect

from archive_analyzer import paths
from archive_analyzer.errors import (
    FileVanished,
    NotADirectory,
    PermissionDenied,
    SourceError,
    SourceTimeout,
    SourceUnavailable,
)
from archive_analyzer.sources.base import FileInfo
from archive_analyzer.sources.credentials import SMBCredentials, resolve_credentials
from archive_analyzer.sources.smb_dir import (
    FILE_ID_FULL_DIRECTORY_INFORMATION,
    RawEntry,
    parse_id_full_directory,
    walk,
)
from archive_analyzer.sources.smb_wire import (
    ConnectionDropped,
    LoginFailed,
    StatusError,
    Ticket,
    UnsupportedServer,
    WireClient,
    WireTimeout,
)
from archive_analyzer.sources.url import SMBSpec

if TYPE_CHECKING:
    from archive_analyzer.config import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

BACKOFF_S: tuple[float, ...] = (1.0, 2.0, 4.0)
QUERY_BUFFER = 65536  # one credit per query; 2 queries hold ~1,000 entries of typical names
READ_CHUNK = 1024 * 1024  # 16 credits per READ
READ_WINDOW = 8 * READ_CHUNK  # per compound: 8 READs, 128 credits
EXTRA_CREDITS = 1024  # asked for right after login so many compounds can be in flight
RELATED = b"\xff" * 16  # file id meaning "the handle the previous related request opened"

_VANISHED = frozenset(
    {
        NtStatus.STATUS_OBJECT_NAME_NOT_FOUND,
        NtStatus.STATUS_OBJECT_PATH_NOT_FOUND,
        NtStatus.STATUS_NO_SUCH_FILE,
        NtStatus.STATUS_DELETE_PENDING,
        NtStatus.STATUS_FILE_CLOSED,
        0xC0000128,  # STATUS_FILE_CLOSED
        0xC0000056,  # STATUS_DELETE_PENDING
    }
)
_DROPPED = frozenset(
    {
        NtStatus.STATUS_NETWORK_NAME_DELETED,
        NtStatus.STATUS_USER_SESSION_DELETED,
        0xC000035C,  # STATUS_NETWORK_SESSION_EXPIRED
        0xC00000B5,  # STATUS_IO_TIMEOUT
    }
)
_END_OF_LISTING = frozenset({NtStatus.STATUS_NO_MORE_FILES})
_END_OF_FILE = frozenset({NtStatus.STATUS_END_OF_FILE})
_DIR_ACCESS = 0x1 | 0x80  # FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES
_FILE_ACCESS = (
    FilePipePrinterAccessMask.FILE_READ_DATA | FilePipePrinterAccessMask.FILE_READ_ATTRIBUTES
)
_SHARE_ALL = (
    ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE | ShareAccess.FILE_SHARE_DELETE
)


class _Dropped(Exception):
    """The connection broke; the operation may be retried after reconnecting."""


@dataclass
class _Link:
    """One live connection: smbprotocol's connection, session and tree."""

    conn: Any
    session: Any
    tree: Any
    generation: int

    @property
    def sid(self) -> int:
        return int(self.session.session_id)

    @property
    def tid(self) -> int:
        return int(self.tree.tree_connect_id)


@dataclass
class _Query:
    """A folder query in flight (a ticket of the listing ``Fetcher``)."""

    wire: str
    pattern: str = "*"
    generation: int = -1
    requests: list[Any] = field(default_factory=list)


class SMBSource:
    """An SMB2/3 share (or a folder inside one) read through smbprotocol.

    ``backoff`` are the waits before each reconnect attempt and ``sleep`` how to wait (tests
    inject both). ``fast_listing=False`` lists through smbprotocol only. ``stat``,
    ``read_partial`` and file objects may be used from several threads at once (smbprotocol's
    connection is shared under a lock); a listing belongs to the thread that iterates it.
    """

    def __init__(
        self,
        spec: SMBSpec,
        settings: Settings,
        *,
        backoff: Sequence[float] = BACKOFF_S,
        sleep: Callable[[float], None] = time.sleep,
        fast_listing: bool = True,
    ) -> None:
        self._spec = spec
        self._creds: SMBCredentials = resolve_credentials(spec.user, settings)
        self._timeout = settings.smb_timeout_s
        self._in_flight = max(1, settings.smb_list_concurrency)
        self._backoff = tuple(backoff)
        self._sleep = sleep
        self._link: _Link | None = None
        self._wire_client: WireClient | None = None
        self._fast_listing = fast_listing
        self._generation = 0
        self._connected_kinds: set[str] = set()
        self._link_lock = threading.RLock()
        self._wire_names: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"SMBSource({self.name!r})"

    @property
    def name(self) -> str:
        """``smb://user@host[:port]/share/path`` (never a password)."""
        return self._spec.display

    # --- connection ------------------------------------------------------------------------

    def connect(self) -> None:
        """Log in and connect the share, retrying as for a dropped connection."""
        self._run("connect", lambda: None)

    def close(self) -> None:
        """Disconnect (idempotent)."""
        self._drop_wire()
        link, self._link = self._link, None
        if link is None:
            return
        try:
            link.conn.disconnect(True)
        except Exception as exc:  # a dead socket cannot be closed politely; nothing to keep
            log.debug("ignoring error while disconnecting %s: %s", self.name, type(exc).__name__)

    def reconnect(self) -> None:
        """Drop the connection and open a new one."""
        self.close()
        self.connect()

    def _ensure(self) -> _Link:
        link = self._link
        if link is not None:
            return link
        with self._link_lock:  # several prober threads may share this source's reads
            if self._link is not None:
                return self._link
            return self._connect_link()

    def _connect_link(self) -> _Link:
        spec = self._spec
        conn = Connection(uuid.uuid4(), spec.host, spec.port, require_signing=True)
        try:
            conn.connect(timeout=self._timeout)
        except (ValueError, OSError, SMBException) as exc:
            raise _Dropped(f"cannot connect to {spec.host}:{spec.port}") from exc
        user = self._creds.user
        if self._creds.domain:
            user = f"{self._creds.domain}\\{user}"
        try:
            session = Session(
                conn, user, self._creds.password.get_secret_value(), auth_protocol="ntlm"
            )
            session.connect()
            tree = TreeConnect(session, rf"\\{spec.host}\{spec.share}")
            tree.connect()
            conn.echo(
                sid=session.session_id, timeout=int(self._timeout) + 1, credit_request=EXTRA_CREDITS
            )
        except (SMBAuthenticationError, SMBResponseException) as exc:
            _quiet_disconnect(conn)
            status = getattr(exc, "status", None)
            if status == NtStatus.STATUS_BAD_NETWORK_NAME:
                raise SourceUnavailable(f"no share {spec.share!r} on {spec.host}") from None
            if isinstance(exc, SMBAuthenticationError) or status in (
                NtStatus.STATUS_LOGON_FAILURE,
                0xC000006A,  # STATUS_WRONG_PASSWORD
            ):
                raise SourceUnavailable(
                    f"SMB login to {self.name} failed: wrong user or password"
                ) from None
            raise _Dropped(f"session setup with {spec.host} failed") from exc
        except (ValueError, OSError, SMBException) as exc:
            _quiet_disconnect(conn)
            raise _Dropped(f"session setup with {spec.host} failed") from exc
        self._generation += 1
        self._link = _Link(conn=conn, session=session, tree=tree, generation=self._generation)
        self._log_connected("smbprotocol")
        return self._link

    def _log_connected(self, kind: str) -> None:
        if kind in self._connected_kinds:
            log.info("connected again to %s (%s)", self.name, kind)
        else:
            self._connected_kinds.add(kind)
            log.debug("connected to %s (%s)", self.name, kind)

    def _drop(self, failed: _Link | None = None) -> None:
        """Forget the connection (``failed``: only if it is still the current one)."""
        with self._link_lock:
            if failed is not None and self._link is not failed:
                return  # another thread already replaced it
            link, self._link = self._link, None
        if link is not None:
            _quiet_disconnect(link.conn)

    def _run(
        self, what: str, operation: Callable[[], T], ensure: Callable[[], object] | None = None
    ) -> T:
        """Run ``operation`` on a live connection (``ensure`` makes one; default the
        smbprotocol link); on a dropped connection reconnect and retry."""
        ensure = ensure or self._ensure
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(len(self._backoff) + 1),
            wait=lambda state: self._backoff[min(state.attempt_number, len(self._backoff)) - 1],
            retry=tenacity.retry_if_exception_type(_Dropped),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    ensure()
                    return operation()
        except _Dropped as exc:
            raise SourceUnavailable(
                f"{self.name} unreachable after {len(self._backoff)} retries ({what}): {exc}"
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "connection to %s dropped; retry %d/%d in %.0f s",
            self.name,
            state.attempt_number,
            len(self._backoff),
            wait,
        )

    # --- requests --------------------------------------------------------------------------

    def _send(self, link: _Link, messages: list[Any]) -> list[Any]:
        try:
            if len(messages) == 1:
                return [link.conn.send(messages[0], link.sid, link.tid)]
            return list(link.conn.send_compound(messages, link.sid, link.tid, related=True))
        except (SMBException, OSError) as exc:
            self._drop(link)
            raise _Dropped("connection lost while sending") from exc

    def _await(
        self, link: _Link, request: Any, rel: str, allow: frozenset[int] = frozenset()
    ) -> Any:
        """The response of ``request``, errors translated (``rel`` names the path in them);
        None when the answer has a status in ``allow`` (e.g. STATUS_NO_MORE_FILES)."""
        if not request.response_event.wait(self._timeout):
            self._drop(link)
            raise SourceTimeout(f"{self.name}: no answer within {self._timeout:g} s ({rel or '/'})")
        try:
            return link.conn.receive(request, timeout=self._timeout)
        except SMBResponseException as exc:
            if exc.status in allow:
                return None
            raise self._translate(exc, rel) from None
        except (SMBException, OSError) as exc:
            self._drop(link)
            raise _Dropped("connection lost while waiting") from exc

    def _settle(self, link: _Link, requests: Sequence[Any]) -> None:
        """Collect the answers of the rest of a compound whose first part failed."""
        for request in requests:
            with contextlib.suppress(SourceError):
                self._await(link, request, "")

    def _translate(self, exc: SMBResponseException, rel: str) -> Exception:
        return self._translate_status(int(exc.status), rel)

    def _translate_status(self, status: int, rel: str) -> Exception:
        shown = rel or "/"
        if status in _VANISHED:
            return FileVanished(f"no longer exists: {shown}")
        if status == NtStatus.STATUS_ACCESS_DENIED:
            return PermissionDenied(f"permission denied: {shown}")
        if status == NtStatus.STATUS_NOT_A_DIRECTORY:
            return NotADirectory(f"not a folder: {shown}")
        if status == NtStatus.STATUS_FILE_IS_A_DIRECTORY:
            return SourceError(f"is a folder, not a file: {shown}")
        if status in _DROPPED:
            self._drop()
            return _Dropped(f"server ended the session (0x{status:08x})")
        return SourceError(f"{self.name}: {shown}: SMB status 0x{status:08x}")

    def _wire(self, rel: str) -> str:
        """The server-side path (``\\``-separated, spelled as on the server) of ``rel``."""
        wire = self._wire_names.get(rel)
        if wire is not None:
            return wire
        base = self._spec.path
        full = paths.join(base, rel) if rel else base
        return full.replace("/", "\\")

    # --- listing ---------------------------------------------------------------------------

    def list_directory(self, path: str = "", recursive: bool = False) -> Iterator[FileInfo]:
        """Entries below ``path`` in traversal order (see ``Source.list_directory``)."""
        start = paths.normalize(path)
        fetcher = self._listing_fetcher()
        start_wire = self._wire(start)
        options: dict[str, Any] = {
            "recursive": recursive,
            "in_flight": self._in_flight,
            "wire_names": self._wire_names,
            "wire_root": self._wire(""),
        }
        entries = walk(fetcher, start, start_wire, **options)
        try:
            first = next(entries)
        except StopIteration:
            return
        except FileVanished:
            # maybe spelled differently on the server (NFD): look it up, then walk again
            if not start or self._resolve(start) == start_wire:
                raise
            entries = walk(fetcher, start, self._resolve(start), **options)
            again = next(entries, None)
            if again is None:
                return
            first = again
        yield first
        yield from entries

    def _listing_fetcher(self) -> _Fetcher | _WireFetcher:
        """The fast listing client when the server allows it, else smbprotocol's compounds."""
        if self._fast_listing:
            try:
                self._run("connect", lambda: None, ensure=self._ensure_wire)
                return _WireFetcher(self)
            except UnsupportedServer as exc:
                log.info("listing %s through smbprotocol: %s", self.name, exc)
                self._fast_listing = False
        self._run("connect", lambda: None)
        return _Fetcher(self)

    def _ensure_wire(self) -> WireClient:
        if self._wire_client is not None:
            return self._wire_client
        spec = self._spec
        client = WireClient(spec.host, spec.port, spec.share, timeout=self._timeout)
        try:
            client.connect(
                self._creds.user, self._creds.password.get_secret_value(), self._creds.domain
            )
        except LoginFailed:
            client.close()
            raise SourceUnavailable(
                f"SMB login to {self.name} failed: wrong user or password"
            ) from None
        except StatusError as exc:
            client.close()
            if exc.status == NtStatus.STATUS_BAD_NETWORK_NAME:
                raise SourceUnavailable(f"no share {spec.share!r} on {spec.host}") from None
            raise _Dropped(f"tree connect to {spec.host} failed") from exc
        except (ConnectionDropped, WireTimeout) as exc:
            client.close()
            raise _Dropped(f"cannot connect to {spec.host}:{spec.port}") from exc
        except UnsupportedServer:
            client.close()
            raise
        self._generation += 1
        self._wire_client = client
        self._log_connected("listing client")
        return client

    def _drop_wire(self) -> None:
        client, self._wire_client = self._wire_client, None
        if client is not None:
            client.close()

    def _wire_collect(self, ticket: _WireTicket, rel: str) -> list[RawEntry]:
        client = self._ensure_wire()
        try:
            if ticket.client is not client or ticket.inner is None:
                ticket.inner = client.submit(ticket.wire)
                ticket.client = client
            inner = ticket.inner
            ticket.inner = None
            return client.result(inner)
        except StatusError as exc:
            raise self._translate_status(exc.status, rel) from None
        except ConnectionDropped as exc:
            self._drop_wire()
            raise _Dropped("connection lost while listing") from exc
        except WireTimeout:
            self._drop_wire()
            raise SourceTimeout(
                f"{self.name}: no answer within {self._timeout:g} s ({rel or '/'})"
            ) from None

    def _query_messages(self, wire: str, pattern: str = "*") -> list[Any]:
        link = self._link
        assert link is not None
        opener = Open(link.tree, wire)
        create, _ = opener.create(
            ImpersonationLevel.Impersonation,
            _DIR_ACCESS,
            0,
            _SHARE_ALL,
            CreateDisposition.FILE_OPEN,
            CreateOptions.FILE_DIRECTORY_FILE,
            send=False,
        )
        opener.file_id = RELATED
        queries = [
            opener.query_directory(
                pattern, FILE_ID_FULL_DIRECTORY_INFORMATION, max_output=QUERY_BUFFER, send=False
            )[0]
            for _ in range(2)
        ]
        close = SMB2CloseRequest()
        close["file_id"] = RELATED
        return [create, *queries, close]

    def _submit_query(self, query: _Query) -> None:
        link = self._ensure()
        query.generation = link.generation
        query.requests = self._send(link, self._query_messages(query.wire, query.pattern))

    def _collect_query(self, query: _Query, rel: str) -> list[RawEntry]:
        link = self._ensure()
        if query.generation != link.generation or not query.requests:
            self._submit_query(query)
        create, first, second, close = query.requests
        query.requests = []
        try:
            self._await(link, create, rel)
        except (SourceError, _Dropped):
            self._settle(link, [first, second, close])
            raise
        buffers: list[bytes] = []
        more = False
        for index, request in enumerate((first, second)):
            try:
                response = self._await(link, request, rel, _END_OF_LISTING)
            except SourceError:
                self._settle(link, [close])
                raise
            if response is not None:
                buffers.append(_query_buffer(response))
                more = index == 1
        self._settle(link, [close])
        if more:  # a big folder: page through it on a handle of its own
            return self._page_folder(link, query.wire, rel)
        entries: list[RawEntry] = []
        for buffer in buffers:
            entries.extend(parse_id_full_directory(buffer))
        return entries

    def _page_folder(self, link: _Link, wire: str, rel: str) -> list[RawEntry]:
        opener = Open(link.tree, wire)
        create, unpack_create = opener.create(
            ImpersonationLevel.Impersonation,
            _DIR_ACCESS,
            0,
            _SHARE_ALL,
            CreateDisposition.FILE_OPEN,
            CreateOptions.FILE_DIRECTORY_FILE,
            send=False,
        )
        request = self._send(link, [create])[0]
        self._await(link, request, rel)
        unpack_create(request)
        entries: list[RawEntry] = []
        try:
            while True:
                query, _ = opener.query_directory(
                    "*", FILE_ID_FULL_DIRECTORY_INFORMATION, max_output=QUERY_BUFFER, send=False
                )
                request = self._send(link, [query])[0]
                response = self._await(link, request, rel, _END_OF_LISTING)
                if response is None:
                    return entries
                entries.extend(parse_id_full_directory(_query_buffer(response)))
        finally:
            close = SMB2CloseRequest()
            close["file_id"] = opener.file_id
            self._settle(link, self._send(link, [close]))

    def _with_path(self, rel: str, operation: Callable[[str], T]) -> T:
        """Run ``operation(wire_path)``; if the path is missing, look for a differently
        spelled (e.g. NFD) name on the server and try once more with it."""
        wire = self._wire(rel)
        try:
            return operation(wire)
        except FileVanished:
            if not rel:
                raise
            resolved = self._resolve(rel)
            if resolved == wire:
                raise
            return operation(resolved)

    def _resolve(self, rel: str) -> str:
        """The wire path of ``rel`` found by listing each parent and comparing NFC names.
        Raises ``FileVanished`` when it is not there."""
        if not rel:
            return self._wire("")
        parent = rel.rpartition("/")[0]
        parent_wire = self._resolve(parent)
        name = paths.name_of(rel)
        entries = self._run("list", lambda: self._collect_query(_Query(parent_wire), rel))
        for entry in entries:
            if unicodedata.normalize("NFC", entry.name) == name:
                wire = f"{parent_wire}\\{entry.name}" if parent_wire else entry.name
                if wire != self._wire(rel):
                    self._wire_names[rel] = wire
                return wire
        raise FileVanished(f"no longer exists: {rel}")

    # --- single entries --------------------------------------------------------------------

    def stat(self, path: str) -> FileInfo:
        """One entry's info, from a query of its parent folder (same ids as the listing)."""
        rel = paths.normalize(path)
        if not rel:
            self._run("stat", lambda: None)
            return FileInfo(path="", size=0, mtime=0.0, file_id=None, is_dir=True)
        return self._with_path(rel, lambda wire: self._stat_wire(wire, rel))

    def _stat_wire(self, wire: str, rel: str) -> FileInfo:
        parent_wire, _, wire_name = wire.rpartition("\\")
        pattern = "*" if any(c in wire_name for c in '*?<>"') else wire_name
        query = _Query(parent_wire, pattern)
        for entry in self._run("stat", lambda: self._collect_query(query, rel)):
            if entry.name == wire_name or (
                pattern != "*" and entry.name.lower() == wire_name.lower()
            ):
                return FileInfo(
                    path=rel,
                    size=entry.size,
                    mtime=entry.mtime,
                    file_id=entry.file_id,
                    is_dir=entry.is_dir,
                )
        raise FileVanished(f"no longer exists: {rel}")

    def read_partial(self, path: str, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset``: one related CREATE + READ... + CLOSE round
        trip per ``READ_WINDOW`` bytes (reads of ``READ_CHUNK``, so credits stay modest)."""
        if offset < 0 or length < 0:
            raise ValueError("offset and length must not be negative")
        rel = paths.normalize(path)
        return self._with_path(rel, lambda wire: self._read_windows(wire, rel, offset, length))

    def _read_windows(self, wire: str, rel: str, offset: int, length: int) -> bytes:
        parts: list[bytes] = []
        position, end = offset, offset + length
        while True:
            want = min(READ_WINDOW, end - position)
            data = self._run(
                "read", functools.partial(self._read_compound, wire, rel, position, want)
            )
            parts.append(data)
            position += len(data)
            if len(data) < want or position >= end:
                return b"".join(parts)

    def _read_compound(self, wire: str, rel: str, offset: int, length: int) -> bytes:
        link = self._ensure()
        chunk = max(1, min(length, int(link.conn.max_read_size), READ_CHUNK))
        parts: list[bytes] = []
        opener = Open(link.tree, wire)
        create, _ = opener.create(
            ImpersonationLevel.Impersonation,
            _FILE_ACCESS,
            0,
            _SHARE_ALL,
            CreateDisposition.FILE_OPEN,
            CreateOptions.FILE_NON_DIRECTORY_FILE,
            send=False,
        )
        opener.file_id = RELATED
        reads: list[Any] = []
        position = offset
        while position < offset + length or not reads:
            size = min(chunk, offset + length - position)
            reads.append(opener.read(position, size, send=False)[0])
            position += size
            if size == 0:
                break
        close = SMB2CloseRequest()
        close["file_id"] = RELATED
        requests = self._send(link, [create, *reads, close])
        try:
            self._await(link, requests[0], rel)
        except (SourceError, _Dropped):
            self._settle(link, requests[1:])
            raise
        for request in requests[1:-1]:
            try:
                response = self._await(link, request, rel, _END_OF_FILE)
            except SourceError:
                self._settle(link, requests[-1:])
                raise
            if response is None:
                continue  # reading at or past the end of the file
            parts.append(_read_buffer(response))
        self._settle(link, requests[-1:])
        return b"".join(parts)

    def open(self, path: str) -> BinaryIO:
        """A seekable, read-only file object (buffered); the caller closes it."""
        from archive_analyzer.sources.smb_file import open_file

        rel = paths.normalize(path)
        return open_file(self, rel)


class _Fetcher:
    """The listing transport for ``smb_dir.walk`` on an ``SMBSource``."""

    def __init__(self, source: SMBSource) -> None:
        self._source = source
        self._pending = 0

    def submit(self, wire_path: str) -> object:
        query = _Query(wire_path)
        self._pending += 1
        try:
            self._source._submit_query(query)
        except _Dropped:
            query.requests = []  # sent again by ``result`` after reconnecting
        return query

    def result(self, ticket: object) -> list[RawEntry]:
        assert isinstance(ticket, _Query)
        self._pending -= 1
        rel = ticket.wire
        return self._source._run("list", lambda: self._source._collect_query(ticket, rel))

    def in_flight(self) -> int:
        return self._pending


@dataclass
class _WireTicket:
    """A folder query on the fast client; sent again if the client was replaced."""

    wire: str
    client: WireClient | None = None
    inner: Ticket | None = None


class _WireFetcher:
    """The listing transport for ``smb_dir.walk`` over ``smb_wire.WireClient``."""

    def __init__(self, source: SMBSource) -> None:
        self._source = source

    def submit(self, wire_path: str) -> object:
        ticket = _WireTicket(wire_path)
        client = self._source._wire_client
        if client is not None:
            try:
                ticket.inner = client.submit(wire_path)
                ticket.client = client
            except (ConnectionDropped, WireTimeout):
                self._source._drop_wire()  # ``result`` reconnects and sends it again
        return ticket

    def result(self, ticket: object) -> list[RawEntry]:
        assert isinstance(ticket, _WireTicket)
        source = self._source
        rel = ticket.wire.replace("\\", "/")
        return source._run(
            "list", lambda: source._wire_collect(ticket, rel), ensure=source._ensure_wire
        )

    def in_flight(self) -> int:
        client = self._source._wire_client
        if client is None:
            return 0
        try:
            return client.in_flight()
        except (ConnectionDropped, WireTimeout):
            self._source._drop_wire()
            return 0


def _query_buffer(response: Any) -> bytes:
    data: bytes = response["data"].get_value()
    # QUERY_DIRECTORY response: StructureSize(2), OutputBufferOffset(2, from the header),
    # OutputBufferLength(4), then the buffer.
    offset = int.from_bytes(data[2:4], "little") - 64
    length = int.from_bytes(data[4:8], "little")
    return data[offset : offset + length]


def _read_buffer(response: Any) -> bytes:
    data: bytes = response["data"].get_value()
    # READ response: StructureSize(2), DataOffset(1, from the header), Reserved(1),
    # DataLength(4), ...
    offset = data[2] - 64
    length = int.from_bytes(data[4:8], "little")
    return data[offset : offset + length]


def _quiet_disconnect(conn: Any) -> None:
    try:
        conn.disconnect(True)
    except Exception as exc:  # closing a dead connection may fail in many ways; none matter
        log.debug("ignoring disconnect error: %s", type(exc).__name__)
