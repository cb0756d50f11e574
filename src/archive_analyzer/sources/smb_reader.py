"""An open file on an SMB share, read with pipelined READs (the ``FileReader`` of SMBSource).

One CREATE per open file (lazily: the first random read goes in the same round trip as a
related CREATE + READ compound), then READs of up to ``chunk`` bytes (1 MiB, capped by the
server's ``max_read``) on the shared ``smb_conn.Connection``:

- ``read_at`` (probes, seeks) sends exactly the READs that cover the range, all at once,
  and reads nothing ahead.
- ``chunks`` (streams, hashing, ffmpeg input) keeps up to ``window`` READs in flight ahead of
  the consumer. The first READ is 256 KiB (the first byte comes soon; a consumer that only
  peeks, like ffmpeg probing a container, wastes little); the window starts at 1, doubles
  each time the consumer has to wait for data and shrinks by one whenever everything read
  ahead has arrived and is still waiting, so a slow consumer (a player at its bitrate) holds
  about two chunks and a fast one (a hash, a copy) the whole window. Memory per reader is at
  most ``(window + 1) x chunk`` and is reported in ``stats``.

Versions: the first open records the file's size, mtime and on-disk id (the ``QFid`` create
context, the listing's file id); every reopen, and a path check sent every ``recheck_s`` s
alongside the reads (a related CREATE + CLOSE by path, answered before any data read after
it is handed out), must find the same, else ``FileChanged``; a path that is gone gives
``FileVanished``. Once raised, the reader keeps raising the same error.

Faults: operations run through ``Link.run``, which reconnects with back-off on ``Dropped``
and runs the operation again; the reader then reopens the file on the new connection, checks
it is the same version and continues at the same offset. A reply not answered in time is
``SourceTimeout`` (the connection is killed; no thread waits without a limit). The handle is
closed on every path: ``close``, or the server when the connection goes.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

from archive_analyzer.errors import FileChanged, FileVanished, SourceError, SourceTimeout
from archive_analyzer.sources.base import CHUNK, FileInfo, ReaderBase, ReadStats, same_version
from archive_analyzer.sources.smb_conn import Connection, Reply, Request
from archive_analyzer.sources.smb_proto import (
    CLOSE,
    CREATE,
    FILE_NON_DIRECTORY_FILE,
    FILE_READ_ATTRIBUTES,
    FILE_READ_DATA,
    READ,
    RELATED_FILE,
    STATUS_SUCCESS,
    ConnectionDropped,
    Created,
    WireTimeout,
    close_body,
    create_body,
    credit_charge,
    parse_create,
    read_body,
)
from archive_analyzer.sources.smb_status import (
    STATUS_END_OF_FILE,
    STATUS_FILE_CLOSED,
    VANISHED,
    Dropped,
    translate_status,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

START_WINDOW = 1
FIRST_READ = 256 * 1024  # a stream's first READ: quick to the first byte, little waste on a seek
_MTIME_SLACK = 1e-6


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How SMB files are read: ``chunk`` bytes per READ (capped by the server's max read),
    up to ``window`` READs in flight per sequential reader, a path check every
    ``recheck_s`` seconds while reading (0: before every batch of reads; None: never)."""

    chunk: int = CHUNK
    window: int = 8
    recheck_s: float | None = 2.0


class Link(Protocol):
    """What a reader needs from its source: a live connection with retries."""

    @property
    def name(self) -> str: ...

    def run(self, what: str, operation: Callable[[Connection], T]) -> T:
        """``operation`` on a live connection; on ``Dropped`` reconnect (with back-off) and
        run it again; ``SourceUnavailable`` when the retries are spent."""
        ...


class _Respelled(Exception):
    """The file is on the server under another spelling of its name; open it again."""


@dataclass(slots=True)
class _Pending:
    """One READ of a sequential stream, in flight or answered and not yet handed out."""

    offset: int
    length: int
    reply: Reply
    seq: int


@contextlib.contextmanager
def wire_errors(name: str, timeout: float, rel: str) -> Iterator[None]:
    """A request's wire failures as the source's: a dropped connection is ``Dropped`` (the
    caller reconnects and retries), no answer in time ``SourceTimeout``."""
    try:
        yield
    except ConnectionDropped as exc:
        raise Dropped(str(exc)) from exc
    except WireTimeout:
        raise SourceTimeout(f"{name}: no answer within {timeout:g} s ({rel})") from None


