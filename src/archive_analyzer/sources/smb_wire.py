"""A lean SMB2/3 client that only lists folders, for speed (see docs/sources.md).

smbprotocol builds and parses every message through its ``Structure`` classes, which costs
about 0.1-0.2 ms per message in Python: a 1,000-folder walk spends most of its time there,
and its receive thread re-packs every header to check the signature. This client logs in
with ``smb_session.login`` and sends related CREATE + QUERY_DIRECTORY + QUERY_DIRECTORY +
CLOSE compounds built with ``struct`` templates; many folders are in flight at once on one
socket, answers are matched by message id, and every message is signed and every answer's
signature checked (or everything encrypted, when the share requires it).

It is single-threaded on purpose: the walk drives it, and no receive thread means no GIL
hand-off per answer. Reads and stats use ``smb_conn.Connection`` (many threads).
"""

from __future__ import annotations

import select
import struct
from dataclasses import dataclass, field

from archive_analyzer.sources.smb_dir import (
    FILE_ID_FULL_DIRECTORY_INFORMATION,
    RawEntry,
    parse_id_full_directory,
)
from archive_analyzer.sources.smb_proto import (
    CLOSE,
    CREATE,
    FILE_DIRECTORY_FILE,
    FILE_LIST_DIRECTORY,
    FILE_READ_ATTRIBUTES,
    FLAG_ASYNC,
    FLAG_RELATED,
    FLAG_SIGNED,
    HEADER,
    QUERY_DIRECTORY,
    RELATED_FILE,
    STATUS_NETWORK_SESSION_EXPIRED,
    STATUS_NO_MORE_FILES,
    STATUS_PENDING,
    STATUS_SUCCESS,
    STATUS_USER_SESSION_DELETED,
    UNSOLICITED,
    ConnectionDropped,
    LoginFailed,
    StatusError,
    UnsupportedServer,
    WireError,
    WireTimeout,
    close_body,
    create_body,
    header,
    query_directory_body,
)
from archive_analyzer.sources.smb_session import Session, login, receive

__all__ = [
    "ConnectionDropped",
    "LoginFailed",
    "StatusError",
    "Ticket",
    "UnsupportedServer",
    "WireClient",
    "WireError",
    "WireTimeout",
]

QUERY_BUFFER = 65536
CREDIT_TARGET = 512
_UNSIGNED_OK = frozenset({STATUS_USER_SESSION_DELETED, STATUS_NETWORK_SESSION_EXPIRED})


@dataclass
class _Answer:
    status: int
    body: bytes


@dataclass
class Ticket:
    """One folder query in flight."""

    wire: str
    ids: tuple[int, ...] = ()
    answers: dict[int, _Answer] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return len(self.answers) == len(self.ids)


