"""An SMB2/3 share as a source.

Two lean SMB2/3 clients of our own carry the traffic (see docs/sources.md for why and for
the measurements): ``smb_wire.WireClient`` lists folders (related CREATE + QUERY_DIRECTORY x2
+ CLOSE compounds, many folders in flight, buffers parsed with ``struct``), and
``smb_conn.Connection`` (up to ``smb_read_connections`` of them, readers spread over them,
each shared by every thread) carries stats, ``read_partial`` and the file readers
(``smb_reader.SMBReader``: one CREATE per open file, pipelined READs, read-ahead for
sequential readers). When a server needs what they cannot do (Kerberos only, an unknown
signing algorithm or cipher), the same work goes through smbprotocol (``smb_link``), slower
but complete.

Faults: a dropped connection is retried up to 3 times, waiting 1 s, 2 s, 4 s (tenacity), then
``SourceUnavailable``; a missing file is ``FileVanished``; an answer slower than
``SMBOptions.timeout_s`` is ``SourceTimeout``. The password never leaves ``SMBCredentials``
except into the session setup.
"""

from __future__ import annotations

import functools
import io
import logging
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast

import tenacity

from archive_analyzer import paths
from archive_analyzer.errors import FileVanished, SourceError, SourceTimeout, SourceUnavailable
from archive_analyzer.sources.base import FileInfo, FileReader
from archive_analyzer.sources.changes import ChangeSink, ChangeWatch, Completion
from archive_analyzer.sources.credentials import SMBCredentials, SMBOptions, resolve_credentials
from archive_analyzer.sources.rangefile import ReaderIO
from archive_analyzer.sources.smb_conn import BufferPool, Connection, Request
from archive_analyzer.sources.smb_dir import (
    FILE_ID_FULL_DIRECTORY_INFORMATION,
    RawEntry,
    parse_id_full_directory,
    walk,
)
from archive_analyzer.sources.smb_link import READ_CHUNK, FolderQuery, SMBLink
from archive_analyzer.sources.smb_notify import (
    SMBWatch,
    WatchOptions,
    share_mode_states,
    share_mode_states_lean,
)
from archive_analyzer.sources.smb_proto import (
    CLOSE,
    CREATE,
    FILE_DIRECTORY_FILE,
    FILE_LIST_DIRECTORY,
    FILE_NON_DIRECTORY_FILE,
    FILE_READ_ATTRIBUTES,
    FILE_READ_DATA,
    QUERY_DIRECTORY,
    READ,
    RELATED_FILE,
    STATUS_BAD_NETWORK_NAME,
    STATUS_NO_MORE_FILES,
    STATUS_SUCCESS,
    ConnectionDropped,
    LoginFailed,
    StatusError,
    UnsupportedServer,
    WireTimeout,
    close_body,
    create_body,
    credit_charge,
    query_directory_body,
    query_payload,
    read_body,
)
from archive_analyzer.sources.smb_reader import ReadOptions, SMBReader, wire_errors
from archive_analyzer.sources.smb_status import (
    STATUS_END_OF_FILE,
    STATUS_NO_SUCH_FILE,
    Dropped,
    translate_status,
)
from archive_analyzer.sources.smb_wire import Ticket, WireClient
from archive_analyzer.sources.url import SMBSpec

log = logging.getLogger(__name__)

T = TypeVar("T")

BACKOFF_S: tuple[float, ...] = (1.0, 2.0, 4.0)
READ_WINDOW = 8 * READ_CHUNK  # bytes per read compound: 8 READs, 128 credits
FILE_BUFFER = 64 * 1024  # ``open``'s buffer; bigger reads go straight to the reader
STAT_BUFFER = 4096  # one entry's FileIdFullDirectoryInformation, with room for a long name
FOLDER_BUFFER = 65536  # one credit per query, as the listing


