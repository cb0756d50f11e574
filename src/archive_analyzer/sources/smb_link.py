"""One smbprotocol connection (connection + session + tree) and the compounds sent on it.

``SMBLink`` sends related compounds through smbprotocol's low-level API and translates the
answers into ``archive_analyzer.errors``; a broken connection raises ``Dropped`` and marks the
link dead, so its owner (``SMBSource``) reconnects and retries.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

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

from archive_analyzer.errors import SourceError, SourceTimeout, SourceUnavailable
from archive_analyzer.sources.credentials import SMBCredentials
from archive_analyzer.sources.smb_dir import (
    FILE_ID_FULL_DIRECTORY_INFORMATION,
    RawEntry,
    parse_id_full_directory,
)
from archive_analyzer.sources.smb_status import (
    STATUS_WRONG_PASSWORD,
    Dropped,
    translate_status,
)
from archive_analyzer.sources.url import SMBSpec

log = logging.getLogger(__name__)

QUERY_BUFFER = 65536  # one credit per query; 2 queries hold ~1,000 entries of typical names
READ_CHUNK = 1024 * 1024  # 16 credits per READ
EXTRA_CREDITS = 1024  # asked for right after login so many compounds can be in flight
RELATED = b"\xff" * 16  # file id meaning "the handle the previous related request opened"

_END_OF_LISTING = frozenset({NtStatus.STATUS_NO_MORE_FILES})
_END_OF_FILE = frozenset({NtStatus.STATUS_END_OF_FILE})
_DIR_ACCESS = 0x1 | 0x80  # FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES
_FILE_ACCESS = (
    FilePipePrinterAccessMask.FILE_READ_DATA | FilePipePrinterAccessMask.FILE_READ_ATTRIBUTES
)
_SHARE_ALL = (
    ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE | ShareAccess.FILE_SHARE_DELETE
)


@dataclass
class FolderQuery:
    """A CREATE + 2 x QUERY_DIRECTORY + CLOSE compound for one folder, possibly in flight."""

    wire: str
    pattern: str = "*"
    link: SMBLink | None = None
    requests: list[Any] = field(default_factory=list)


class SMBLink:
    """A logged-in smbprotocol connection to one share. ``dead`` once it has failed."""

    def __init__(self, conn: Any, session: Any, tree: Any, *, timeout: float, name: str) -> None:
        self.conn, self.session, self.tree = conn, session, tree
        self.timeout = timeout
        self.name = name
        self.dead = False

    @classmethod
    def open(cls, spec: SMBSpec, creds: SMBCredentials, *, timeout: float, name: str) -> SMBLink:
        """Connect, log in, connect the share and ask for extra credits.

        Raises ``Dropped`` when the server cannot be reached (worth retrying) and
        ``SourceUnavailable`` when it refuses the login or has no such share.
        """
        conn = Connection(uuid.uuid4(), spec.host, spec.port, require_signing=True)
        try:
            conn.connect(timeout=timeout)
        except (ValueError, OSError, SMBException) as exc:
            raise Dropped(f"cannot connect to {spec.host}:{spec.port}") from exc
        user = f"{creds.domain}\\{creds.user}" if creds.domain else creds.user
        try:
            session = Session(conn, user, creds.password.get_secret_value(), auth_protocol="ntlm")
            session.connect()
            tree = TreeConnect(session, rf"\\{spec.host}\{spec.share}")
            tree.connect()
            conn.echo(
                sid=session.session_id, timeout=int(timeout) + 1, credit_request=EXTRA_CREDITS
            )
        except (SMBAuthenticationError, SMBResponseException) as exc:
            quiet_disconnect(conn)
            status = getattr(exc, "status", None)
            if status == NtStatus.STATUS_BAD_NETWORK_NAME:
                raise SourceUnavailable(f"no share {spec.share!r} on {spec.host}") from None
            if isinstance(exc, SMBAuthenticationError) or status in (
                NtStatus.STATUS_LOGON_FAILURE,
                STATUS_WRONG_PASSWORD,
            ):
                raise SourceUnavailable(
                    f"SMB login to {name} failed: wrong user or password"
                ) from None
            raise Dropped(f"session setup with {spec.host} failed") from exc
        except (ValueError, OSError, SMBException) as exc:
            quiet_disconnect(conn)
            raise Dropped(f"session setup with {spec.host} failed") from exc
        return cls(conn, session, tree, timeout=timeout, name=name)

    @property
    def sid(self) -> int:
        return int(self.session.session_id)

    @property
    def tid(self) -> int:
        return int(self.tree.tree_connect_id)

    def close(self) -> None:
        """Disconnect; the link is dead afterwards."""
        self.dead = True
        quiet_disconnect(self.conn)

    # --- requests --------------------------------------------------------------------------

    def send(self, messages: list[Any]) -> list[Any]:
        """Send one message or a related compound; the requests to wait for."""
        try:
            if len(messages) == 1:
                return [self.conn.send(messages[0], self.sid, self.tid)]
            return list(self.conn.send_compound(messages, self.sid, self.tid, related=True))
        except (SMBException, OSError) as exc:
            self.close()
            raise Dropped("connection lost while sending") from exc

    def wait(self, request: Any, rel: str, allow: frozenset[int] = frozenset()) -> Any:
        """The response of ``request``, errors translated (``rel`` names the path in them);
        None when the answer has a status in ``allow`` (e.g. STATUS_NO_MORE_FILES)."""
        if not request.response_event.wait(self.timeout):
            self.close()
            raise SourceTimeout(f"{self.name}: no answer within {self.timeout:g} s ({rel or '/'})")
        try:
            return self.conn.receive(request, timeout=self.timeout)
        except SMBResponseException as exc:
            if exc.status in allow:
                return None
            error = translate_status(int(exc.status), rel, self.name)
            if isinstance(error, Dropped):
                self.close()
            raise error from None
        except (SMBException, OSError) as exc:
            self.close()
            raise Dropped("connection lost while waiting") from exc

    def settle(self, requests: Sequence[Any]) -> None:
        """Collect the answers of the rest of a compound whose first part failed (nothing
        to collect once the link is dead: the caller is already raising its error)."""
        for request in requests:
            if self.dead:
                return
            with contextlib.suppress(SourceError, Dropped):
                self.wait(request, "")

    # --- folders ---------------------------------------------------------------------------

    def _create_folder(self, wire: str) -> tuple[Open, Any, Any]:
        opener = Open(self.tree, wire)
        create, unpack = opener.create(
            ImpersonationLevel.Impersonation,
            _DIR_ACCESS,
            0,
            _SHARE_ALL,
            CreateDisposition.FILE_OPEN,
            CreateOptions.FILE_DIRECTORY_FILE,
            send=False,
        )
        return opener, create, unpack

    def submit(self, query: FolderQuery) -> None:
        """Send a folder's compound (the answers are read by ``collect``)."""
        opener, create, _ = self._create_folder(query.wire)
        opener.file_id = RELATED
        queries = [
            opener.query_directory(
                query.pattern,
                FILE_ID_FULL_DIRECTORY_INFORMATION,
                max_output=QUERY_BUFFER,
                send=False,
            )[0]
            for _ in range(2)
        ]
        close = SMB2CloseRequest()
        close["file_id"] = RELATED
        query.link = self
        query.requests = self.send([create, *queries, close])

    def collect(self, query: FolderQuery, rel: str) -> list[RawEntry]:
        """The entries of a folder query (sent now if it was not sent on this link)."""
        if query.link is not self or not query.requests:
            self.submit(query)
        create, first, second, close = query.requests
        query.requests = []
        try:
            self.wait(create, rel)
        except (SourceError, Dropped):
            self.settle([first, second, close])
            raise
        buffers: list[bytes] = []
        more = False
        for index, request in enumerate((first, second)):
            try:
                response = self.wait(request, rel, _END_OF_LISTING)
            except SourceError:
                self.settle([close])
                raise
            if response is not None:
                buffers.append(_query_buffer(response))
                more = index == 1
        self.settle([close])
        if more:  # a big folder: page through it on a handle of its own
            return self._page_folder(query.wire, rel)
        entries: list[RawEntry] = []
        for buffer in buffers:
            entries.extend(parse_id_full_directory(buffer))
        return entries

    def _page_folder(self, wire: str, rel: str) -> list[RawEntry]:
        opener, create, unpack_create = self._create_folder(wire)
        request = self.send([create])[0]
        self.wait(request, rel)
        unpack_create(request)
        entries: list[RawEntry] = []
        try:
            while True:
                query, _ = opener.query_directory(
                    "*", FILE_ID_FULL_DIRECTORY_INFORMATION, max_output=QUERY_BUFFER, send=False
                )
                response = self.wait(self.send([query])[0], rel, _END_OF_LISTING)
                if response is None:
                    return entries
                entries.extend(parse_id_full_directory(_query_buffer(response)))
        finally:
            close = SMB2CloseRequest()
            close["file_id"] = opener.file_id
            self.settle(self.send([close]))

    # --- files -----------------------------------------------------------------------------

    def read(self, wire: str, rel: str, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset`` with one related CREATE + READ... + CLOSE."""
        chunk = max(1, min(length, int(self.conn.max_read_size), READ_CHUNK))
        opener = Open(self.tree, wire)
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
        requests = self.send([create, *reads, close])
        try:
            self.wait(requests[0], rel)
        except (SourceError, Dropped):
            self.settle(requests[1:])
            raise
        parts: list[bytes] = []
        for request in requests[1:-1]:
            try:
                response = self.wait(request, rel, _END_OF_FILE)
            except SourceError:
                self.settle(requests[-1:])
                raise
            if response is None:
                continue  # reading at or past the end of the file
            parts.append(_read_buffer(response))
        self.settle(requests[-1:])
        return b"".join(parts)


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


def quiet_disconnect(conn: Any) -> None:
    """Close the socket, ignoring the errors a dead connection raises. No polite logoff:
    smbprotocol waits for its answers without a time limit, which hangs on a hung server,
    and the server cleans up a closed connection anyway."""
    try:
        conn.disconnect(False)
    except Exception as exc:  # closing a dead connection may fail in many ways; none matter
        log.debug("ignoring disconnect error: %s", type(exc).__name__)
