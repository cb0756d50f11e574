"""SMB2/3 messages as bytes: constants, headers, signing, encryption, request bodies, replies.

Pure functions and small value classes, shared by the lean clients (``smb_session`` logs in,
``smb_wire`` lists, ``smb_conn`` multiplexes reads). Everything is built and parsed with
``struct`` (smbprotocol's ``Structure`` classes cost ~0.1 ms per message, see
docs/sources.md). Signing: HMAC-SHA256 (2.x), AES-CMAC (3.x) and AES-GMAC (3.1.1, about
15x cheaper than CMAC per byte); encryption: AES-128-GCM and AES-128-CCM (3.x).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives import cmac, hashes
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM
from cryptography.hazmat.primitives.kdf.kbkdf import KBKDFHMAC, CounterLocation, Mode

from archive_analyzer.sources.smb_dir import filetime_to_posix

# commands
NEGOTIATE, SESSION_SETUP, LOGOFF, TREE_CONNECT = 0, 1, 2, 3
CREATE, CLOSE, READ, CANCEL = 5, 6, 8, 0x0C
QUERY_DIRECTORY, CHANGE_NOTIFY, QUERY_INFO = 0x0E, 0x0F, 0x10
# header flags
FLAG_RESPONSE, FLAG_ASYNC, FLAG_RELATED, FLAG_SIGNED = 0x1, 0x2, 0x4, 0x8
# status codes
STATUS_SUCCESS = 0
STATUS_PENDING = 0x00000103
STATUS_NO_MORE_FILES = 0x80000006
STATUS_MORE_PROCESSING_REQUIRED = 0xC0000016
STATUS_END_OF_FILE = 0xC0000011
STATUS_LOGON_FAILURE = 0xC000006D
STATUS_BAD_NETWORK_NAME = 0xC00000CC
STATUS_CANCELLED = 0xC0000120
STATUS_NETWORK_SESSION_EXPIRED = 0xC000035C
STATUS_USER_SESSION_DELETED = 0xC0000203

DIALECTS = (0x0202, 0x0210, 0x0300, 0x0302, 0x0311)
UNSOLICITED = 0xFFFFFFFFFFFFFFFF  # message id of an oplock/lease break notice
CREDIT_UNIT = 65536  # bytes per credit with LARGE_MTU

# signing algorithms (SMB 3.1.1 SIGNING_CAPABILITIES ids) and ciphers (ENCRYPTION_CAPABILITIES)
HMAC_SHA256, AES_CMAC, AES_GMAC = 0, 1, 2
AES_128_CCM, AES_128_GCM = 1, 2

HEADER = struct.Struct("<4sHHIHHIIQIIQ16s")  # 64 bytes
TRANSFORM = struct.Struct("<4s16s16sIHHQ")  # 52 bytes
_CREATE = struct.Struct("<HBBIQQIIIIIHHII")  # 56 bytes, the name follows at 120
_CREATE_REPLY = struct.Struct("<HBBIQQQQQQII16sII")  # 88 bytes
_READ = struct.Struct("<HBBIQ16sIIIHHB")  # 49 bytes
_CLOSE = struct.Struct("<HHI16s")
_QUERY = struct.Struct("<HBBI16sHHI")
_QFID_CONTEXT = struct.Struct("<IHHHHI4s4x")  # 24 bytes: a "QFid" create context, no data
ZERO_SIG = b"\x00" * 16
RELATED_FILE = b"\xff" * 16  # "the handle the previous related request opened"

# CREATE arguments
FILE_READ_DATA, FILE_LIST_DIRECTORY, FILE_READ_ATTRIBUTES = 0x1, 0x1, 0x80
SHARE_ALL = 0x7
FILE_OPEN = 1
FILE_DIRECTORY_FILE, FILE_SEQUENTIAL_ONLY, FILE_NON_DIRECTORY_FILE = 0x1, 0x4, 0x40
FILE_RANDOM_ACCESS = 0x800
FILE_ATTRIBUTE_DIRECTORY = 0x10


class WireError(Exception):
    """Base of the lean clients' errors (``SMBSource`` translates them)."""


class UnsupportedServer(WireError):
    """The server needs something the lean clients do not do (Kerberos, an unknown cipher)."""


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


def smb3_kdf(key: bytes, label: bytes, context: bytes, length: int = 16) -> bytes:
    """SP800-108 counter-mode KDF with HMAC-SHA256, as SMB 3.x derives its keys."""
    return KBKDFHMAC(
        algorithm=hashes.SHA256(),
        mode=Mode.CounterMode,
        length=length,
        rlen=4,
        llen=4,
        location=CounterLocation.BeforeFixed,
        label=label,
        context=context,
        fixed=None,
    ).derive(key)