class WireClient:
    """One TCP connection, session and tree; folder queries pipelined on it.

    Not thread-safe. ``connect`` raises ``LoginFailed``, ``UnsupportedServer``, ``StatusError``
    (no such share), ``ConnectionDropped`` or ``WireTimeout``; the query methods the last
    three and ``StatusError``.
    """

    def __init__(
        self,
        host: str,
        port: int,
        share: str,
        *,
        timeout: float,
        require_signing: bool = True,
    ) -> None:
        self.host, self.port, self.share = host, port, share
        self.timeout = timeout
        self.require_signing = require_signing
        self._session: Session | None = None
        self._next_id = 0
        self._credits = 1
        self._pending: dict[int, Ticket | None] = {}  # message id -> ticket (None: internal)
        self._answers: dict[int, _Answer] = {}  # answers to internal (unticketed) requests
        self._incomplete = 0
        self._inbox = bytearray()

    @property
    def dialect(self) -> int:
        return self._session.dialect if self._session is not None else 0

    def describe(self) -> str:
        return self._session.describe() if self._session is not None else "not connected"

    # --- connection ------------------------------------------------------------------------

    def connect(self, user: str, password: str, domain: str = "") -> None:
        """Open the socket, negotiate, log in and connect the share."""
        session = login(
            self.host,
            self.port,
            self.share,
            user=user,
            password=password,
            domain=domain,
            timeout=self.timeout,
            require_signing=self.require_signing,
        )
        self._session = session
        self._next_id = session.next_id
        self._credits = session.credits

    def close(self) -> None:
        """Close the socket (no polite logoff: the server cleans up on disconnect)."""
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def _live(self) -> Session:
        session = self._session
        if session is None:
            raise ConnectionDropped("not connected")
        return session

    # --- sending ---------------------------------------------------------------------------

    def _seal(self, messages: list[bytearray]) -> bytes:
        """Sign each message (or encrypt the whole compound) and frame it."""
        session = self._live()
        if session.cipher is not None:
            payload = session.cipher.encrypt(b"".join(messages), session.session_id)
        else:
            if session.signer is not None:
                for message in messages:
                    session.signer.sign(message)
            payload = b"".join(messages)
        return struct.pack(">I", len(payload)) + payload

    def _take_ids(self, charge: int) -> int:
        while self._credits < charge:
            self._receive_some(block=True)
        message_id = self._next_id
        self._next_id += charge
        self._credits -= charge
        return message_id

    def _message(
        self, command: int, message_id: int, charge: int, grant: int, flags: int, nxt: int
    ) -> bytearray:
        session = self._live()
        return bytearray(
            header(
                command,
                message_id,
                charge=charge if session.large_mtu else 0,
                credits=grant,
                flags=flags,
                next_command=nxt,
                tree_id=session.tree_id,
                session_id=session.session_id,
            )
        )

    def _send_one(self, command: int, body: bytes) -> int:
        message_id = self._take_ids(1)
        message = self._message(command, message_id, 1, 1, 0, 0) + body
        self._pending[message_id] = None
        self._write(self._seal([message]))
        return message_id

    def _write(self, payload: bytes) -> None:
        sock = self._live().sock
        try:
            sock.sendall(payload)
        except TimeoutError as exc:
            raise WireTimeout("sending timed out") from exc
        except OSError as exc:
            raise ConnectionDropped("connection lost while sending") from exc

    def submit(self, wire_path: str, pattern: str = "*") -> Ticket:
        """Send CREATE + 2 x QUERY_DIRECTORY + CLOSE for one folder as one related compound."""
        ticket = Ticket(wire_path)
        charge = max(1, (QUERY_BUFFER - 1) // 65536 + 1)
        create = create_body(
            wire_path,
            access=FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES,
            options=FILE_DIRECTORY_FILE,
        )
        query = query_directory_body(
            RELATED_FILE, FILE_ID_FULL_DIRECTORY_INFORMATION, pattern, QUERY_BUFFER
        )
        bodies: tuple[tuple[int, bytes, int], ...] = (
            (CREATE, create, 1),
            (QUERY_DIRECTORY, query, charge),
            (QUERY_DIRECTORY, query, charge),
            (CLOSE, close_body(RELATED_FILE), 1),
        )
        want = sum(c for _, _, c in bodies)
        while self._credits < want:
            self._receive_some(block=True)
        ids = []
        messages: list[bytearray] = []
        for index, (command, body, cost) in enumerate(bodies):
            message_id = self._take_ids(cost)
            ids.append(message_id)
            last = index == len(bodies) - 1
            length = 64 + len(body)
            padding = 0 if last else (8 - length % 8) % 8
            flags = FLAG_RELATED if index else 0
            # ask for a little more than we spend until we hold CREDIT_TARGET credits
            grow = cost + (1 if self._credits + len(self._pending) < CREDIT_TARGET else 0)
            message = self._message(
                command, message_id, cost, grow, flags, 0 if last else length + padding
            )
            messages.append(message + body + b"\x00" * padding)
            self._pending[message_id] = ticket
        ticket.ids = tuple(ids)
        self._incomplete += 1
        self._write(self._seal(messages))
        return ticket

    # --- receiving -------------------------------------------------------------------------

    def in_flight(self) -> int:
        """Tickets whose answers are not all in (after reading what has arrived)."""
        self._receive_some(block=False)
        return self._incomplete

    def result(self, ticket: Ticket) -> list[RawEntry]:
        """Wait for a ticket's answers; its entries, or ``StatusError`` for the folder."""
        while not ticket.done:
            self._receive_some(block=True)
        create_id, first_id, second_id, _close_id = ticket.ids
        create = ticket.answers[create_id]
        if create.status != STATUS_SUCCESS:
            raise StatusError(create.status, ticket.wire)
        entries: list[RawEntry] = []
        more = False
        for message_id in (first_id, second_id):
            answer = ticket.answers[message_id]
            if answer.status == STATUS_NO_MORE_FILES:
                continue
            if answer.status != STATUS_SUCCESS:
                raise StatusError(answer.status, ticket.wire)
            offset, length = struct.unpack_from("<HI", answer.body, 2)
            entries.extend(
                parse_id_full_directory(memoryview(answer.body)[offset - 64 : offset - 64 + length])
            )
            more = message_id == second_id
        if more:
            return self._page(ticket.wire)
        return entries

    def _page(self, wire_path: str) -> list[RawEntry]:
        """List a folder too big for one compound: open it, query until no more, close."""
        create = create_body(
            wire_path,
            access=FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES,
            options=FILE_DIRECTORY_FILE,
        )
        status, body = self._wait_internal(self._send_one(CREATE, create))
        if status != STATUS_SUCCESS:
            raise StatusError(status, wire_path)
        file_id = body[64:80]
        entries: list[RawEntry] = []
        try:
            while True:
                query = query_directory_body(
                    file_id, FILE_ID_FULL_DIRECTORY_INFORMATION, "*", QUERY_BUFFER
                )
                status, body = self._wait_internal(self._send_one(QUERY_DIRECTORY, query))
                if status == STATUS_NO_MORE_FILES:
                    return entries
                if status != STATUS_SUCCESS:
                    raise StatusError(status, wire_path)
                offset, length = struct.unpack_from("<HI", body, 2)
                entries.extend(parse_id_full_directory(body[offset - 64 : offset - 64 + length]))
        finally:
            self._wait_internal(self._send_one(CLOSE, close_body(file_id)))

    def _wait_internal(self, message_id: int) -> tuple[int, bytes]:
        while message_id not in self._answers:
            self._receive_some(block=True)
        answer = self._answers.pop(message_id)
        return answer.status, answer.body[64:]

    def _receive_some(self, block: bool) -> None:
        """Read what the socket has (waiting up to the timeout if ``block``) and file the
        complete answers it contains."""
        sock = self._live().sock
        if not block:
            ready, _, _ = select.select([sock], [], [], 0)
            if not ready:
                return
        chunk = receive(sock, 1 << 20, self.timeout)
        inbox = self._inbox
        inbox += chunk
        while len(inbox) >= 4:
            size = int.from_bytes(inbox[1:4], "big")
            if len(inbox) < 4 + size:
                break
            frame = bytearray(inbox[4 : 4 + size])
            del inbox[: 4 + size]
            self._file_frame(frame)

    def _file_frame(self, frame: bytearray) -> None:
        session = self._live()
        encrypted = frame[:4] == b"\xfdSMB"
        if encrypted:
            if session.cipher is None:
                raise ConnectionDropped("an encrypted answer on a plain session")
            frame = session.cipher.decrypt(frame)
        elif frame[:4] != b"\xfeSMB":
            raise UnsupportedServer("SMB1 or unknown answer")
        offset = 0
        while True:
            (_proto, _size, _charge, status, _cmd, credits, flags, nxt, message_id) = (
                HEADER.unpack_from(frame, offset)[:9]
            )
            end = offset + nxt if nxt else len(frame)
            self._credits += credits
            pending = status == STATUS_PENDING and flags & FLAG_ASYNC
            signer = session.signer
            if not encrypted and not pending and signer is not None:
                if not flags & FLAG_SIGNED:
                    if status not in _UNSIGNED_OK:
                        raise ConnectionDropped("an unsigned answer on a signed session")
                elif not signer.verify(frame, offset, end):
                    raise ConnectionDropped("an answer's signature does not match")
            if not pending:
                self._file_answer(message_id, status, bytes(frame[offset:end]))
            if not nxt:
                return
            offset = end

    def _file_answer(self, message_id: int, status: int, message: bytes) -> None:
        if message_id == UNSOLICITED:
            return  # an unsolicited notice (e.g. an oplock break); we hold no oplocks
        if message_id not in self._pending:
            raise ConnectionDropped(f"answer to unknown message {message_id}")
        ticket = self._pending.pop(message_id)
        if ticket is None:
            self._answers[message_id] = _Answer(status, message)
            return
        ticket.answers[message_id] = _Answer(status, message[64:])
        if ticket.done:
            self._incomplete -= 1
