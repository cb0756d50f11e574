"""The source contract: what the scanner, watcher, prober and web app may ask of a NAS."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol, Self, TypeVar, runtime_checkable

from archive_analyzer import paths

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024  # what ``FileReader.chunks`` yields at most per chunk by default

E = TypeVar("E")


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


def same_version(a: FileInfo, b: FileInfo) -> bool:
    """Whether two infos describe one version of a file: same size, same mtime (to the
    millisecond: catalogs round-trip it through floats), same id when both have one."""
    if a.size != b.size or abs(a.mtime - b.mtime) > 1e-3:
        return False
    return a.file_id is None or b.file_id is None or a.file_id == b.file_id


def folder_entries(entries: Iterable[E], name: Callable[[E], str]) -> list[tuple[str, E]]:
    """One folder's entries as (NFC name, entry), sorted by code point, housekeeping out: how
    every source lists a folder, whatever its entries are (``os.DirEntry``, SMB records)."""
    seen: dict[str, E] = {}
    for entry in entries:
        nfc = unicodedata.normalize("NFC", name(entry))
        if paths.is_housekeeping(nfc):
            continue
        if nfc in seen:
            # NFC and NFD spellings of one name side by side: one catalog path only
            log.warning("two entries normalise to the same name %r; keeping one", nfc)
            continue
        seen[nfc] = entry
    return sorted(seen.items(), key=lambda item: item[0])


@dataclass(slots=True)
class ReadStats:
    """What one ``FileReader`` did, for reports and benchmarks.

    ``peak_buffered`` is the most bytes it held at once (reads in flight or received and not
    yet handed out, plus the chunk last handed out): its memory, bounded by the read-ahead
    window. ``wasted`` counts bytes read ahead and never handed out (a seek, an early close).
    """

    opens: int = 0
    requests: int = 0
    bytes_read: int = 0
    peak_buffered: int = 0
    wasted: int = 0
    checks: int = 0


class FileReader(Protocol):
    """One open file: random reads (``read_at``) and fast sequential reading (``chunks``).

    Opening is lazy and cheap; the file is checked to be the version first opened (and
    ``expect``, if given) whenever it is reopened and every few seconds while it is read:
    ``FileChanged`` when its size, mtime or file id differ, ``FileVanished`` when it is gone,
    so a reader never mixes two versions' bytes. ``close`` (or leaving the ``with`` block)
    releases the handle; a reader is used by one thread at a time.
    """

    @property
    def info(self) -> FileInfo:
        """Size, mtime and file id of the file as opened (opens it if not yet open)."""
        ...

    @property
    def stats(self) -> ReadStats:
        """Reads, bytes and memory so far."""
        ...

    def read_at(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset`` (fewer only at the end of the file), reading
        exactly that range: no read-ahead (probes, seeks)."""
        ...

    def chunks(
        self,
        offset: int = 0,
        length: int | None = None,
        *,
        chunk: int = CHUNK,
        window: int | None = None,
    ) -> Iterator[memoryview]:
        """The bytes from ``offset`` to the end (or ``length`` bytes) in order, in chunks of
        at most ``chunk`` bytes, read ahead in a bounded window (streams, hashing, ffmpeg
        input): at most ``window`` reads ahead of the consumer (default: the source's
        setting; a caller whose consumer buffers on its own, like an HTTP client, may ask
        for less memory). Each chunk is a fresh buffer the reader never reuses. Ends early
        only by raising. Closing the iterator early stops the read-ahead."""
        ...

    def close(self) -> None:
        """Release the handle (idempotent)."""
        ...

    def __enter__(self) -> FileReader: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class ReaderBase:
    """What every ``FileReader`` implementation shares: leaving a ``with`` block closes it, and
    ``stats`` is the ``ReadStats`` it keeps in ``self._stats``."""

    _stats: ReadStats

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def stats(self) -> ReadStats:
        return self._stats

    def close(self) -> None:
        raise NotImplementedError


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

    def open_reader(self, path: str, *, expect: FileInfo | None = None) -> FileReader:
        """A ``FileReader`` for ``path``: the way to read files fast (see ``FileReader``).

        ``expect`` is the version the caller means (e.g. the catalog's size, mtime and id):
        ``FileChanged`` if the file on the source differs. Raises ``FileVanished`` and
        ``PermissionDenied`` (at open, which may be deferred to the first read).
        """
        ...

    def local_path(self, path: str) -> Path | None:
        """The regular file's path on this machine, for tools that read files by path
        (ffmpeg, ffprobe); None when the source has none (SMB) or it is not a regular file."""
        ...
