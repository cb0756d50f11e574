"""NT status codes and what they mean to the rest of the system (``archive_analyzer.errors``).

Shared by both SMB transports (smbprotocol in ``smb_link``, the lean clients in ``smb_conn``
and ``smb_wire``), so a status means the same wherever it is met.
"""

from __future__ import annotations

from archive_analyzer.errors import FileVanished, NotADirectory, PermissionDenied, SourceError

STATUS_NO_SUCH_FILE = 0xC000000F
STATUS_END_OF_FILE = 0xC0000011
STATUS_ACCESS_DENIED = 0xC0000022
STATUS_OBJECT_NAME_NOT_FOUND = 0xC0000034
STATUS_OBJECT_PATH_NOT_FOUND = 0xC000003A
STATUS_SHARING_VIOLATION = 0xC0000043
STATUS_DELETE_PENDING = 0xC0000056
STATUS_WRONG_PASSWORD = 0xC000006A
STATUS_LOGON_FAILURE = 0xC000006D
STATUS_IO_TIMEOUT = 0xC00000B5
STATUS_FILE_IS_A_DIRECTORY = 0xC00000BA
STATUS_NETWORK_NAME_DELETED = 0xC00000C9
STATUS_BAD_NETWORK_NAME = 0xC00000CC
STATUS_NOT_A_DIRECTORY = 0xC0000103
STATUS_FILE_CLOSED = 0xC0000128
STATUS_USER_SESSION_DELETED = 0xC0000203
STATUS_NETWORK_SESSION_EXPIRED = 0xC000035C
STATUS_NO_MORE_FILES = 0x80000006

VANISHED = frozenset(
    {
        STATUS_OBJECT_NAME_NOT_FOUND,
        STATUS_OBJECT_PATH_NOT_FOUND,
        STATUS_NO_SUCH_FILE,
        STATUS_DELETE_PENDING,
        STATUS_FILE_CLOSED,
    }
)
DROPPED = frozenset(
    {
        STATUS_NETWORK_NAME_DELETED,
        STATUS_USER_SESSION_DELETED,
        STATUS_NETWORK_SESSION_EXPIRED,
        STATUS_IO_TIMEOUT,
    }
)


class Dropped(Exception):
    """The connection broke; the operation may be retried after reconnecting."""


def translate_status(status: int, rel: str, source_name: str) -> Exception:
    """The project error for an NT status met at ``rel`` (``Dropped`` for a lost session)."""
    shown = rel or "/"
    if status in VANISHED:
        return FileVanished(f"no longer exists: {shown}")
    if status == STATUS_ACCESS_DENIED:
        return PermissionDenied(f"permission denied: {shown}")
    if status == STATUS_NOT_A_DIRECTORY:
        return NotADirectory(f"not a folder: {shown}")
    if status == STATUS_FILE_IS_A_DIRECTORY:
        return SourceError(f"is a folder, not a file: {shown}")
    if status in DROPPED:
        return Dropped(f"server ended the session (0x{status:08x})")
    return SourceError(f"{source_name}: {shown}: SMB status 0x{status:08x}")
