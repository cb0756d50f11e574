"""A lean SMB2/3 client that only lists folders, for speed (see docs/sources.md).

smbprotocol builds and parses every message through its ``Structure`` classes, which costs
about 0.1-0.2 ms per message in Python: a 1,000-folder walk spends most of its time there,
and its receive thread re-packs every header to check the signature. This client speaks
just enough SMB2/3 to log in (NTLM through pyspnego, the library smbprotocol itself uses),
connect a tree and send related CREATE + QUERY_DIRECTORY + QUERY_DIRECTORY + CLOSE compounds
built with ``struct`` templates; many folders are in flight at once on one socket, answers
are matched by message id, and every message is signed and every answer's signature checked
(AES-CMAC for SMB 3.x, HMAC-SHA256 for SMB 2.x).

It does not do encryption, DFS, Kerberos or anything but listing: when a server needs any of
that, ``UnsupportedServer`` is raised and the caller lists through smbprotocol instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import select
import socket
import struct
import uuid
from dataclasses import dataclass, field

import spnego
from cryptography.hazmat.primitives import cmac, hashes
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.kdf.kbkdf import KBKDFHMAC, CounterLocation, Mode

from archive_analyzer.sources.smb_dir import (
    FILE_ID_FULL_DIRECTORY_INFORMATION,
    RawEntry,
    parse_id_full_directory,
)

# commands
NEGOTIATE, SESSION_SETUP, LOGOFF, TREE_CONNECT, CREATE, CLOSE, QUERY_DIRECTORY = (
    0,
    1,
    2,
    3,
    5,
    6,
    0x0E,
)
# header flags
FLAG_RESPONSE, FLAG_ASYNC, FLAG_RELATED, FLAG_SIGNED = 0x1, 0x2, 0x4, 0x8
# status codes
STATUS_SUCCESS = 0
STATUS_PENDING = 0x00000103
STATUS_NO_MORE_FILES = 0x80000006
STATUS_MORE_PROCESSING_REQUIRED = 0xC0000016
STATUS_LOGON_FAILURE = 0xC000006D
STATUS_BAD_NETWORK_NAME = 0xC00000CC

DIALECTS = (0x0202, 0x0210, 0x0300, 0x0302, 0x0311)
QUERY_BUFFER = 65536
CREDIT_TARGET = 512

_HEADER = struct.Struct("<4sHHIHHIIQIIQ16s")  # 64 bytes
_NEG_RESPONSE = struct.Struct("<HHHH16sIIIIQQHHI")
_SESSION_SETUP = struct.Struct("<HBBIIHHQ")
_TREE_CONNECT = struct.Struct("<HHHH")
_CREATE = struct.Struct("<HBBIQQIIIIIHHII")
_QUERY = struct.Struct("<HBBI16sHHI")
_CLOSE = struct.Struct("<HHI16s")
_RELATED_ID = b"\xff" * 16
_ZERO_SIG = b"\x00" * 16


class WireError(Exception):
    """Base of this module's errors (the caller translates them)."""


class UnsupportedServer(WireError):
    """The server needs something this client does not do (encryption, ...)."""


class ConnectionDropped(WireError):
    """The TCP connection broke or answered nonsense."""


class WireTimeout(WireError):
    """No answer in time."""


class LoginFailed(WireError):
    """The server refused the user or password."""


class StatusError(WireError):
    """A request failed with an NT status."""

    def __init__(self, status: int, what: str) -> None:
        super().__init__(f"{what}: status 0x{status:08x}")
        self.status = status


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


def smb3_kdf(key: bytes, label: bytes, context: bytes) -> bytes:
    """SP800-108 counter-mode KDF with HMAC-SHA256, as SMB 3.x derives its keys."""
    return KBKDFHMAC(
        algorithm=hashes.SHA256(),
        mode=Mode.CounterMode,
        length=16,
        rlen=4,
        llen=4,
        location=CounterLocation.BeforeFixed,
        label=label,
        context=context,
        fixed=None,
    ).derive(key)