class SMBSource:
    """An SMB2/3 share (or a folder inside one).

    ``backoff`` are the waits before each reconnect attempt and ``sleep`` how to wait (tests
    inject both). ``fast_listing=False`` lists through smbprotocol; ``lean=False`` also
    stats, reads and checks uploads through it (the fallback path, run by the contract suite);
    ``watch_options`` tune the change notification watch (``smb_notify``; tests shrink its
    buffer). ``stat``, ``read_partial`` and readers may be used from several threads at once:
    they share one connection, (re)opened under a lock, that pipelines their requests and
    matches the answers by message id (a reader itself belongs to one thread at a time). A listing
    belongs to the thread that iterates it (the listing client is not shared), and
    ``close``/``reconnect`` must not race reads.
    """

    def __init__(
        self,
        spec: SMBSpec,
        options: SMBOptions,
        *,
        backoff: Sequence[float] = BACKOFF_S,
        sleep: Callable[[float], None] = time.sleep,
        fast_listing: bool = True,
        lean: bool = True,
        clock: Callable[[], float] = time.monotonic,
        watch_options: WatchOptions | None = None,
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
        self._lean = lean
        self._conns: list[Connection | None] = [None] * options.read_connections
        self._slot_load = [0] * options.read_connections  # open readers per connection
        self._buffers = BufferPool()  # receive buffers, shared by the reading connections
        self._clock = clock
        self._read_options = ReadOptions(
            chunk=options.read_chunk_kib * 1024,
            window=options.read_window,
            recheck_s=options.recheck_s,
        )
        self._require_signing = options.signing == "required"
        self._readers: set[SMBReader] = set()
        self._readers_lock = threading.Lock()
        self._connected_kinds: set[str] = set()
        self._wire_names: dict[str, str] = {}
        self._watch_options = watch_options

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
        """Disconnect (idempotent); readers still open fail with ``SourceUnavailable`` or
        reconnect on their next read."""
        self._drop_wire()
        with self._link_lock:
            link, self._link = self._link, None
            conns, self._conns = self._conns, [None] * len(self._conns)
        if link is not None:
            link.close()
        for conn in conns:
            if conn is not None:
                conn.close()

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

    # --- the lean connection for stats and reads -------------------------------------------

    @property
    def _conn(self) -> Connection | None:
        """The first reading connection (stats and ``read_partial`` use it)."""
        return self._conns[0]

    def _ensure_conn(self, slot: int = 0) -> Connection:
        """The live lean connection of ``slot``, logging in (once, under a lock) when there
        is none. Raises ``Dropped`` (worth retrying), ``SourceUnavailable`` (login refused,
        no share) or ``UnsupportedServer`` (use smbprotocol instead)."""
        conn = self._conns[slot]
        if conn is not None and conn.alive:
            return conn
        with self._link_lock:
            conn = self._conns[slot]
            if conn is not None and conn.alive:
                return conn
            self._conns[slot] = None
            spec, creds = self._spec, self._creds
            try:
                conn = Connection.open(
                    spec.host,
                    spec.port,
                    spec.share,
                    user=creds.user,
                    password=creds.password.get_secret_value(),
                    domain=creds.domain,
                    timeout=self._timeout,
                    require_signing=self._require_signing,
                    name=self.name if not slot else f"{self.name} #{slot + 1}",
                    pool=self._buffers,
                )
            except LoginFailed:
                raise SourceUnavailable(
                    f"SMB login to {self.name} failed: wrong user or password"
                ) from None
            except StatusError as exc:
                if exc.status == STATUS_BAD_NETWORK_NAME:
                    raise SourceUnavailable(f"no share {spec.share!r} on {spec.host}") from None
                raise Dropped(f"tree connect to {spec.host} failed") from exc
            except (ConnectionDropped, WireTimeout) as exc:
                raise Dropped(f"cannot connect to {spec.host}:{spec.port}") from exc
            self._conns[slot] = conn
            self._log_connected(f"reads #{slot + 1}, {conn.describe()}")
            return conn

    def run(self, what: str, operation: Callable[[Connection], T], slot: int = 0) -> T:
        """``operation`` on the live lean connection of ``slot``, reconnecting and running it
        again after a drop (what readers do through their ``smb_reader.Link``)."""
        live: list[Connection] = []

        def ensure() -> None:
            live[:] = [self._ensure_conn(slot)]

        return self._run(what, lambda: operation(live[0]), ensure=ensure)

    def _use_lean(self) -> bool:
        """Whether stats and reads go through the lean connection (connecting to find out):
        False for ``lean=False`` or a server it cannot serve (then smbprotocol, logged)."""
        if not self._lean:
            return False
        if self._conn is not None and self._conn.alive:
            return True
        try:
            self._run("connect", lambda: None, ensure=self._ensure_conn)
        except UnsupportedServer as exc:
            log.info("reading %s through smbprotocol: %s", self.name, exc)
            self._lean = False
            return False
        return True

    def _lean_call(self, conn: Connection, requests: list[Request], rel: str) -> list[Any]:
        """Send a related compound and wait for every answer (errors become ``Dropped`` or
        ``SourceTimeout``; statuses are the caller's)."""
        with wire_errors(self.name, self._timeout, rel or "/"):
            replies = conn.send(requests, related=True)
            for reply in replies:
                conn.wait(reply)
        return replies

    def reader_memory(self) -> tuple[int, int]:
        """(open readers, bytes they hold now): the memory file reading costs right now."""
        with self._readers_lock:
            return len(self._readers), sum(r.held for r in self._readers)

    def _take_slot(self) -> int:
        """The reading connection with the fewest open readers (the first on a tie): one
        smbd process serves one connection, so concurrent streams spread over several."""
        with self._readers_lock:
            slot = min(range(len(self._slot_load)), key=lambda i: (self._slot_load[i], i))
            self._slot_load[slot] += 1
            return slot

    def _forget_reader(self, reader: SMBReader, slot: int) -> None:
        with self._readers_lock:
            if reader in self._readers:
                self._readers.discard(reader)
                self._slot_load[slot] -= 1

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
            if exc.status == STATUS_BAD_NETWORK_NAME:
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
        for entry in self._folder(parent_wire, "*", rel):
            if unicodedata.normalize("NFC", entry.name) == name:
                wire = f"{parent_wire}\\{entry.name}" if parent_wire else entry.name
                if wire != self._wire(rel):
                    self._wire_names[rel] = wire
                return wire
        raise FileVanished(f"no longer exists: {rel}")

    def _query(self, query: FolderQuery, rel: str) -> list[RawEntry]:
        return self._run("list", lambda: self._ensure().collect(query, rel))

    def _folder(self, wire: str, pattern: str, rel: str) -> list[RawEntry]:
        """One folder's entries matching ``pattern``, on the reading connection when it can
        (smbprotocol otherwise)."""
        if self._use_lean():
            return self.run("list", lambda conn: self._folder_lean(conn, wire, pattern, rel))
        return self._query(FolderQuery(wire, pattern), rel)

    def _folder_lean(self, conn: Connection, wire: str, pattern: str, rel: str) -> list[RawEntry]:
        """CREATE + QUERY_DIRECTORY x2 + CLOSE in one round trip, as the listing does; a
        folder bigger than two answers is paged on a handle of its own."""
        create = create_body(
            wire, access=FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES, options=FILE_DIRECTORY_FILE
        )
        query = query_directory_body(
            RELATED_FILE, FILE_ID_FULL_DIRECTORY_INFORMATION, pattern, FOLDER_BUFFER
        )
        charge = credit_charge(FOLDER_BUFFER)
        opened, first, second, _closed = self._lean_call(
            conn,
            [
                Request(CREATE, create),
                Request(QUERY_DIRECTORY, query, charge),
                Request(QUERY_DIRECTORY, query, charge),
                Request(CLOSE, close_body(RELATED_FILE)),
            ],
            rel,
        )
        if opened.status != STATUS_SUCCESS:
            raise translate_status(opened.status, rel, self.name)
        entries: list[RawEntry] = []
        for answer in (first, second):
            if answer.status in (STATUS_NO_MORE_FILES, STATUS_NO_SUCH_FILE):
                return entries
            if answer.status != STATUS_SUCCESS:
                raise translate_status(answer.status, rel, self.name)
            entries.extend(parse_id_full_directory(query_payload(answer.body)))
        return self._page_lean(conn, wire, pattern, rel)

    def _page_lean(self, conn: Connection, wire: str, pattern: str, rel: str) -> list[RawEntry]:
        create = create_body(
            wire, access=FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES, options=FILE_DIRECTORY_FILE
        )
        (opened,) = self._lean_call(conn, [Request(CREATE, create)], rel)
        if opened.status != STATUS_SUCCESS:
            raise translate_status(opened.status, rel, self.name)
        handle = bytes(opened.body[64:80])
        entries: list[RawEntry] = []
        try:
            while True:
                query = query_directory_body(
                    handle, FILE_ID_FULL_DIRECTORY_INFORMATION, pattern, FOLDER_BUFFER
                )
                (answer,) = self._lean_call(
                    conn, [Request(QUERY_DIRECTORY, query, credit_charge(FOLDER_BUFFER))], rel
                )
                if answer.status in (STATUS_NO_MORE_FILES, STATUS_NO_SUCH_FILE):
                    return entries
                if answer.status != STATUS_SUCCESS:
                    raise translate_status(answer.status, rel, self.name)
                entries.extend(parse_id_full_directory(query_payload(answer.body)))
        finally:
            if conn.alive:
                conn.abandon(conn.send([Request(CLOSE, close_body(handle))]))

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
        if pattern != "*" and self._use_lean():
            entries = self.run(
                "stat", lambda conn: self._stat_lean(conn, parent_wire, pattern, rel)
            )
        else:  # a name the server would read as a pattern: list the folder
            entries = self._folder(parent_wire, pattern, rel)
        for entry in entries:
            if entry.name == wire_name or (
                pattern != "*" and entry.name.lower() == wire_name.lower()
            ):
                return entry.info(rel)
        raise FileVanished(f"no longer exists: {rel}")

    def _stat_lean(self, conn: Connection, parent_wire: str, name: str, rel: str) -> list[RawEntry]:
        """The parent folder's entry for ``name``: CREATE + QUERY_DIRECTORY + CLOSE, one
        round trip (the same FileIdFullDirectoryInformation fields as the listing)."""
        create = create_body(
            parent_wire,
            access=FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES,
            options=FILE_DIRECTORY_FILE,
        )
        query = query_directory_body(
            RELATED_FILE, FILE_ID_FULL_DIRECTORY_INFORMATION, name, STAT_BUFFER
        )
        opened, answer, _closed = self._lean_call(
            conn,
            [
                Request(CREATE, create),
                Request(QUERY_DIRECTORY, query),
                Request(CLOSE, close_body(RELATED_FILE)),
            ],
            rel,
        )
        if opened.status != STATUS_SUCCESS:
            raise translate_status(opened.status, rel, self.name)
        if answer.status in (STATUS_NO_MORE_FILES, STATUS_NO_SUCH_FILE):  # no such name
            return []
        if answer.status != STATUS_SUCCESS:
            raise translate_status(answer.status, rel, self.name)
        return parse_id_full_directory(query_payload(answer.body))

    def read_partial(self, path: str, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset``: one related CREATE + READ... + CLOSE round
        trip per ``READ_WINDOW`` bytes (reads of ``READ_CHUNK``), no handle kept."""
        if offset < 0 or length < 0:
            raise ValueError("offset and length must not be negative")
        rel = paths.normalize(path)
        return self._with_path(rel, lambda wire: self._read_windows(wire, rel, offset, length))

    def _read_windows(self, wire: str, rel: str, offset: int, length: int) -> bytes:
        lean = self._use_lean()
        parts: list[bytes] = []
        position, end = offset, offset + length
        while True:
            want = min(READ_WINDOW, end - position)
            if lean:
                data = self.run(
                    "read",
                    functools.partial(
                        self._read_lean, wire=wire, rel=rel, offset=position, length=want
                    ),
                )
            else:
                data = self._run(
                    "read", functools.partial(self._read_once, wire, rel, position, want)
                )
            parts.append(data)
            position += len(data)
            if len(data) < want or position >= end:
                return b"".join(parts)

    def _read_once(self, wire: str, rel: str, offset: int, length: int) -> bytes:
        return self._ensure().read(wire, rel, offset, length)

    def _read_lean(
        self, conn: Connection, *, wire: str, rel: str, offset: int, length: int
    ) -> bytes:
        chunk = max(4096, min(READ_CHUNK, conn.max_read))
        requests = [
            Request(
                CREATE,
                create_body(
                    wire,
                    access=FILE_READ_DATA | FILE_READ_ATTRIBUTES,
                    options=FILE_NON_DIRECTORY_FILE,
                ),
            )
        ]
        sizes: list[int] = []
        position = offset
        while position < offset + length or not sizes:
            size = min(chunk, offset + length - position)
            requests.append(
                Request(READ, read_body(RELATED_FILE, position, size), credit_charge(size))
            )
            sizes.append(size)
            position += size
            if size == 0:
                break
        requests.append(Request(CLOSE, close_body(RELATED_FILE)))
        replies = self._lean_call(conn, requests, rel)
        if replies[0].status != STATUS_SUCCESS:
            raise translate_status(replies[0].status, rel, self.name)
        parts: list[bytes] = []
        for reply, size in zip(replies[1:-1], sizes, strict=True):
            if reply.status == STATUS_END_OF_FILE:
                break
            if reply.status != STATUS_SUCCESS:
                raise translate_status(reply.status, rel, self.name)
            data = reply.data()
            parts.append(bytes(data))
            if len(data) < size:
                break
        return b"".join(parts)

    def open(self, path: str) -> BinaryIO:
        """A seekable, read-only file object (buffered) over ``open_reader``: random reads
        read just what is asked, sequential ones read ahead. The caller closes it."""
        reader = self.open_reader(path)
        try:
            size = reader.info.size  # opens now: a missing file raises here
            if reader.info.is_dir:
                raise SourceError(f"is a folder, not a file: {paths.normalize(path)}")
        except BaseException:
            reader.close()
            raise
        raw = ReaderIO(reader, size, paths.normalize(path))
        return cast(BinaryIO, io.BufferedReader(raw, buffer_size=FILE_BUFFER))

    def open_reader(self, path: str, *, expect: FileInfo | None = None) -> FileReader:
        """A ``FileReader`` (see ``smb_reader``); opened lazily, on the first read or
        ``info``. Through smbprotocol (``lean=False`` or a server the lean client cannot
        serve) reads are CREATE + READ + CLOSE compounds, slower but complete."""
        rel = paths.normalize(path)
        if not self._use_lean():
            from archive_analyzer.sources.rangefile import PartialReader

            return PartialReader(self, rel, expect=expect)
        slot = self._take_slot()
        reader = SMBReader(
            _SlotLink(self, slot),
            self._wire(rel),
            rel,
            self._read_options,
            expect=expect,
            resolve=(lambda: self._resolve(rel)) if rel else None,
            clock=self._clock,
            on_close=lambda done: self._forget_reader(done, slot),
        )
        with self._readers_lock:
            self._readers.add(reader)
        return reader

    # --- change notifications and upload completion (sources/changes.py) -------------------

    def watch_changes(self, sink: ChangeSink) -> ChangeWatch:
        """Watch the whole tree with SMB2 CHANGE_NOTIFY on a connection of its own
        (``smb_notify.SMBWatch``)."""
        options = self._watch_options or WatchOptions(timeout_s=self._timeout)
        return SMBWatch.start(
            self._spec, self._creds, self._wire(""), sink, name=self.name, options=options
        )

    def upload_states(self, files: Sequence[str]) -> dict[str, Completion]:
        """Whether each file is still held open by a writer: the deny-writers open of
        ``smb_notify`` (closed in the same compound), on the lean connection when it can."""
        items = [(rel, self._wire(rel)) for rel in (paths.normalize(f) for f in files)]
        found = self._check_states(items)
        for rel, wire in items:
            if found.get(rel) is not Completion.GONE:
                continue
            try:  # maybe spelled differently on the server (NFD): look it up, ask once more
                spelled = self._resolve(rel)
            except FileVanished:
                continue
            if spelled != wire:
                found[rel] = self._check_states([(rel, spelled)])[rel]
        return found

    def _check_states(self, items: list[tuple[str, str]]) -> dict[str, Completion]:
        if self._use_lean():
            return self.run(
                "check",
                lambda conn: share_mode_states_lean(
                    conn, items, source_name=self.name, timeout_s=self._timeout
                ),
            )
        return self._run("check", lambda: share_mode_states(self._ensure(), items))

    def local_path(self, path: str) -> Path | None:
        """None: a share's files have no path on this machine."""
        return None


@dataclass(frozen=True)
class _SlotLink:
    """A reader's way to its reading connection (``smb_reader.Link``)."""

    source: SMBSource
    slot: int

    @property
    def name(self) -> str:
        return self.source.name

    def run(self, what: str, operation: Callable[[Connection], T]) -> T:
        return self.source.run(what, operation, self.slot)


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
