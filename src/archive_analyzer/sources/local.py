"""A local or mounted folder as a source (file id = inode)."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat as statmod
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from archive_analyzer import paths
from archive_analyzer.errors import (
    FileChanged,
    FileVanished,
    NotADirectory,
    PermissionDenied,
    SourceError,
    SourceUnavailable,
)
from archive_analyzer.sources.base import (
    CHUNK,
    FileInfo,
    ReaderBase,
    ReadStats,
    folder_entries,
    same_version,
)
from archive_analyzer.sources.changes import ChangeSink, ChangeWatch, Completion
from archive_analyzer.sources.local_watch import LocalWatch, upload_state

log = logging.getLogger(__name__)


class LocalSource:
    """A folder on this machine (or a mounted share) read through the OS.

    Catalog paths are NFC; names on disk may be NFD (macOS clients), so a catalog path is
    mapped back to the on-disk name component by component when the direct path misses.
    """

    def __init__(self, root: Path) -> None:
        self._root = Path(root)

    def __repr__(self) -> str:
        return f"LocalSource({str(self._root)!r})"

    @property
    def root(self) -> Path:
        """The folder on disk."""
        return self._root

    @property
    def name(self) -> str:
        """The folder path as text."""
        return str(self._root)

    def connect(self) -> None:
        """Check the root folder exists; raise ``SourceUnavailable`` if not (or not a folder)."""
        if self._root.is_dir():
            return
        if self._root.exists():
            raise SourceUnavailable(f"not a folder: {self._root}")
        raise SourceUnavailable(f"source folder not found: {self._root}")

    def close(self) -> None:
        """Nothing to release."""

    def reconnect(self) -> None:
        """Same as ``connect`` for a local folder."""
        self.connect()

    # --- listing ---------------------------------------------------------------------------

    def list_directory(self, path: str = "", recursive: bool = False) -> Iterator[FileInfo]:
        """Entries below ``path`` in traversal order (see ``Source.list_directory``).

        Raises ``FileVanished`` / ``NotADirectory`` / ``PermissionDenied`` for ``path`` itself;
        unreadable sub-folders are logged and skipped.
        """
        start = paths.normalize(path)
        disk = self._disk_path(start)
        try:
            entries = self._read_dir(disk)
        except OSError as exc:
            raise _translate(exc, start, self._root) from exc
        yield from self._walk(start, entries, recursive)

    def _walk(
        self, parent: str, entries: list[tuple[str, os.DirEntry[str]]], recursive: bool
    ) -> Iterator[FileInfo]:
        for name, entry in entries:
            rel = paths.join(parent, name)
            try:
                st = entry.stat(follow_symlinks=True)
            except FileNotFoundError:
                continue  # vanished between readdir and stat: not there any more
            except OSError as exc:
                log.warning("skipping unreadable entry %r: %s", rel, exc.strerror or exc)
                continue
            if not (statmod.S_ISREG(st.st_mode) or statmod.S_ISDIR(st.st_mode)):
                # a FIFO, socket or device (or a link to one) is no archive file; opening a
                # FIFO would block a probe worker
                log.debug("skipping %r: not a regular file", rel)
                continue
            info = _info_from_stat(rel, st)
            if info.is_dir and entry.is_symlink():
                continue  # a link to a folder could loop; the folder is listed where it lives
            yield info
            if info.is_dir and recursive:
                try:
                    children = self._read_dir(entry.path)
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    log.warning("skipping unreadable folder %r: %s", rel, exc.strerror or exc)
                    continue
                yield from self._walk(rel, children, recursive)

    @staticmethod
    def _read_dir(disk: str) -> list[tuple[str, os.DirEntry[str]]]:
        """The folder's entries as (NFC name, entry), sorted by code point, housekeeping out."""
        with os.scandir(disk) as it:
            return folder_entries(it, lambda entry: entry.name)

    # --- single files ----------------------------------------------------------------------

    def stat(self, path: str) -> FileInfo:
        """Info for one entry; ``FileVanished`` when it does not exist."""
        rel = paths.normalize(path)
        try:
            return _info_from_stat(rel, os.stat(self._disk_path(rel)))
        except OSError as exc:
            raise _translate(exc, rel, self._root) from exc

    def read_partial(self, path: str, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset``."""
        if offset < 0 or length < 0:
            raise ValueError("offset and length must not be negative")
        with self.open(path) as handle:
            try:
                handle.seek(offset)
                return handle.read(length)
            except OSError as exc:
                raise _translate(exc, paths.normalize(path), self._root) from exc

    def open(self, path: str) -> BinaryIO:
        """The file opened read-only in binary mode (seekable).

        Only regular files: a FIFO, socket or device raises ``SourceError`` (a FIFO is opened
        non-blocking, so this never waits for a writer).
        """
        rel = paths.normalize(path)
        disk = self._disk_path(rel)
        try:
            if os.path.isdir(disk):
                raise IsADirectoryError(errno.EISDIR, "is a folder")
            fd = os.open(disk, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            raise _translate(exc, rel, self._root) from exc
        try:
            mode = os.fstat(fd).st_mode
            if statmod.S_ISDIR(mode):
                raise _translate(IsADirectoryError(errno.EISDIR, "is a folder"), rel, self._root)
            if not statmod.S_ISREG(mode):
                raise SourceError(f"not a regular file: {rel or self._root}")
            os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise

    def open_reader(self, path: str, *, expect: FileInfo | None = None) -> LocalReader:
        """A ``FileReader`` over the file (opened now: ``FileVanished`` at once if missing)."""
        rel = paths.normalize(path)
        handle = self.open(rel)
        try:
            return LocalReader(handle.fileno(), handle, self._disk_path(rel), rel, expect)
        except BaseException:
            handle.close()
            raise

    def local_path(self, path: str) -> Path | None:
        """The file on disk (NFC/NFD resolved), or None when it is not a regular file."""
        disk = self._disk_path(paths.normalize(path))
        try:
            return Path(disk) if statmod.S_ISREG(os.stat(disk).st_mode) else None
        except OSError:
            return None

    # --- change notifications and upload completion (sources/changes.py) -------------------

    def watch_changes(self, sink: ChangeSink) -> ChangeWatch:
        """Watch the whole tree with inotify (``local_watch.LocalWatch``)."""
        return LocalWatch.start(self._root, sink)

    def upload_states(self, files: Sequence[str]) -> dict[str, Completion]:
        """Whether each file is still open for writing (``local_watch.upload_state``)."""
        found: dict[str, Completion] = {}
        for path in files:
            rel = paths.normalize(path)
            found[rel] = upload_state(self._disk_path(rel))
        return found

    # --- paths -----------------------------------------------------------------------------

    def _disk_path(self, rel: str) -> str:
        """The on-disk path of a catalog path, resolving NFC/NFD differences per component."""
        direct = os.path.join(self._root, rel) if rel else str(self._root)
        if not rel or os.path.lexists(direct):
            return direct
        current = str(self._root)
        for part in rel.split("/"):
            candidate = os.path.join(current, part)
            if not os.path.lexists(candidate):
                candidate = _match_normalised(current, part) or candidate
            current = candidate
        return current


class LocalReader(ReaderBase):
    """A ``FileReader`` over a local file: ``pread`` for random reads, sequential chunks with
    the kernel's read-ahead (``POSIX_FADV_SEQUENTIAL``). The path is checked before every
    read to still name the opened file, unchanged (a ``stat``, about a microsecond), so a
    reader stops with ``FileVanished``/``FileChanged`` as the SMB reader does."""

    def __init__(
        self, fd: int, handle: BinaryIO, disk: str, rel: str, expect: FileInfo | None
    ) -> None:
        self._fd = fd
        self._handle = handle
        self._disk = disk
        self._rel = rel
        st = os.fstat(fd)
        self._identity = (st.st_ino, st.st_size, st.st_mtime_ns)
        self._info = _info_from_stat(rel, st)
        self._stats = ReadStats(opens=1)
        if expect is not None and not same_version(self._info, expect):
            handle.close()
            raise FileChanged(f"{rel} is not the expected version")

    @property
    def info(self) -> FileInfo:
        return self._info

    def _check(self) -> None:
        try:
            st = os.stat(self._disk)
        except FileNotFoundError:
            raise FileVanished(f"no longer exists: {self._rel}") from None
        except OSError as exc:
            raise _translate(exc, self._rel, Path(self._disk)) from exc
        self._stats.checks += 1
        if (st.st_ino, st.st_size, st.st_mtime_ns) != self._identity:
            raise FileChanged(f"{self._rel} changed while it was read")

    def _pread(self, length: int, offset: int) -> bytes:
        if self._handle.closed:
            raise SourceError(f"read from a closed file: {self._rel}")
        self._check()
        try:
            data = os.pread(self._fd, length, offset)
        except OSError as exc:
            raise _translate(exc, self._rel, Path(self._disk)) from exc
        self._stats.requests += 1
        self._stats.bytes_read += len(data)
        self._stats.peak_buffered = max(self._stats.peak_buffered, len(data))
        return data

    def read_at(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError("offset and length must not be negative")
        return self._pread(length, offset) if length else b""

    def chunks(
        self,
        offset: int = 0,
        length: int | None = None,
        *,
        chunk: int = CHUNK,
        window: int | None = None,  # the kernel reads ahead on its own
    ) -> Iterator[memoryview]:
        if offset < 0 or (length is not None and length < 0):
            raise ValueError("offset and length must not be negative")
        end = self._info.size if length is None else min(self._info.size, offset + length)
        with contextlib.suppress(OSError, AttributeError):  # advice only
            os.posix_fadvise(self._fd, offset, 0, os.POSIX_FADV_SEQUENTIAL)
        position = offset
        while position < end:
            data = self._pread(min(chunk, end - position), position)
            if not data:
                raise FileChanged(f"{self._rel} is shorter than when it was opened")
            position += len(data)
            yield memoryview(data)

    def close(self) -> None:
        self._handle.close()


def _match_normalised(folder: str, name: str) -> str | None:
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if unicodedata.normalize("NFC", entry.name) == name:
                    return entry.path
    except OSError:
        return None
    return None


def _info_from_stat(rel: str, st: os.stat_result) -> FileInfo:
    is_dir = statmod.S_ISDIR(st.st_mode)
    return FileInfo(
        path=rel,
        size=0 if is_dir else st.st_size,
        mtime=st.st_mtime,
        file_id=str(st.st_ino),
        is_dir=is_dir,
    )


def _translate(exc: OSError, rel: str, root: Path) -> SourceError:
    shown = rel or str(root)  # the source's own folder, not "/" (read as the machine's root)
    if isinstance(exc, FileNotFoundError):
        return FileVanished(f"no longer exists: {shown}")
    if isinstance(exc, PermissionError):
        return PermissionDenied(f"permission denied: {shown}")
    if isinstance(exc, NotADirectoryError):
        return NotADirectory(f"not a folder: {shown}")
    if isinstance(exc, IsADirectoryError):
        return SourceError(f"is a folder, not a file: {shown}")
    return SourceError(f"cannot read {shown}: {exc.strerror or exc}")