class WireClient:
    """One TCP connection, session and tree; folder queries pipelined on it.

    Not thread-safe. ``connect`` raises ``LoginFailed``, ``UnsupportedServer``,
    ``ConnectionDropped`` or ``WireTimeout``; the query methods the last three and
    ``StatusError``.
    """

    def __init__(
        self,
        host: str,
        port: int,
        share: str,
        *,
        timeout: float,
        dialects: tuple[int, ...] = DIALECTS,
    ) -> None:
        self.host, self.port, self.share = host, port, share
        self.timeout = timeout
        self.dialects = dialects
        self.dialect = 0
        self._sock: socket.socket | None = None
        self._next_id = 0
        self._credits = 1
        self._session_id = 0
        self._tree_id = 0
        self._signing_key: bytes | None = None
        self._pending: dict[int, Ticket | None] = {}  # message id -> ticket (None: internal)
        self._answers: dict[int, _Answer] = {}  # answers to internal (unticketed) requests
        self._incomplete = 0
        self._inbox = bytearray()
        self._preauth = b"\x00" * 64
        self._max_transact = QUERY_BUFFER
        self._large_mtu = False

    # --- connection ------------------------------------------------------------------------

    def connect(self, user: str, password: str, domain: str = "") -> None:
        """Open the socket, negotiate, log in and connect the share."""
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except TimeoutError as exc:
            raise WireTimeout(f"connect to {self.host}:{self.port} timed out") from exc
        except OSError as exc:
            raise ConnectionDropped(f"cannot connect to {self.host}:{self.port}") from exc
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._negotiate()
        self._session_setup(user, password, domain)
        self._tree_connect()

    def close(self) -> None:
        """Close the socket (no polite logoff: the server cleans up on disconnect)."""
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def _negotiate(self) -> None:
        dialects = self.dialects
        smb311 = 0x0311 in dialects
        fixed = 36 + 2 * len(dialects)
        body = struct.pack(
            "<HHHHI16s", 36, len(dialects), 0x2, 0, 0x4, uuid.uuid4().bytes
        )  # signing required, LARGE_MTU
        dialect_bytes = struct.pack(f"<{len(dialects)}H", *dialects)
        if smb311:
            context_offset = 64 + fixed
            context_offset += (8 - context_offset % 8) % 8
            salt = os.urandom(32)
            preauth = struct.pack("<HHIHHH", 1, 38, 0, 1, 32, 1) + salt  # SHA-512
            pad = b"\x00" * (context_offset - 64 - fixed)
            signing_ctx = struct.pack("<HHIHH", 8, 4, 0, 1, 1)  # AES-CMAC
            ctx_pad = b"\x00" * ((8 - len(preauth) % 8) % 8)
            body += struct.pack("<IHH", context_offset, 2, 0) + dialect_bytes + pad
            body += preauth + ctx_pad + signing_ctx
        else:
            body += struct.pack("<Q", 0) + dialect_bytes
        message_id = self._send_one(NEGOTIATE, body, sign=False)
        request_bytes = self._last_sent
        status, header, response = self._wait_internal(message_id)
        if status != STATUS_SUCCESS:
            raise UnsupportedServer(f"negotiate failed: status 0x{status:08x}")
        (_size, _security_mode, dialect, _ctx_count, _guid, caps, max_transact, _mr, _mw) = (
            _NEG_RESPONSE.unpack_from(response)[:9]
        )
        self.dialect = dialect
        self._large_mtu = bool(caps & 0x4) and dialect >= 0x0210
        self._max_transact = max_transact
        sec_offset, sec_length = _NEG_RESPONSE.unpack_from(response)[11:13]
        self._gss_token = response[sec_offset - 64 : sec_offset - 64 + sec_length]
        if dialect == 0x0311:
            self._preauth = hashlib.sha512(self._preauth + request_bytes).digest()
            self._preauth = hashlib.sha512(self._preauth + header + response).digest()
            if not self._negotiated_cmac(response):
                raise UnsupportedServer("server chose a signing algorithm other than AES-CMAC")
        elif dialect not in dialects:
            raise UnsupportedServer(f"server chose dialect 0x{dialect:04x}")

    @staticmethod
    def _negotiated_cmac(response: bytes) -> bool:
        count = struct.unpack_from("<H", response, 6)[0]
        offset = struct.unpack_from("<I", response, 60)[0] - 64
        for _ in range(count):
            ctype, length = struct.unpack_from("<HH", response, offset)
            if ctype == 8:  # SIGNING_CAPABILITIES
                (algorithm,) = struct.unpack_from("<H", response, offset + 10)
                return bool(algorithm == 1)
            offset += 8 + length
            offset += (8 - offset % 8) % 8
        return True  # no signing context: AES-CMAC

    def _session_setup(self, user: str, password: str, domain: str) -> None:
        username = f"{domain}\\{user}" if domain else user
        try:
            context = spnego.client(
                username,
                password,
                service="cifs",
                hostname=self.host,
                protocol="ntlm",
                options=spnego.NegotiateOptions.session_key,
            )
        except spnego.exceptions.SpnegoError as exc:
            raise LoginFailed("cannot start NTLM authentication") from exc
        in_token: bytes | None = None
        final_status = STATUS_MORE_PROCESSING_REQUIRED
        while not context.complete:
            try:
                out_token = context.step(in_token)
            except spnego.exceptions.SpnegoError as exc:
                raise LoginFailed("NTLM authentication failed") from exc
            if not out_token:
                break
            body = _SESSION_SETUP.pack(25, 0, 0x2, 0, 0, 64 + 24, len(out_token), 0) + out_token
            message_id = self._send_one(SESSION_SETUP, body, sign=False, credit_request=64)
            request_bytes = self._last_sent
            status, header, response = self._wait_internal(message_id)
            if status not in (STATUS_SUCCESS, STATUS_MORE_PROCESSING_REQUIRED):
                if status in (STATUS_LOGON_FAILURE, 0xC000006A, 0xC0000064, 0xC0000072):
                    raise LoginFailed("wrong user or password")
                raise UnsupportedServer(f"session setup failed: status 0x{status:08x}")
            if self.dialect == 0x0311:
                self._preauth = hashlib.sha512(self._preauth + request_bytes).digest()
                if status == STATUS_MORE_PROCESSING_REQUIRED:
                    self._preauth = hashlib.sha512(self._preauth + header + response).digest()
            self._session_id = struct.unpack_from("<Q", header, 40)[0]
            flags, offset, length = struct.unpack_from("<HHH", response, 2)
            in_token = response[offset - 64 : offset - 64 + length]
            final_status = status
            final_header, final_response, session_flags = header, response, flags
        if final_status != STATUS_SUCCESS:
            raise LoginFailed("authentication did not complete")
        if session_flags & 0x4:
            raise UnsupportedServer("the server requires encryption")
        if session_flags & 0x3:
            raise UnsupportedServer("guest or anonymous session cannot be signed")
        session_key = context.session_key[:16].ljust(16, b"\x00")
        if self.dialect >= 0x0311:
            self._signing_key = smb3_kdf(session_key, b"SMBSigningKey\x00", self._preauth)
        elif self.dialect >= 0x0300:
            self._signing_key = smb3_kdf(session_key, b"SMB2AESCMAC\x00", b"SmbSign\x00")
        else:
            self._signing_key = session_key
        if struct.unpack_from("<I", final_header, 16)[0] & FLAG_SIGNED:
            self._verify(final_header + final_response)

    def _tree_connect(self) -> None:
        path = f"\\\\{self.host}\\{self.share}".encode("utf-16-le")
        body = _TREE_CONNECT.pack(9, 0, 64 + 8, len(path)) + path
        message_id = self._send_one(TREE_CONNECT, body, credit_request=CREDIT_TARGET)
        status, header, response = self._wait_internal(message_id)
        if status == STATUS_BAD_NETWORK_NAME:
            raise StatusError(status, f"no share {self.share!r}")
        if status != STATUS_SUCCESS:
            raise StatusError(status, "tree connect failed")
        self._tree_id = struct.unpack_from("<I", header, 36)[0]
        share_flags = struct.unpack_from("<I", response, 4)[0]
        if share_flags & 0x8000:
            raise UnsupportedServer("the share requires encryption")

    # --- sending ---------------------------------------------------------------------------

    def _header(
        self, command: int, message_id: int, charge: int, request: int, flags: int, nxt: int
    ) -> bytes:
        return _HEADER.pack(
            b"\xfeSMB",
            64,
            charge if self._large_mtu else 0,
            0,
            command,
            request,
            flags,
            nxt,
            message_id,
            0,
            self._tree_id,
            self._session_id,
            _ZERO_SIG,
        )

    def _sign(self, message: bytes) -> bytes:
        key = self._signing_key
        assert key is not None
        if self.dialect >= 0x0300:
            mac = cmac.CMAC(algorithms.AES(key))
            mac.update(message)
            signature = mac.finalize()
        else:
            signature = hmac.new(key, message, hashlib.sha256).digest()[:16]
        return message[:48] + signature + message[64:]

    def _verify(self, message: bytes) -> None:
        signature = message[48:64]
        expected = self._sign(message[:48] + _ZERO_SIG + message[64:])[48:64]
        if not hmac.compare_digest(signature, expected):
            raise ConnectionDropped("an answer's signature does not match")

    def _take_ids(self, charge: int) -> int:
        while self._credits < charge:
            self._receive_some(block=True)
        message_id = self._next_id
        self._next_id += charge
        self._credits -= charge
        return message_id

    def _send_one(
        self, command: int, body: bytes, *, sign: bool = True, credit_request: int = 1
    ) -> int:
        message_id = self._take_ids(1)
        flags = FLAG_SIGNED if sign else 0
        message = self._header(command, message_id, 1, credit_request, flags, 0) + body
        if sign:
            message = self._sign(message)
        self._last_sent = message
        self._pending[message_id] = None
        self._write(message)
        return message_id

    def _write(self, payload: bytes) -> None:
        sock = self._sock
        if sock is None:
            raise ConnectionDropped("not connected")
        try:
            sock.sendall(struct.pack(">I", len(payload)) + payload)
        except TimeoutError as exc:
            raise WireTimeout("sending timed out") from exc
        except OSError as exc:
            raise ConnectionDropped("connection lost while sending") from exc

    def submit(self, wire_path: str, pattern: str = "*") -> Ticket:
        """Send CREATE + 2 x QUERY_DIRECTORY + CLOSE for one folder as one related compound."""
        ticket = Ticket(wire_path)
        name = wire_path.encode("utf-16-le")
        pattern_bytes = pattern.encode("utf-16-le")
        charge = max(1, (QUERY_BUFFER - 1) // 65536 + 1)
        create = _CREATE.pack(57, 0, 0, 2, 0, 0, 0x81, 0, 0x7, 1, 0x1, 120, len(name), 0, 0) + (
            name or b"\x00"
        )
        query = _QUERY.pack(
            33,
            FILE_ID_FULL_DIRECTORY_INFORMATION,
            0,
            0,
            _RELATED_ID,
            96,
            len(pattern_bytes),
            QUERY_BUFFER,
        )
        query += pattern_bytes
        close = _CLOSE.pack(24, 0, 0, _RELATED_ID)
        bodies: tuple[tuple[int, bytes, int], ...] = (
            (CREATE, create, 1),
            (QUERY_DIRECTORY, query, charge),
            (QUERY_DIRECTORY, query, charge),
            (CLOSE, close, 1),
        )
        want = sum(c for _, _, c in bodies)
        if self._credits < want:
            while self._credits < want:
                self._receive_some(block=True)
        ids = []
        out = bytearray()
        for index, (command, body, cost) in enumerate(bodies):
            message_id = self._take_ids(cost)
            ids.append(message_id)
            last = index == len(bodies) - 1
            length = 64 + len(body)
            padding = 0 if last else (8 - length % 8) % 8
            flags = FLAG_SIGNED | (FLAG_RELATED if index else 0)
            # ask for a little more than we spend until we hold CREDIT_TARGET credits
            grow = cost + (1 if self._credits + self._outstanding_credits() < CREDIT_TARGET else 0)
            message = self._header(
                command, message_id, cost, grow, flags, 0 if last else length + padding
            )
            out += self._sign(message + body + b"\x00" * padding)
            self._pending[message_id] = ticket
        ticket.ids = tuple(ids)
        self._incomplete += 1
        self._write(bytes(out))
        return ticket

    def _outstanding_credits(self) -> int:
        return len(self._pending)

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
        name = wire_path.encode("utf-16-le")
        create = _CREATE.pack(57, 0, 0, 2, 0, 0, 0x81, 0, 0x7, 1, 0x1, 120, len(name), 0, 0) + (
            name or b"\x00"
        )
        status, _header, body = self._wait_internal(self._send_one(CREATE, create))
        if status != STATUS_SUCCESS:
            raise StatusError(status, wire_path)
        file_id = body[64:80]
        entries: list[RawEntry] = []
        try:
            while True:
                query = _QUERY.pack(
                    33, FILE_ID_FULL_DIRECTORY_INFORMATION, 0, 0, file_id, 96, 2, QUERY_BUFFER
                ) + "*".encode("utf-16-le")
                status, _header, body = self._wait_internal(self._send_one(QUERY_DIRECTORY, query))
                if status == STATUS_NO_MORE_FILES:
                    return entries
                if status != STATUS_SUCCESS:
                    raise StatusError(status, wire_path)
                offset, length = struct.unpack_from("<HI", body, 2)
                entries.extend(parse_id_full_directory(body[offset - 64 : offset - 64 + length]))
        finally:
            self._wait_internal(self._send_one(CLOSE, _CLOSE.pack(24, 0, 0, file_id)))

    def _wait_internal(self, message_id: int) -> tuple[int, bytes, bytes]:
        while message_id not in self._answers:
            self._receive_some(block=True)
        answer = self._answers.pop(message_id)
        return answer.status, answer.body[:64], answer.body[64:]

    def _receive_some(self, block: bool) -> None:
        """Read what the socket has (waiting up to the timeout if ``block``) and file the
        complete answers it contains."""
        sock = self._sock
        if sock is None:
            raise ConnectionDropped("not connected")
        if not block:
            ready, _, _ = select.select([sock], [], [], 0)
            if not ready:
                return
        try:
            chunk = sock.recv(1 << 20)
        except TimeoutError as exc:
            raise WireTimeout(f"no answer within {self.timeout:g} s") from exc
        except OSError as exc:
            raise ConnectionDropped("connection lost while receiving") from exc
        if not chunk:
            raise ConnectionDropped("the server closed the connection")
        inbox = self._inbox
        inbox += chunk
        while len(inbox) >= 4:
            size = int.from_bytes(inbox[1:4], "big")
            if len(inbox) < 4 + size:
                break
            frame = bytes(inbox[4 : 4 + size])
            del inbox[: 4 + size]
            self._file_frame(frame)

    def _file_frame(self, frame: bytes) -> None:
        if frame[:4] != b"\xfeSMB":
            raise UnsupportedServer("encrypted or SMB1 answer")
        offset = 0
        while True:
            (_proto, _size, _charge, status, _cmd, credits, flags, nxt, message_id) = (
                _HEADER.unpack_from(frame, offset)[:9]
            )
            end = offset + nxt if nxt else len(frame)
            message = frame[offset:end]
            self._credits += credits
            pending = status == STATUS_PENDING and flags & FLAG_ASYNC
            if flags & FLAG_SIGNED and not pending and self._signing_key is not None:
                self._verify(message)
            if not pending:
                self._file_answer(message_id, status, message)
            if not nxt:
                return
            offset = end

    def _file_answer(self, message_id: int, status: int, message: bytes) -> None:
        if message_id == 0xFFFFFFFFFFFFFFFF:
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