class SMBReader(ReaderBase):
    """A ``FileReader`` over one file of an SMB share (see the module docstring)."""

    def __init__(
        self,
        link: Link,
        wire: str,
        rel: str,
        options: ReadOptions,
        *,
        expect: FileInfo | None = None,
        resolve: Callable[[], str | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_close: Callable[[SMBReader], None] | None = None,
    ) -> None:
        self._link = link
        self._wire = wire
        self._rel = rel
        self._options = options
        self._expect = expect
        self._resolve = resolve
        self._clock = clock
        self._on_close = on_close
        self._conn: Connection | None = None
        self._handle: bytes | None = None
        self._identity: Created | None = None
        self._info: FileInfo | None = None
        self._stats = ReadStats()
        self._held = 0
        self._failure: SourceError | None = None
        self._closed = False
        self._seq = 0
        self._check: tuple[Reply, Reply, int, Connection] | None = None
        self._checked_at = 0.0

    def __repr__(self) -> str:
        return f"SMBReader({self._link.name!r}, {self._rel!r})"

    @property
    def held(self) -> int:
        """Bytes this reader holds right now (in flight or unconsumed, plus the last chunk)."""
        return self._held

    @property
    def info(self) -> FileInfo:
        if self._info is None:
            self._run("open", self._ensure)
        assert self._info is not None
        return self._info

    # --- opening ---------------------------------------------------------------------------

    def _run(self, what: str, operation: Callable[[Connection], T]) -> T:
        if self._failure is not None:
            raise self._failure
        if self._closed:
            raise SourceError(f"read from a closed file: {self._rel}")
        try:
            try:
                return self._link.run(what, operation)
            except _Respelled:  # found under the server's spelling (NFD): open that now
                return self._link.run(what, operation)
        except (FileVanished, FileChanged) as exc:
            self._failure = exc
            self._release()
            raise

    def _ensure(self, conn: Connection) -> bytes:
        """The handle on ``conn``, opening (or reopening after a reconnect) as needed."""
        if self._conn is conn and self._handle is not None:
            return self._handle
        reply = self._send(conn, [self._create_request()])[0]
        self._wait(conn, reply)
        return self._opened(conn, reply)

    def _create_request(self) -> Request:
        return Request(
            CREATE,
            create_body(
                self._wire,
                access=FILE_READ_DATA | FILE_READ_ATTRIBUTES,
                options=FILE_NON_DIRECTORY_FILE,
                query_file_id=True,
            ),
        )

    def _opened(self, conn: Connection, reply: Reply) -> bytes:
        """Record the handle a successful CREATE answered; check it is the right version."""
        created = parse_create(reply.body)
        self._stats.opens += 1
        if self._identity is None:
            self._identity = created
            self._info = FileInfo(
                path=self._rel,
                size=created.size,
                mtime=created.mtime,
                file_id=created.disk_id,
                is_dir=created.is_dir,
            )
            self._checked_at = self._clock()
            expect = self._expect
            if expect is not None and not same_version(self._info, expect):
                self._close_handle(conn, created.file_id)
                raise FileChanged(
                    f"{self._rel} is not the expected version (size {created.size}, "
                    f"expected {expect.size})"
                )
        elif not _same(created, self._identity):
            self._close_handle(conn, created.file_id)
            raise FileChanged(f"{self._rel} changed while it was read")
        self._conn, self._handle = conn, created.file_id
        return created.file_id

    def _create_failed(self, status: int) -> Exception:
        """The error for a CREATE that failed; tries a differently spelled name (NFD) once
        when the file is not found at first open."""
        if status in VANISHED and self._identity is None and self._resolve is not None:
            resolve, self._resolve = self._resolve, None
            try:
                wire = resolve()
            except FileVanished:
                wire = None
            if wire is not None and wire != self._wire:
                self._wire = wire
                return _Respelled(wire)
        return translate_status(status, self._rel, self._link.name)

    # --- random reads ----------------------------------------------------------------------

    def read_at(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError("offset and length must not be negative")
        if length == 0:
            return b""
        return self._run("read", lambda conn: self._read_at(conn, offset, length))

    def _read_at(self, conn: Connection, offset: int, length: int) -> bytes:
        size = self._read_size(conn)
        if self._info is not None and offset >= self._info.size:
            return b""
        if self._info is not None:
            length = min(length, self._info.size - offset)
        pieces = [(o, min(size, offset + length - o)) for o in range(offset, offset + length, size)]
        self._due_check(conn)
        first_open = self._conn is not conn or self._handle is None
        if first_open and self._identity is None:
            # the first read goes with the CREATE: one round trip, as before there was a handle
            requests = [self._create_request()]
            requests += [
                Request(READ, read_body(RELATED_FILE, o, n), credit_charge(n)) for o, n in pieces
            ]
            replies = self._send(conn, requests, related=True)
            create, reads = replies[0], replies[1:]
            try:
                self._wait(conn, create)
                self._opened(conn, create)
            except BaseException:
                conn.abandon(reads)
                raise
        else:
            handle = self._ensure(conn)
            reads = self._send(
                conn, [Request(READ, read_body(handle, o, n), credit_charge(n)) for o, n in pieces]
            )
        self._seq += 1
        seq = self._seq
        parts: list[bytes] = []
        try:
            for index, reply in enumerate(reads):
                self._wait(conn, reply, allow=(STATUS_END_OF_FILE,))
                if reply.status == STATUS_END_OF_FILE:
                    conn.abandon(reads[index + 1 :])
                    break
                data = reply.data()
                self._stats.bytes_read += len(data)
                parts.append(bytes(data))
                if len(data) < pieces[index][1]:
                    conn.abandon(reads[index + 1 :])
                    break
        except BaseException:
            conn.abandon(reads)
            raise
        self._stats.requests += len(reads)
        self._settle_check(conn, seq)
        return b"".join(parts)

    def _read_size(self, conn: Connection) -> int:
        return max(4096, min(self._options.chunk, conn.max_read))

    # --- sequential reads ------------------------------------------------------------------

    def chunks(
        self,
        offset: int = 0,
        length: int | None = None,
        *,
        chunk: int = CHUNK,
        window: int | None = None,
    ) -> Iterator[memoryview]:
        if offset < 0 or (length is not None and length < 0):
            raise ValueError("offset and length must not be negative")
        size = self.info.size
        end = size if length is None else min(size, offset + length)
        limit = self._options.window if window is None else min(window, self._options.window)
        stream = _Stream(self, offset, end, chunk, max(1, limit))
        try:
            while stream.pos < end:
                yield self._run("read", stream.next)
        finally:
            stream.stop()

    # --- version checks --------------------------------------------------------------------

    def _due_check(self, conn: Connection) -> None:
        """Send a path check if one is due (it is answered alongside the reads)."""
        every = self._options.recheck_s
        if every is None or self._check is not None or self._identity is None:
            return
        if self._clock() - self._checked_at < every:
            return
        create = Request(
            CREATE,
            create_body(self._wire, access=FILE_READ_ATTRIBUTES, options=0, query_file_id=True),
        )
        close = Request(CLOSE, close_body(RELATED_FILE))
        replies = self._send(conn, [create, close], related=True)
        conn.abandon(replies[1:])
        self._check = (replies[0], replies[1], self._seq, conn)

    def _settle_check(self, conn: Connection, seq: int) -> None:
        """Before handing out data whose READ was sent after the pending check (``seq``),
        wait for the check; evaluate it whenever it has been answered."""
        check = self._check
        if check is None:
            return
        create, _close, check_seq, check_conn = check
        if check_conn is not conn:
            self._check = None  # lost with its connection; the next one is sent soon
            return
        if not create.done and seq <= check_seq:
            return
        self._check = None
        self._wait(conn, create, allow=tuple(VANISHED))
        self._checked_at = self._clock()
        self._stats.checks += 1
        if create.status != STATUS_SUCCESS:
            raise FileVanished(f"no longer exists: {self._rel}")
        assert self._identity is not None
        if not _same(parse_create(create.body), self._identity):
            raise FileChanged(f"{self._rel} changed while it was read")

    # --- sending and waiting ---------------------------------------------------------------

    def _send(
        self, conn: Connection, requests: list[Request], *, related: bool = False
    ) -> list[Reply]:
        with wire_errors(self._link.name, conn.timeout, self._rel):
            return conn.send(requests, related=related)

    def _wait(self, conn: Connection, reply: Reply, allow: tuple[int, ...] = ()) -> Reply:
        with wire_errors(self._link.name, conn.timeout, self._rel):
            conn.wait(reply)
        status = reply.status
        if status == STATUS_SUCCESS or status in allow:
            return reply
        if reply.command == CREATE:
            raise self._create_failed(status)
        if status == STATUS_FILE_CLOSED:
            self._handle = None  # the server forgot the handle: reopen and read again
            raise Dropped("the server closed the file handle")
        error = translate_status(status, self._rel, self._link.name)
        if isinstance(error, Dropped):
            conn.kill(ConnectionDropped(str(error)))
        raise error

    # --- closing ---------------------------------------------------------------------------

    def _hold(self, delta: int) -> None:
        self._held += delta
        if self._held > self._stats.peak_buffered:
            self._stats.peak_buffered = self._held

    def _close_handle(self, conn: Connection, handle: bytes) -> None:
        if not conn.alive:
            return  # the server closed it with the connection
        # if the connection is going, the server closes the handle with it
        with contextlib.suppress(ConnectionDropped, WireTimeout):
            conn.abandon(conn.send([Request(CLOSE, close_body(handle))]))

    def _release(self) -> None:
        conn, handle = self._conn, self._handle
        self._conn = self._handle = None
        if self._check is not None:
            self._check[3].abandon(self._check[:2])
            self._check = None
        if conn is not None and handle is not None:
            self._close_handle(conn, handle)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._release()
        self._held = 0
        if self._on_close is not None:
            self._on_close(self)
        stats = self._stats
        log.debug(
            "closed %s: %d bytes in %d reads, %d open(s), peak %d bytes held, %d wasted",
            self._rel,
            stats.bytes_read,
            stats.requests,
            stats.opens,
            stats.peak_buffered,
            stats.wasted,
        )


class _Stream:
    """The read-ahead state of one ``chunks`` iteration."""

    def __init__(self, reader: SMBReader, offset: int, end: int, chunk: int, window: int) -> None:
        self.reader = reader
        self.window = window
        self.start = offset
        self.pos = offset
        self.sent = offset
        self.end = end
        self.chunk = chunk
        self.ahead = min(START_WINDOW, window)
        self.queue: deque[_Pending] = deque()
        self.conn: Connection | None = None
        self.handle = b""
        self.last = 0  # bytes of the chunk last handed out (still held by the consumer)

    def next(self, conn: Connection) -> memoryview:
        reader = self.reader
        reader._hold(-self.last)
        self.last = 0
        handle = reader._ensure(conn)
        if self.conn is not conn or self.handle != handle:
            self._drop_queue()  # a new connection or handle: reads start again at ``pos``
            self.conn, self.handle = conn, handle
        self._top_up(conn, handle)
        head = self.queue[0]
        waited = not head.reply.done
        # everything that may fail (and be retried on a new connection) comes before the
        # state moves on: a retry must hand out this same chunk, never skip it
        reader._wait(conn, head.reply, allow=(STATUS_END_OF_FILE,))
        reader._settle_check(conn, head.seq)
        data = head.reply.data() if head.reply.status == STATUS_SUCCESS else memoryview(b"")
        if len(data) < head.length:
            raise FileChanged(f"{reader._rel} is shorter than when it was opened")
        self.queue.popleft()
        if waited and self.pos > self.start and self.ahead < self.window:
            # the consumer caught up with the reads in flight (the first chunk always
            # waits, so it does not count): read further ahead
            self.ahead = min(self.window, self.ahead * 2)
        elif not waited and self.queue and self.queue[-1].reply.done:
            # every read ahead has arrived and waits for a slower consumer (a player at
            # its bitrate): hold less
            self.ahead = max(min(START_WINDOW, self.window), self.ahead - 1)
        reader._stats.bytes_read += len(data)
        self.pos += len(data)
        self.last = len(data)
        # keep the pipe full while the consumer works; if the connection is gone, the next
        # call reconnects and sends these again
        with contextlib.suppress(Dropped, SourceTimeout):
            self._top_up(conn, handle)
        return data

    def _top_up(self, conn: Connection, handle: bytes) -> None:
        reader = self.reader
        size = max(4096, min(self.chunk, reader._read_size(conn)))
        requests: list[Request] = []
        pieces: list[tuple[int, int]] = []
        sent = self.sent
        while len(self.queue) + len(requests) < self.ahead and sent < self.end:
            n = min(FIRST_READ if sent == self.start else size, self.end - sent)
            requests.append(Request(READ, read_body(handle, sent, n), credit_charge(n)))
            pieces.append((sent, n))
            sent += n
        if not requests:
            return
        reader._due_check(conn)
        replies = reader._send(conn, requests)
        self.sent = sent  # only once sent: the queue always covers ``pos`` to ``sent``
        reader._seq += 1
        reader._stats.requests += len(requests)
        for (offset, n), reply in zip(pieces, replies, strict=True):
            self.queue.append(_Pending(offset, n, reply, reader._seq))
            reader._hold(n)

    def _drop_queue(self) -> None:
        reader = self.reader
        if self.queue and self.conn is not None:
            self.conn.abandon([p.reply for p in self.queue])
        for pending in self.queue:
            reader._hold(-pending.length)
        self.queue.clear()
        self.sent = self.pos

    def stop(self) -> None:
        """The consumer is done (or gone): forget the reads still ahead."""
        reader = self.reader
        reader._stats.wasted += sum(p.length for p in self.queue)
        self._drop_queue()
        reader._hold(-self.last)
        self.last = 0


def _same(a: Created, b: Created) -> bool:
    if a.size != b.size or abs(a.mtime - b.mtime) > _MTIME_SLACK:
        return False
    return a.disk_id is None or b.disk_id is None or a.disk_id == b.disk_id
