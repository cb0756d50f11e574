"""The source contract: what the scanner, watcher, prober and web app may ask of a NAS."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class FileInfo:
    """One directory entry as listed.

    ``path`` is relative to the source root (forward slashes, NFC). ``mtime`` is POSIX seconds.
    ``file_id`` is the server's stable file id (SMB FileId / inode) as a string, or None when the
    server gives none.
    """

    path: str
    size: int
    mtime: float
    file_id: str | None
    is_dir: bool


@runtime_checkable
class Source(Protocol):
    """A read-only tree of files: a local folder or an SMB share.

    Implementations translate their library's errors into ``archive_analyzer.errors``:
    ``SourceUnavailable`` after retries, ``SourceTimeout``, ``FileVanished``, ``PermissionDenied``.
    """

    @property
    def name(self) -> str:
        """A display-safe name of the source (a URL without any password)."""
        ...

    def connect(self) -> None:
        """Open the connection (no-op for local folders). Idempotent."""
        ...

    def close(self) -> None:
        """Release connections and handles. Idempotent."""
        ...

    def reconnect(self) -> None:
        """Drop and re-open the connection."""
        ...

    def list_directory(self, path: str = "", recursive: bool = False) -> Iterator[FileInfo]:
        """Entries below ``path`` (housekeeping entries skipped).

        With ``recursive`` the whole subtree, in traversal order: sorted by
        ``archive_analyzer.paths.sort_key`` (a folder before its children, siblings by code
        point). Folders that cannot be read are logged and skipped; the walk goes on. Sizes,
        mtimes and ids come from the directory query itself.
        """
        ...

    def stat(self, path: str) -> FileInfo:
        """One entry's info. Raises ``FileVanished`` when it does not exist."""
        ...

    def read_partial(self, path: str, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset`` (fewer at end of file)."""
        ...

    def open(self, path: str) -> BinaryIO:
        """A seekable, read-only binary file object. The caller closes it."""
        ...

    def local_path(self, path: str) -> Path | None:
        """The regular file's path on this machine, for tools that read files by path
        (ffmpeg, ffprobe); None when the source has none (SMB) or it is not a regular file."""
        ...
