"""One logged-in SMB2/3 connection shared by many threads: pipelined requests, a receive thread.

``Connection.send`` takes credits, numbers the requests, signs (or encrypts) them and writes
them; it returns one ``Reply`` per request at once, without waiting. A receive thread reads
every answer, checks its signature (or decrypts it), adds the credits it grants and hands it
to its ``Reply`` by message id; ``Connection.wait`` blocks on one reply with a time limit.
So any number of requests from any number of threads can be in flight on one socket: the
file reader (``smb_reader``) keeps several READs of up to ``max_read`` bytes outstanding per
open file.

Interim answers (``STATUS_PENDING``) keep their request pending and record its async id, so
long-running requests (CHANGE_NOTIFY) work too and can be cancelled (``cancel``). A reply
nobody wants any more is ``abandon``-ed: its answer is dropped on arrival.

Faults: a broken socket, a forged signature or nonsense fails every pending reply with
``ConnectionDropped`` and marks the connection dead; a reply not answered within the time
limit raises ``WireTimeout`` and kills the connection (its state is unknown), which ends the
receive thread. No thread ever waits without a limit.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from archive_analyzer.sources.smb_proto import (
    CANCEL,
    FLAG_ASYNC,
    FLAG_RELATED,
    FLAG_SIGNED,
    HEADER,
    STATUS_NETWORK_SESSION_EXPIRED,
    STATUS_PENDING,
    STATUS_USER_SESSION_DELETED,
    UNSOLICITED,
    ConnectionDropped,
    WireError,
    WireTimeout,
    header,
    read_payload,
)
from archive_analyzer.sources.smb_session import Session, login

log = logging.getLogger(__name__)

CREDIT_TARGET = 2048  # credits we try to hold (available + in flight): 128 READs of 1 MiB
_STAGE = 256 * 1024  # receive staging buffer; bigger frames are read straight into their own
_POOL_MIN = 128 * 1024  # frames this big are read into pooled buffers
POOL_BUFFERS = 16  # kept while idle: at most ~16 MiB with 1 MiB READs
_UNSIGNED_OK = frozenset({STATUS_USER_SESSION_DELETED, STATUS_NETWORK_SESSION_EXPIRED})


@dataclass(frozen=True, slots=True)
class Request:
    """One request: its command, its body (after the header) and its credit charge."""

    command: int
    body: bytes
    charge: int = 1


class Reply:
    """The answer to one request, filled in by the receive thread.

    After ``Connection.wait``: ``status`` is the NT status and ``body`` the answer after its
    64-byte header (a view into the received frame, no copy).
    """

    __slots__ = (
        "_event",
        "abandoned",
        "async_id",
        "callback",
        "charge",
        "command",
        "end",
        "error",
        "frame",
        "message_id",
        "start",
        "status",
    )

    def __init__(self, command: int, charge: int) -> None:
        self.command = command
        self.charge = charge
        self.message_id = -1
        self.status = -1
        self.frame: bytearray = bytearray()
        self.start = self.end = 0
        self.error: WireError | None = None
        self.async_id = 0
        self.abandoned = False
        self.callback: Callable[[Reply], None] | None = None
        self._event = threading.Event()

    @property
    def done(self) -> bool:
        """Whether the answer (or the connection's failure) has arrived."""
        return self._event.is_set()

    @property
    def body(self) -> memoryview:
        return memoryview(self.frame)[self.start + 64 : self.end]

    def data(self) -> memoryview:
        """The payload of a READ answer (a view, no copy)."""
        return read_payload(self.frame, self.start, self.end)

    def _finish(self) -> None:
        self._event.set()
        if self.callback is not None:
            try:
                self.callback(self)
            except Exception:  # a callback's bug must not kill the receive thread
                log.exception("reply callback failed")


class BufferPool:
    """Receive buffers for big answers (READ data), reused once nothing refers to them.

    A fresh 1 MiB buffer costs 256 page faults, about a third of the reader's CPU
    (measured); a pooled one none. A buffer is free when only the pool refers to it: every
    reply, and every view of its data a consumer still holds, keeps a reference, so a buffer
    is never overwritten while its bytes are in use. Thread-safe; one per source, shared by
    its connections. At most ``capacity`` buffers are kept.
    """

    def __init__(self, capacity: int = POOL_BUFFERS) -> None:
        self._buffers: list[bytearray] = []
        self._capacity = capacity
        self._lock = threading.Lock()

    def take(self, size: int) -> bytearray:
        """A buffer of at least ``size`` bytes (at most twice that), free or new."""
        with self._lock:
            buffers = self._buffers
            for index in range(len(buffers)):  # not enumerate: its tuple holds a reference
                buffer = buffers[index]
                # references: the pool's list, ``buffer``, getrefcount's argument
                if size <= len(buffer) <= 2 * size and sys.getrefcount(buffer) == 3:
                    return buffer
            buffer = bytearray(size)
            if len(buffers) < self._capacity:
                buffers.append(buffer)
            return buffer

    def __len__(self) -> int:
        return len(self._buffers)

    def ids(self) -> set[int]:
        """Identities of the pooled buffers (for tests)."""
        with self._lock:
            return {id(b) for b in self._buffers}


class Connection:
    """A logged-in share connection; ``send`` and ``wait`` may be called from any thread."""

    def __init__(
        self,
        session: Session,
        *,
        timeout: float,
        name: str = "",
        pool: BufferPool | None = None,
    ) -> None:
        self.session = session
        self.timeout = timeout
        self.name = name or f"{session.host}/{session.share}"
        self.max_read = session.max_read
        self._sock = session.sock
        self._sock.settimeout(timeout)
        self._signer = session.signer
        self._cipher = session.cipher
        self._large_mtu = session.large_mtu
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._next_id = session.next_id
        self._credits = session.credits
        self._outstanding = 0  # credits charged by requests not answered yet
        self._pending: dict[int, Reply] = {}
        self._error: WireError | None = None
        self._stage = bytearray(_STAGE)
        self._stage_view = memoryview(self._stage)
        self._stage_pos = self._stage_end = 0
        self.frames_received = 0
        self._pool = pool if pool is not None else BufferPool()
        self._thread = threading.Thread(
            target=self._receive_loop, name=f"smb-receive {self.name}", daemon=True
        )
        self._thread.start()

    @classmethod
    def open(
        cls,
        host: str,
        port: int,
        share: str,
        *,
        user: str,
        password: str,
        domain: str = "",
        timeout: float,
        require_signing: bool = True,
        name: str = "",
        pool: BufferPool | None = None,
    ) -> Connection:
        """Log in (see ``smb_session.login`` for the errors) and start receiving."""
        session = login(
            host,
            port,
            share,
            user=user,
            password=password,
            domain=domain,
            timeout=timeout,
            require_signing=require_signing,
        )
        return cls(session, timeout=timeout, name=name, pool=pool)

    def __repr__(self) -> str:
        state = "alive" if self.alive else "dead"
        return f"Connection({self.name!r}, {self.session.describe()}, {state})"

    @property
    def alive(self) -> bool:
        return self._error is None

    def describe(self) -> str:
        return self.session.describe()

    # --- sending ---------------------------------------------------------------------------

    def send(self, requests: Sequence[Request], *, related: bool = False) -> list[Reply]:
        """Send ``requests`` (a related compound if ``related``: each one works on the handle
        the previous one opened); one ``Reply`` each, in order. Waits for credits at most
        ``timeout``. Raises ``ConnectionDropped`` or ``WireTimeout``."""
        charges = [r.charge if self._large_mtu else 1 for r in requests]
        need = sum(charges)
        if not self._write_lock.acquire(timeout=self.timeout):
            self.kill(WireTimeout("sending stalled"))
            raise WireTimeout(f"{self.name}: could not send within {self.timeout:g} s")
        try:
            replies, first_id, grants = self._reserve(requests, charges, need)
            wire = self._build(requests, charges, grants, first_id, related)
            try:
                self._sock.sendall(wire)
            except TimeoutError as exc:
                self.kill(WireTimeout("sending timed out"))
                raise WireTimeout(f"{self.name}: sending timed out") from exc
            except OSError as exc:
                self.kill(ConnectionDropped("connection lost while sending"))
                raise ConnectionDropped("connection lost while sending") from exc
        finally:
            self._write_lock.release()
        return replies

    def _reserve(
        self, requests: Sequence[Request], charges: list[int], need: int
    ) -> tuple[list[Reply], int, list[int]]:
        """Take credits and message ids and register the replies (under the lock)."""
        deadline = time.monotonic() + self.timeout
        with self._cond:
            while self._credits < need and self._error is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            if self._error is not None:
                raise ConnectionDropped(f"{self.name}: {self._error}")
            if self._credits < need:
                error = WireTimeout("the server granted no credits in time")
                self._fail(error)
                raise WireTimeout(f"{self.name}: no credits within {self.timeout:g} s")
            first_id = self._next_id
            self._next_id += need
            self._credits -= need
            # ask for what we spend, plus a top-up until we hold CREDIT_TARGET
            short = CREDIT_TARGET - (self._credits + self._outstanding + need)
            self._outstanding += need
            replies: list[Reply] = []
            grants: list[int] = []
            message_id = first_id
            for request, charge in zip(requests, charges, strict=True):
                reply = Reply(request.command, charge)
                reply.message_id = message_id
                self._pending[message_id] = reply
                replies.append(reply)
                bonus = max(0, min(short, 256))
                short -= bonus
                grants.append(charge + bonus)
                message_id += charge
        return replies, first_id, grants

    def _build(
        self,
        requests: Sequence[Request],
        charges: list[int],
        grants: list[int],
        first_id: int,
        related: bool,
    ) -> bytes:
        session = self.session
        messages: list[bytearray] = []
        message_id = first_id
        last = len(requests) - 1
        for index, (request, charge, grant) in enumerate(
            zip(requests, charges, grants, strict=True)
        ):
            compound = related and len(requests) > 1
            length = 64 + len(request.body)
            padding = (8 - length % 8) % 8 if compound and index < last else 0
            flags = FLAG_RELATED if compound and index else 0
            message = bytearray(
                header(
                    request.command,
                    message_id,
                    charge=charge if self._large_mtu else 0,
                    credits=grant,
                    flags=flags,
                    next_command=length + padding if compound and index < last else 0,
                    tree_id=session.tree_id,
                    session_id=session.session_id,
                )
            )
            message += request.body
            message += b"\x00" * padding
            if self._signer is not None and self._cipher is None:
                self._signer.sign(message)
            messages.append(message)
            message_id += charge
        if related and len(messages) > 1:
            frames = [b"".join(messages)]
        else:
            frames = [bytes(m) for m in messages]
        out = bytearray()
        for frame in frames:
            if self._cipher is not None:
                frame = self._cipher.encrypt(frame, session.session_id)
            out += struct.pack(">I", len(frame))
            out += frame
        return bytes(out)

    # --- waiting ---------------------------------------------------------------------------

    def wait(self, reply: Reply, timeout: float | None = None) -> Reply:
        """``reply`` once answered. Raises ``ConnectionDropped`` if the connection failed and
        ``WireTimeout`` (killing the connection) when no answer comes in time."""
        limit = self.timeout if timeout is None else timeout
        if not reply._event.wait(limit):
            self.kill(WireTimeout(f"no answer within {limit:g} s"))
            raise WireTimeout(f"{self.name}: no answer within {limit:g} s")
        if reply.error is not None:
            raise ConnectionDropped(str(reply.error)) from reply.error
        return reply

    def abandon(self, replies: Sequence[Reply]) -> None:
        """Drop these replies' answers when they arrive (a seek left them behind)."""
        with self._cond:
            for reply in replies:
                reply.abandoned = True
                if reply.done:
                    reply.frame = bytearray()

    def cancel(self, reply: Reply) -> None:
        """Ask the server to end a pending (async) request early, e.g. a CHANGE_NOTIFY; its
        reply then completes with STATUS_CANCELLED."""
        if reply.done:
            return
        flags = FLAG_ASYNC if reply.async_id else 0
        message = bytearray(
            HEADER.pack(
                b"\xfeSMB",
                64,
                0,
                0,
                CANCEL,
                0,
                flags,
                0,
                reply.message_id,
                reply.async_id & 0xFFFFFFFF if reply.async_id else 0,
                reply.async_id >> 32 if reply.async_id else self.session.tree_id,
                self.session.session_id,
                b"\x00" * 16,
            )
            + struct.pack("<HH", 4, 0)
        )
        if self._signer is not None and self._cipher is None:
            self._signer.sign(message)
        frame: bytes = bytes(message)
        if self._cipher is not None:
            frame = self._cipher.encrypt(frame, self.session.session_id)
        with self._write_lock:
            try:
                self._sock.sendall(struct.pack(">I", len(frame)) + frame)
            except OSError as exc:
                self.kill(ConnectionDropped("connection lost while sending"))
                raise ConnectionDropped("connection lost while sending") from exc

    def stats(self) -> tuple[int, int, int]:
        """(credits available, credits in flight, requests pending), for reports and tests."""
        with self._cond:
            return self._credits, self._outstanding, len(self._pending)

    # --- closing ---------------------------------------------------------------------------

    def kill(self, error: WireError) -> None:
        """Mark the connection dead with ``error``, fail every pending reply, close the
        socket (which ends the receive thread)."""
        with self._cond:
            self._fail(error)
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._sock.close()

    def close(self) -> None:
        """Close the connection (no polite logoff: the server cleans up on disconnect;
        handles still open on it are closed by the server)."""
        self.kill(ConnectionDropped("connection closed"))
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=self.timeout)

    def _fail(self, error: WireError) -> None:
        """(Under the lock.) Fail everything pending; later sends raise."""
        if self._error is None:
            self._error = error
        pending, self._pending = self._pending, {}
        self._outstanding = 0
        self._cond.notify_all()
        for reply in pending.values():
            reply.error = self._error
            reply._finish()

    # --- receiving -------------------------------------------------------------------------

    def _receive_loop(self) -> None:
        try:
            while self._error is None:
                got = self._read_frame()
                if got is None:
                    continue  # idle: the socket timed out with nothing outstanding
                self._file(*got)
        except ConnectionDropped as exc:
            error: WireError = exc
        except OSError as exc:
            error = ConnectionDropped(f"connection lost while receiving ({exc.strerror or exc})")
        except Exception as exc:  # a bug or a malformed answer: fail loudly, not silently hang
            log.warning("SMB receive loop of %s failed: %r", self.name, exc)
            error = ConnectionDropped(f"malformed answer ({exc!r})")
        else:
            return
        self.kill(error)

    def _read_frame(self) -> tuple[bytearray, int] | None:
        """The next frame (its NetBIOS length prefix removed), or None on an idle timeout."""
        head = bytearray(4)
        if not self._fill(memoryview(head), idle_ok=True):
            return None
        if head[0] != 0:
            raise ConnectionDropped("not an SMB2 session message")
        size = int.from_bytes(head[1:4], "big")
        frame = self._buffer(size)
        self._fill(memoryview(frame)[:size], idle_ok=False)
        self.frames_received += 1
        return frame, size

    def _buffer(self, size: int) -> bytearray:
        """A buffer of at least ``size`` bytes for one frame (big ones from the pool)."""
        if size < _POOL_MIN:
            return bytearray(size)
        return self._pool.take(size)

    def _fill(self, out: memoryview, *, idle_ok: bool) -> bool:
        """Fill ``out`` from the staging buffer and the socket. With ``idle_ok``, return
        False when the socket times out before the first byte."""
        want = len(out)
        got = 0
        while got < want:
            available = self._stage_end - self._stage_pos
            if available:
                take = min(available, want - got)
                out[got : got + take] = self._stage_view[self._stage_pos : self._stage_pos + take]
                self._stage_pos += take
                got += take
                continue
            try:
                if want - got >= _STAGE // 2:
                    count = self._sock.recv_into(out[got:])  # big payloads: no extra copy
                    if count == 0:
                        raise ConnectionDropped("the server closed the connection")
                    got += count
                    continue
                count = self._sock.recv_into(self._stage_view)
            except TimeoutError:
                if self._error is not None:
                    raise ConnectionDropped(str(self._error)) from None
                if idle_ok and got == 0:
                    return False
                continue  # a slow answer: its waiter's own time limit decides
            if count == 0:
                raise ConnectionDropped("the server closed the connection")
            self._stage_pos, self._stage_end = 0, count
        return True

    def _file(self, frame: bytearray, total: int) -> None:
        if frame[:4] == b"\xfdSMB":
            if self._cipher is None:
                raise ConnectionDropped("an encrypted answer on a plain session")
            frame = self._cipher.decrypt(memoryview(frame)[:total])
            total = len(frame)
            encrypted = True
        else:
            if frame[:4] != b"\xfeSMB":
                raise ConnectionDropped("an SMB1 or unknown answer")
            encrypted = False
        offset = 0
        while True:
            (_proto, _size, _charge, status, _cmd, credits, flags, nxt, message_id, _r, _t) = (
                HEADER.unpack_from(frame, offset)[:11]
            )
            end = offset + nxt if nxt else total
            if end > total or end < offset + 64:
                raise ConnectionDropped("a compound answer with a bad length")
            interim = status == STATUS_PENDING and bool(flags & FLAG_ASYNC)
            self._check(frame, offset, end, flags, status, interim, encrypted)
            self._deliver(frame, offset, end, message_id, status, flags, credits, interim)
            if not nxt:
                return
            offset = end

    def _check(
        self,
        frame: bytearray,
        start: int,
        end: int,
        flags: int,
        status: int,
        interim: bool,
        encrypted: bool,
    ) -> None:
        if encrypted or self._signer is None or interim:
            if self._cipher is not None and not encrypted and not interim:
                raise ConnectionDropped("a plain answer on an encrypted session")
            return
        if flags & FLAG_SIGNED:
            if not self._signer.verify(frame, start, end):
                raise ConnectionDropped("an answer's signature does not match")
        elif status not in _UNSIGNED_OK:
            raise ConnectionDropped("an unsigned answer on a signed session")

    def _deliver(
        self,
        frame: bytearray,
        start: int,
        end: int,
        message_id: int,
        status: int,
        flags: int,
        credits: int,
        interim: bool,
    ) -> None:
        with self._cond:
            if credits:
                self._credits += credits
                self._cond.notify_all()
            if message_id == UNSOLICITED:
                return  # an oplock/lease break notice: we take neither
            if interim:
                reply = self._pending.get(message_id)
                if reply is not None:
                    reply.async_id = int.from_bytes(frame[start + 32 : start + 40], "little")
                return
            reply = self._pending.pop(message_id, None)
            if reply is None:
                raise ConnectionDropped(f"answer to unknown message {message_id}")
            self._outstanding -= reply.charge
            reply.status = status
            if not reply.abandoned:
                reply.frame, reply.start, reply.end = frame, start, end
        reply._finish()