def header(
    command: int,
    message_id: int,
    *,
    charge: int,
    credits: int,
    flags: int,
    next_command: int,
    tree_id: int,
    session_id: int,
) -> bytes:
    """A 64-byte sync request header (signature zero)."""
    return HEADER.pack(
        b"\xfeSMB",
        64,
        charge,
        0,
        command,
        credits,
        flags,
        next_command,
        message_id,
        0,
        tree_id,
        session_id,
        ZERO_SIG,
    )


class Signer:
    """Signs requests and checks answers with one session's signing key."""

    def __init__(self, algorithm: int, key: bytes) -> None:
        self.algorithm = algorithm
        self._key = key
        self._gcm = AESGCM(key) if algorithm == AES_GMAC else None

    @property
    def name(self) -> str:
        return {HMAC_SHA256: "HMAC-SHA256", AES_CMAC: "AES-CMAC", AES_GMAC: "AES-GMAC"}[
            self.algorithm
        ]

    def _mac(self, message: bytearray | memoryview, *, response: bool) -> bytes:
        """The signature of ``message`` (its signature field must be zero)."""
        if self._gcm is not None:
            message_id = int.from_bytes(message[24:32], "little")
            command = int.from_bytes(message[12:14], "little")
            role = (1 if response else 0) | (2 if command == CANCEL else 0)
            nonce = struct.pack("<QI", message_id, role)
            return self._gcm.encrypt(nonce, b"", message)
        if self.algorithm == AES_CMAC:
            mac = cmac.CMAC(algorithms.AES(self._key))
            mac.update(message)  # type: ignore[arg-type]  # any buffer works: no 1 MiB copy
            return mac.finalize()
        return hmac.new(self._key, message, hashlib.sha256).digest()[:16]

    def sign(self, message: bytearray) -> None:
        """Sign a request in place (sets the signed flag first)."""
        flags = int.from_bytes(message[16:20], "little") | FLAG_SIGNED
        message[16:20] = flags.to_bytes(4, "little")
        message[48:64] = ZERO_SIG
        message[48:64] = self._mac(message, response=False)

    def verify(self, frame: bytearray, start: int, end: int) -> bool:
        """Whether the answer ``frame[start:end]`` carries a correct signature (checked in
        place: the signature field is zeroed for the computation and restored)."""
        view = memoryview(frame)[start:end]
        got = bytes(view[48:64])
        view[48:64] = ZERO_SIG
        try:
            expected = self._mac(view, response=True)
        finally:
            view[48:64] = got
        return hmac.compare_digest(got, expected)


class Cipher:
    """Encrypts requests and decrypts answers (SMB 3.x transform messages)."""

    def __init__(self, cipher: int, encrypt_key: bytes, decrypt_key: bytes) -> None:
        self.cipher = cipher
        aead = AESGCM if cipher == AES_128_GCM else AESCCM
        self._encryptor = aead(encrypt_key)
        self._decryptor = aead(decrypt_key)
        self._nonce_size = 12 if cipher == AES_128_GCM else 11
        self._prefix = os.urandom(self._nonce_size - 8)
        self._counter = 0

    @property
    def name(self) -> str:
        return "AES-128-GCM" if self.cipher == AES_128_GCM else "AES-128-CCM"

    def encrypt(self, message: bytes | bytearray, session_id: int) -> bytes:
        """A transform message carrying ``message`` (one message or a whole compound)."""
        self._counter += 1  # nonces must never repeat under one key
        nonce = self._prefix + self._counter.to_bytes(8, "little")
        aad = TRANSFORM.pack(
            b"\xfdSMB", ZERO_SIG, nonce.ljust(16, b"\x00"), len(message), 0, 1, session_id
        )[20:]
        sealed = self._encryptor.encrypt(nonce, bytes(message), aad)
        return b"\xfdSMB" + sealed[-16:] + aad + sealed[:-16]

    def decrypt(self, frame: bytes | bytearray | memoryview) -> bytearray:
        """The message(s) inside a transform message; ``ConnectionDropped`` if it was forged
        or damaged."""
        if len(frame) < TRANSFORM.size:
            raise ConnectionDropped("a short encrypted answer")
        view = memoryview(frame)
        signature = bytes(view[4:20])
        nonce = bytes(view[20 : 20 + self._nonce_size])
        aad = bytes(view[20:52])
        try:
            plain = self._decryptor.decrypt(nonce, bytes(view[52:]) + signature, aad)
        except Exception as exc:  # cryptography's InvalidTag: the answer was tampered with
            raise ConnectionDropped("an encrypted answer does not authenticate") from exc
        return bytearray(plain)


