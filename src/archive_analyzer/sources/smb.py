"""An SMB2/3 share as a source.

Directory listing goes through ``smb_wire.WireClient``, a lean listing-only SMB2/3 client
(related CREATE + QUERY_DIRECTORY x2 + CLOSE compounds, many folders in flight, buffers
parsed with ``struct``); when a server needs what it cannot do (encryption), the same
compounds go through smbprotocol (``smb_link``). Everything else (stat, reads) uses
smbprotocol's low-level API: files are read with related CREATE + READ + CLOSE compounds or
through a seekable file object (``smb_file``).

Faults: a dropped connection is retried up to 3 times, waiting 1 s, 2 s, 4 s (tenacity), then
``SourceUnavailable``; a missing file is ``FileVanished``; an answer slower than
``SMBOptions.timeout_s`` is ``SourceTimeout``. The password never leaves ``SMBCredentials``
except into the session setup.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import tenacity
from smbprotocol.header import NtStatus

from archive_analyzer import paths
from archive_analyzer.errors import FileVanished, SourceTimeout, SourceUnavailable
from archive_analyzer.sources.base import FileInfo
from archive_analyzer.sources.credentials import SMBCredentials, SMBOptions, resolve_credentials
from archive_analyzer.sources.smb_dir import RawEntry, walk
from archive_analyzer.sources.smb_file import open_file
from archive_analyzer.sources.smb_link import (
    READ_CHUNK,
    Dropped,
    FolderQuery,
    SMBLink,
    translate_status,
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

log = logging.getLogger(__name__)

T = TypeVar("T")

BACKOFF_S: tuple[float, ...] = (1.0, 2.0, 4.0)
READ_WINDOW = 8 * READ_CHUNK  # bytes per read compound: 8 READs, 128 credits


class SMBSource:
    """An SMB2/3 share (or a folder inside one).

    ``backoff`` are the waits before each reconnect attempt and ``sleep`` how to wait (tests
    inject both). ``fast_listing=False`` lists through smbprotocol only. ``stat``,
    ``read_partial`` and file objects may be used from several threads at once: they share one
    smbprotocol connection, (re)opened under a lock, whose sends smbprotocol serialises and
    whose answers it matches by message id. A listing belongs to the thread that iterates it
    (the fast listing client is not shared), and ``close``/``reconnect`` must not race reads.
    """

    def __init__(
        self,
        spec: SMBSpec,
        options: SMBOptions,
        *,
        backoff: Sequence[float] = BACKOFF_S,
        sleep: Callable[[float], None] = time.sleep,
        fast_listing: bool = True,
    ) -> None:
        self._spec = spec
        self._creds: SMBCredentials = resolve_credentials(spec.user, options)
        self._timeout = options.timeout_s
        self._in_flight = max(1, options.list_concurrency)
        self._backoff = tuple(backoff)
        self._sleep = sleep
        self._link: SMBLink | None = None
        self._link_lock = threading.RLock()
        self._wire_client: WireClient | None = None
        self._fast_listing = fast_listing
        self._connected_kinds: set[str] = set()
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
        with self._link_lock:
            link, self._link = self._link, None
        if link is not None:
            link.close()

    def reconnect(self) -> None:
        """Drop the connection and open a new one."""
        self.close()
        self.connect()

    def _ensure(self) -> SMBLink:
        """The live smbprotocol link, connecting (once, under a lock) when there is none."""
        link = self._link
        if link is not None and not link.dead:
            return link
        with self._link_lock:  # several prober threads may share this source's reads
            link = self._link
            if link is not None and not link.dead:
                return link
            if link is not None:
                link.close()
            self._link = None
            link = SMBLink.open(self._spec, self._creds, timeout=self._timeout, name=self.name)
            self._link = link
            self._log_connected("smbprotocol")
            return link

    def _log_connected(self, kind: str) -> None:
        if kind in self._connected_kinds:
            log.info("connected again to %s (%s)", self.name, kind)
        else:
            self._connected_kinds.add(kind)
            log.debug("connected to %s (%s)", self.name, kind)

    def _run(
        self, what: str, operation: Callable[[], T], ensure: Callable[[], object] | None = None
    ) -> T:
        """Run ``operation`` on a live connection (``ensure`` makes one; default the
        smbprotocol link); on a dropped connection reconnect and retry."""
        ensure = ensure or self._ensure
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(len(self._backoff) + 1),
            wait=lambda state: self._backoff[min(state.attempt_number, len(self._backoff)) - 1],
            retry=tenacity.retry_if_exception_type(Dropped),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    ensure()
                    return operation()
        except Dropped as exc:
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

    # --- the fast listing client -----------------------------------------------------------

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
            raise Dropped(f"tree connect to {spec.host} failed") from exc
        except (ConnectionDropped, WireTimeout) as exc:
            client.close()
            raise Dropped(f"cannot connect to {spec.host}:{spec.port}") from exc
        except UnsupportedServer:
            client.close()
            raise
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
            error = translate_status(exc.status, rel, self.name)
            if isinstance(error, Dropped):
                self._drop_wire()
            raise error from None
        except ConnectionDropped as exc:
            self._drop_wire()
            raise Dropped("connection lost while listing") from exc
        except WireTimeout:
            self._drop_wire()
            raise SourceTimeout(
                f"{self.name}: no answer within {self._timeout:g} s ({rel or '/'})"
            ) from None

    # --- paths -----------------------------------------------------------------------------

    def _wire(self, rel: str) -> str:
        """The server-side path (``\\``-separated, spelled as on the server) of ``rel``."""
        wire = self._wire_names.get(rel)
        if wire is not None:
            return wire
        base = self._spec.path
        full = paths.join(base, rel) if rel else base
        return full.replace("/", "\\")

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
        for entry in self._query(FolderQuery(parent_wire), rel):
            if unicodedata.normalize("NFC", entry.name) == name:
                wire = f"{parent_wire}\\{entry.name}" if parent_wire else entry.name
                if wire != self._wire(rel):
                    self._wire_names[rel] = wire
                return wire
        raise FileVanished(f"no longer exists: {rel}")

    def _query(self, query: FolderQuery, rel: str) -> list[RawEntry]:
        return self._run("list", lambda: self._ensure().collect(query, rel))

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

    def _listing_fetcher(self) -> _LinkFetcher | _WireFetcher:
        """The fast listing client when the server allows it, else smbprotocol's compounds."""
        if self._fast_listing:
            try:
                self._run("connect", lambda: None, ensure=self._ensure_wire)
                return _WireFetcher(self)
            except UnsupportedServer as exc:
                log.info("listing %s through smbprotocol: %s", self.name, exc)
                self._fast_listing = False
        self._run("connect", lambda: None)
        return _LinkFetcher(self)

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
        for entry in self._query(FolderQuery(parent_wire, pattern), rel):
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
            data = self._run("read", functools.partial(self._read_once, wire, rel, position, want))
            parts.append(data)
            position += len(data)
            if len(data) < want or position >= end:
                return b"".join(parts)

    def _read_once(self, wire: str, rel: str, offset: int, length: int) -> bytes:
        return self._ensure().read(wire, rel, offset, length)

    def open(self, path: str) -> BinaryIO:
        """A seekable, read-only file object (buffered); the caller closes it."""
        rel = paths.normalize(path)
        return open_file(self, rel)

    def local_path(self, path: str) -> Path | None:
        """None: a share's files have no path on this machine."""
        return None


class _LinkFetcher:
    """The listing transport for ``smb_dir.walk`` through smbprotocol (``SMBLink``)."""

    def __init__(self, source: SMBSource) -> None:
        self._source = source
        self._pending = 0

    def submit(self, wire_path: str) -> object:
        query = FolderQuery(wire_path)
        self._pending += 1
        try:
            self._source._ensure().submit(query)
        except Dropped:
            query.requests = []  # sent again by ``result`` after reconnecting
        return query

    def result(self, ticket: object) -> list[RawEntry]:
        assert isinstance(ticket, FolderQuery)
        self._pending -= 1
        return self._source._query(ticket, ticket.wire.replace("\\", "/"))

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
