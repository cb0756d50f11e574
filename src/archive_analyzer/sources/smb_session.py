"""Logging in to an SMB2/3 share over a plain socket: the first step of both lean clients.

``login`` opens the TCP connection and runs NEGOTIATE (2.0.2 to 3.1.1 with the 3.1.1
pre-authentication integrity hash, signing and encryption capabilities), SESSION_SETUP with
NTLM from pyspnego (the library smbprotocol itself uses) and TREE_CONNECT, one request at a
time. It returns a ``Session``: the socket and what the server granted, from which
``smb_wire.WireClient`` (listing, single-threaded) and ``smb_conn.Connection`` (reads, many
threads, a receive thread) carry on.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import struct
import uuid
from dataclasses import dataclass

import spnego

from archive_analyzer.sources.smb_proto import (
    AES_128_CCM,
    AES_128_GCM,
    AES_CMAC,
    AES_GMAC,
    DIALECTS,
    FLAG_ASYNC,
    FLAG_SIGNED,
    HEADER,
    HMAC_SHA256,
    NEGOTIATE,
    SESSION_SETUP,
    STATUS_BAD_NETWORK_NAME,
    STATUS_LOGON_FAILURE,
    STATUS_MORE_PROCESSING_REQUIRED,
    STATUS_PENDING,
    STATUS_SUCCESS,
    TREE_CONNECT,
    Cipher,
    ConnectionDropped,
    LoginFailed,
    Signer,
    StatusError,
    UnsupportedServer,
    WireTimeout,
    header,
    smb3_kdf,
)

_NEG_RESPONSE = struct.Struct("<HHHH16sIIIIQQHHI")
_SESSION_SETUP = struct.Struct("<HBBIIHHQ")
_TREE_CONNECT = struct.Struct("<HHHH")
_WRONG_PASSWORD = (STATUS_LOGON_FAILURE, 0xC000006A, 0xC0000064, 0xC0000072)
CAP_LARGE_MTU, CAP_ENCRYPTION = 0x4, 0x40
SESSION_FLAG_ENCRYPT = 0x4
SHARE_FLAG_ENCRYPT = 0x8000
LOGIN_CREDITS = 512  # asked for with the tree connect, so pipelining can start at once


@dataclass
class Session:
    """A logged-in connection to one share: the socket and what was negotiated.

    ``signer`` signs every request and checks every answer when set; ``cipher`` encrypts
    every request (and answers come encrypted) when the session or the share requires it.
    ``next_id``/``credits`` carry the message-id sequence on from the login.
    """

    sock: socket.socket
    host: str
    share: str
    dialect: int
    session_id: int
    tree_id: int
    signer: Signer | None
    cipher: Cipher | None
    next_id: int
    credits: int
    large_mtu: bool
    max_read: int
    max_transact: int

    def describe(self) -> str:
        """Dialect and protection, for logs (``SMB 3.1.1, signed AES-GMAC``)."""
        dialect = {0x0202: "2.0.2", 0x0210: "2.1", 0x0300: "3.0", 0x0302: "3.0.2"}.get(
            self.dialect, "3.1.1"
        )
        if self.cipher is not None:
            return f"SMB {dialect}, encrypted {self.cipher.name}"
        if self.signer is not None:
            return f"SMB {dialect}, signed {self.signer.name}"
        return f"SMB {dialect}, unsigned"

    def close(self) -> None:
        """Close the socket (no polite logoff: the server cleans up on disconnect)."""
        with contextlib.suppress(OSError):
            self.sock.close()


def receive(sock: socket.socket, most: int, timeout: float) -> bytes:
    """What the socket has, up to ``most`` bytes (waiting up to its timeout), never empty:
    ``WireTimeout`` when nothing came in time, ``ConnectionDropped`` when the connection
    failed or the server closed it."""
    try:
        chunk = sock.recv(most)
    except TimeoutError as exc:
        raise WireTimeout(f"no answer within {timeout:g} s") from exc
    except OSError as exc:
        raise ConnectionDropped("connection lost while receiving") from exc
    if not chunk:
        raise ConnectionDropped("the server closed the connection")
    return chunk


def login(
    host: str,
    port: int,
    share: str,
    *,
    user: str,
    password: str,
    domain: str = "",
    timeout: float,
    require_signing: bool = True,
    dialects: tuple[int, ...] = DIALECTS,
) -> Session:
    """Connect, negotiate, authenticate and connect the share.

    ``require_signing=False`` signs only when the server requires it (``smb_signing =
    "auto"``). Raises ``LoginFailed`` (user or password refused), ``UnsupportedServer``,
    ``StatusError`` (e.g. no such share: ``STATUS_BAD_NETWORK_NAME``), ``ConnectionDropped``
    or ``WireTimeout``.
    """
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except TimeoutError as exc:
        raise WireTimeout(f"connect to {host}:{port} timed out") from exc
    except OSError as exc:
        raise ConnectionDropped(f"cannot connect to {host}:{port}") from exc
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Handshake(sock, host, share, timeout, require_signing, dialects).run(
            user, password, domain
        )
    except BaseException:
        with contextlib.suppress(OSError):
            sock.close()
        raise


class _Handshake:
    """The login exchange, one request and one answer at a time."""

    def __init__(
        self,
        sock: socket.socket,
        host: str,
        share: str,
        timeout: float,
        require_signing: bool,
        dialects: tuple[int, ...],
    ) -> None:
        self.sock, self.host, self.share = sock, host, share
        self.timeout = timeout
        self.require_signing = require_signing
        self.dialects = dialects
        self.dialect = 0
        self.next_id = 0
        self.credits = 1
        self.session_id = 0
        self.tree_id = 0
        self.preauth = b"\x00" * 64
        self.large_mtu = False
        self.max_read = 65536
        self.max_transact = 65536
        self.server_requires_signing = False
        self.server_encryption = False
        self.signing_algorithm = AES_CMAC
        self.cipher_id = 0
        self.signer: Signer | None = None
        self.cipher: Cipher | None = None
        self.gss_token = b""
        self.session_key = b""

    def run(self, user: str, password: str, domain: str) -> Session:
        self._negotiate()
        self._session_setup(user, password, domain)
        self._tree_connect()
        return Session(
            sock=self.sock,
            host=self.host,
            share=self.share,
            dialect=self.dialect,
            session_id=self.session_id,
            tree_id=self.tree_id,
            signer=self.signer,
            cipher=self.cipher,
            next_id=self.next_id,
            credits=self.credits,
            large_mtu=self.large_mtu,
            max_read=self.max_read,
            max_transact=self.max_transact,
        )

    # --- one exchange ----------------------------------------------------------------------

    def exchange(
        self, command: int, body: bytes, *, sign: bool, credit_request: int = 1
    ) -> tuple[int, bytes, bytes, bytes]:
        """Send one request, return (status, answer header, answer body, request bytes)."""
        while self.credits < 1:  # never: every answer of the login grants at least one
            raise ConnectionDropped("the server granted no credits")
        message_id = self.next_id
        self.next_id += 1
        self.credits -= 1
        message = bytearray(
            header(
                command,
                message_id,
                charge=1 if self.large_mtu else 0,
                credits=credit_request,
                flags=0,
                next_command=0,
                tree_id=self.tree_id,
                session_id=self.session_id,
            )
            + body
        )
        if sign and self.signer is not None and self.cipher is None:
            self.signer.sign(message)
        wire = (
            self.cipher.encrypt(message, self.session_id)
            if self.cipher is not None
            else bytes(message)
        )
        try:
            self.sock.sendall(struct.pack(">I", len(wire)) + wire)
        except TimeoutError as exc:
            raise WireTimeout("sending timed out") from exc
        except OSError as exc:
            raise ConnectionDropped("connection lost while sending") from exc
        while True:
            frame = self._receive()
            if frame[:4] == b"\xfdSMB":
                if self.cipher is None:
                    raise ConnectionDropped("an encrypted answer before encryption was set up")
                frame = bytes(self.cipher.decrypt(frame))
            (_p, _s, _c, status, _cmd, credits, flags, _n, answered) = HEADER.unpack_from(frame)[:9]
            self.credits += credits
            if status == STATUS_PENDING and flags & FLAG_ASYNC:
                continue  # an interim answer; the real one follows
            if answered != message_id:
                raise ConnectionDropped(f"answer to unexpected message {answered}")
            if (
                flags & FLAG_SIGNED
                and self.signer is not None
                and not self.signer.verify(bytearray(frame), 0, len(frame))
            ):
                raise ConnectionDropped("an answer's signature does not match")
            return status, frame[:64], frame[64:], bytes(message)

    def _receive(self) -> bytes:
        head = self._exactly(4)
        return self._exactly(int.from_bytes(head[1:4], "big"))

    def _exactly(self, size: int) -> bytes:
        parts = bytearray()
        while len(parts) < size:
            parts += receive(self.sock, size - len(parts), self.timeout)
        return bytes(parts)

    # --- the three steps -------------------------------------------------------------------

    def _negotiate(self) -> None:
        dialects = self.dialects
        smb311 = 0x0311 in dialects
        fixed = 36 + 2 * len(dialects)
        security_mode = 0x2 if self.require_signing else 0x1
        capabilities = CAP_LARGE_MTU | CAP_ENCRYPTION
        body = struct.pack(
            "<HHHHI16s", 36, len(dialects), security_mode, 0, capabilities, uuid.uuid4().bytes
        )
        dialect_bytes = struct.pack(f"<{len(dialects)}H", *dialects)
        if smb311:
            context_offset = 64 + fixed
            context_offset += (8 - context_offset % 8) % 8
            salt = os.urandom(32)
            preauth = struct.pack("<HHIHHH", 1, 38, 0, 1, 32, 1) + salt  # SHA-512
            encryption = struct.pack("<HHIHHH", 2, 6, 0, 2, AES_128_GCM, AES_128_CCM)
            signing = struct.pack("<HHIHHH", 8, 6, 0, 2, AES_GMAC, AES_CMAC)
            contexts = b""
            for context in (preauth, encryption, signing):
                contexts += b"\x00" * ((8 - len(contexts) % 8) % 8) + context
            pad = b"\x00" * (context_offset - 64 - fixed)
            body += struct.pack("<IHH", context_offset, 3, 0) + dialect_bytes + pad + contexts
        else:
            body += struct.pack("<Q", 0) + dialect_bytes
        status, head, response, request_bytes = self.exchange(NEGOTIATE, body, sign=False)
        if status != STATUS_SUCCESS:
            raise UnsupportedServer(f"negotiate failed: status 0x{status:08x}")
        (_size, security, dialect, _ctx_count, _guid, caps, max_transact, max_read, _mw) = (
            _NEG_RESPONSE.unpack_from(response)[:9]
        )
        self.dialect = dialect
        self.large_mtu = bool(caps & CAP_LARGE_MTU) and dialect >= 0x0210
        self.max_transact = max_transact
        self.max_read = max_read
        self.server_requires_signing = bool(security & 0x2)
        self.server_encryption = bool(caps & CAP_ENCRYPTION)
        sec_offset, sec_length = _NEG_RESPONSE.unpack_from(response)[11:13]
        self.gss_token = response[sec_offset - 64 : sec_offset - 64 + sec_length]
        if dialect == 0x0311:
            self.preauth = hashlib.sha512(self.preauth + request_bytes).digest()
            self.preauth = hashlib.sha512(self.preauth + head + response).digest()
            self._read_contexts(response)
        elif dialect not in dialects:
            raise UnsupportedServer(f"server chose dialect 0x{dialect:04x}")
        elif dialect >= 0x0300 and self.server_encryption:
            self.cipher_id = AES_128_CCM  # 3.0 and 3.0.2 know only CCM

    def _read_contexts(self, response: bytes) -> None:
        count = struct.unpack_from("<H", response, 6)[0]
        offset = struct.unpack_from("<I", response, 60)[0] - 64
        self.signing_algorithm = AES_CMAC  # no signing context: AES-CMAC
        for _ in range(count):
            ctype, length = struct.unpack_from("<HH", response, offset)
            if ctype == 8:  # SIGNING_CAPABILITIES
                (algorithm,) = struct.unpack_from("<H", response, offset + 10)
                if algorithm not in (AES_CMAC, AES_GMAC):
                    raise UnsupportedServer(f"server chose signing algorithm {algorithm}")
                self.signing_algorithm = algorithm
            elif ctype == 2:  # ENCRYPTION_CAPABILITIES
                (cipher,) = struct.unpack_from("<H", response, offset + 10)
                self.cipher_id = cipher if cipher in (AES_128_CCM, AES_128_GCM) else 0
            offset += 8 + length
            offset += (8 - offset % 8) % 8

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
        session_flags = 0
        final_header = final_response = b""
        security_mode = 0x2 if self.require_signing else 0x1
        while not context.complete:
            try:
                out_token = context.step(in_token)
            except spnego.exceptions.SpnegoError as exc:
                raise LoginFailed("NTLM authentication failed") from exc
            if not out_token:
                break
            body = (
                _SESSION_SETUP.pack(25, 0, security_mode, 0, 0, 64 + 24, len(out_token), 0)
                + out_token
            )
            status, head, response, request_bytes = self.exchange(
                SESSION_SETUP, body, sign=False, credit_request=64
            )
            if status not in (STATUS_SUCCESS, STATUS_MORE_PROCESSING_REQUIRED):
                if status in _WRONG_PASSWORD:
                    raise LoginFailed("wrong user or password")
                raise UnsupportedServer(f"session setup failed: status 0x{status:08x}")
            if self.dialect == 0x0311:
                self.preauth = hashlib.sha512(self.preauth + request_bytes).digest()
                if status == STATUS_MORE_PROCESSING_REQUIRED:
                    self.preauth = hashlib.sha512(self.preauth + head + response).digest()
            self.session_id = struct.unpack_from("<Q", head, 40)[0]
            flags, offset, length = struct.unpack_from("<HHH", response, 2)
            in_token = response[offset - 64 : offset - 64 + length]
            final_status = status
            final_header, final_response, session_flags = head, response, flags
        if final_status != STATUS_SUCCESS:
            raise LoginFailed("authentication did not complete")
        if session_flags & 0x3:
            raise UnsupportedServer("guest or anonymous session cannot be signed")
        session_key = context.session_key[:16].ljust(16, b"\x00")
        self.session_key = session_key
        self.signer = self._signer(session_key)
        if struct.unpack_from("<I", final_header, 16)[0] & FLAG_SIGNED:
            message = bytearray(final_header + final_response)
            if not self.signer.verify(message, 0, len(message)):
                raise ConnectionDropped("the login answer's signature does not match")
        if session_flags & SESSION_FLAG_ENCRYPT:
            self._start_encryption(session_key)

    def _signer(self, session_key: bytes) -> Signer:
        if self.dialect >= 0x0311:
            key = smb3_kdf(session_key, b"SMBSigningKey\x00", self.preauth)
            return Signer(self.signing_algorithm, key)
        if self.dialect >= 0x0300:
            return Signer(AES_CMAC, smb3_kdf(session_key, b"SMB2AESCMAC\x00", b"SmbSign\x00"))
        return Signer(HMAC_SHA256, session_key)

    def _start_encryption(self, session_key: bytes) -> None:
        if self.dialect < 0x0300 or not self.cipher_id:
            raise UnsupportedServer("the server requires encryption with a cipher we lack")
        if self.dialect >= 0x0311:
            encrypt = smb3_kdf(session_key, b"SMBC2SCipherKey\x00", self.preauth)
            decrypt = smb3_kdf(session_key, b"SMBS2CCipherKey\x00", self.preauth)
        else:
            encrypt = smb3_kdf(session_key, b"SMB2AESCCM\x00", b"ServerIn \x00")
            decrypt = smb3_kdf(session_key, b"SMB2AESCCM\x00", b"ServerOut\x00")
        self.cipher = Cipher(self.cipher_id, encrypt, decrypt)

    def _tree_connect(self) -> None:
        path = f"\\\\{self.host}\\{self.share}".encode("utf-16-le")
        body = _TREE_CONNECT.pack(9, 0, 64 + 8, len(path)) + path
        status, head, response, _ = self.exchange(
            TREE_CONNECT, body, sign=True, credit_request=LOGIN_CREDITS
        )
        if status == STATUS_BAD_NETWORK_NAME:
            raise StatusError(status, f"no share {self.share!r}")
        if status != STATUS_SUCCESS:
            raise StatusError(status, "tree connect failed")
        self.tree_id = struct.unpack_from("<I", head, 36)[0]
        share_flags = struct.unpack_from("<I", response, 4)[0]
        if share_flags & SHARE_FLAG_ENCRYPT and self.cipher is None:
            self._start_encryption(self.session_key)
        if not (self.require_signing or self.server_requires_signing):
            # neither side asked for signing: plain messages after the (signed) tree connect
            self.signer = None