# --- request bodies ------------------------------------------------------------------------


def create_body(
    name: str,
    *,
    access: int,
    options: int,
    query_file_id: bool = False,
    share: int = SHARE_ALL,
) -> bytes:
    """CREATE (open an existing file or folder, no oplock; every share mode allowed unless
    ``share`` narrows it, e.g. to see whether a writer still holds the file).

    ``query_file_id`` adds the ``QFid`` context: the answer then carries the on-disk file id,
    the same number the directory listing reports, so a reopened file can be checked to be the
    same file."""
    name_bytes = name.encode("utf-16-le")
    buffer = name_bytes or b"\x00"
    contexts_offset = contexts_length = 0
    tail = b""
    if query_file_id:
        pad = (8 - (64 + 56 + len(buffer)) % 8) % 8
        contexts_offset = 64 + 56 + len(buffer) + pad
        context = _QFID_CONTEXT.pack(0, 16, 4, 0, 0, 0, b"QFid")
        contexts_length = len(context)
        tail = b"\x00" * pad + context
    fixed = _CREATE.pack(
        57,
        0,
        0,  # no oplock
        2,  # impersonation
        0,
        0,
        access,
        0,
        share,
        FILE_OPEN,
        options,
        120,
        len(name_bytes),
        contexts_offset,
        contexts_length,
    )
    return fixed + buffer + tail


def read_body(file_id: bytes, offset: int, length: int) -> bytes:
    """READ ``length`` bytes at ``offset`` (data placed right after the 80-byte answer)."""
    return _READ.pack(49, 0x50, 0, length, offset, file_id, 0, 0, 0, 0, 0, 0)


def close_body(file_id: bytes) -> bytes:
    """CLOSE a handle."""
    return _CLOSE.pack(24, 0, 0, file_id)


def query_directory_body(file_id: bytes, info_class: int, pattern: str, buffer: int) -> bytes:
    """QUERY_DIRECTORY of one information class, ``pattern`` matched by the server."""
    pattern_bytes = pattern.encode("utf-16-le")
    return (
        _QUERY.pack(33, info_class, 0, 0, file_id, 96, len(pattern_bytes), buffer) + pattern_bytes
    )


def credit_charge(payload: int) -> int:
    """Credits a request moving ``payload`` bytes costs (LARGE_MTU)."""
    return max(1, (payload - 1) // CREDIT_UNIT + 1)


# --- answers -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Created:
    """What a CREATE answer tells about the opened file."""

    file_id: bytes  # the 16-byte handle
    size: int
    mtime: float
    is_dir: bool
    disk_id: str | None  # the QFid on-disk id (listing FileId), when asked for and given


def parse_create(body: bytes | bytearray | memoryview, message_start: int = 0) -> Created:
    """A CREATE answer's body (after the 64-byte header)."""
    (_size, _oplock, _flags, _action, _ctime, _atime, mtime, _change, _alloc, eof, attrs) = (
        _CREATE_REPLY.unpack_from(body)[:11]
    )
    handle = bytes(body[64:80])
    contexts_offset, contexts_length = struct.unpack_from("<II", body, 80)
    disk_id: str | None = None
    if contexts_length:
        offset = contexts_offset - 64
        end = offset + contexts_length
        while offset < end:
            nxt, name_off, name_len, _, data_off, data_len = struct.unpack_from(
                "<IHHHHI", body, offset
            )
            name = bytes(body[offset + name_off : offset + name_off + name_len])
            if name == b"QFid" and data_len >= 8:
                value = int.from_bytes(body[offset + data_off : offset + data_off + 8], "little")
                disk_id = str(value) if value else None
            if not nxt:
                break
            offset += nxt
    is_dir = bool(attrs & FILE_ATTRIBUTE_DIRECTORY)
    return Created(handle, 0 if is_dir else eof, filetime_to_posix(mtime), is_dir, disk_id)


def read_payload(frame: bytearray | bytes, start: int, end: int) -> memoryview:
    """The data of a READ answer at ``frame[start:end]`` (no copy)."""
    offset = frame[start + 66]
    length = int.from_bytes(frame[start + 68 : start + 72], "little")
    begin = start + offset
    if begin + length > end:
        raise ConnectionDropped("a READ answer longer than its message")
    return memoryview(frame)[begin : begin + length]


def query_payload(body: bytes | bytearray | memoryview) -> memoryview:
    """The output buffer of a QUERY_DIRECTORY / QUERY_INFO answer body."""
    offset, length = struct.unpack_from("<HI", body, 2)
    return memoryview(body)[offset - 64 : offset - 64 + length]
