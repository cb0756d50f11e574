"""SMB directory listing, independent of the transport: buffer parsing and the ordered walk.

``parse_id_full_directory`` reads a QUERY_DIRECTORY output buffer of class
FileIdFullDirectoryInformation with ``struct`` directly: smbprotocol's ``Structure`` classes
cost about 100 us per entry, which made a 20,000-file walk take 26 s (see docs/sources.md).

``walk`` lists a tree through a ``Fetcher`` with many folder queries in flight at once while
still yielding entries in the documented traversal order (``paths.sort_key``).
"""

from __future__ import annotations

import logging
import struct
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from archive_analyzer import paths
from archive_analyzer.errors import FileVanished, PermissionDenied
from archive_analyzer.sources.base import FileInfo, folder_entries

log = logging.getLogger(__name__)

FILE_ID_FULL_DIRECTORY_INFORMATION = 0x26
FILE_ATTRIBUTE_DIRECTORY = 0x10
_FILETIME_EPOCH = 116444736000000000  # 1601-01-01 -> 1970-01-01 in 100 ns units

# MS-FSCC 2.4.18 FileIdFullDirectoryInformation, fixed part (80 bytes, the name follows):
# 0 next, 4 index, 8 ctime, 16 atime, 24 mtime, 32 change, 40 eof, 48 alloc, 56 attributes,
# 60 name length, 64 ea size, 68 reserved, 72 file id. Only the fields we use are unpacked.
_ID_FULL = struct.Struct("<I20xQ8xQ8xII8xQ")
_ID_FULL_FIXED = 80
assert _ID_FULL.size == _ID_FULL_FIXED


def filetime_to_posix(value: int) -> float:
    """SMB FILETIME (100 ns since 1601) to POSIX seconds."""
    return (value - _FILETIME_EPOCH) / 10_000_000


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One entry as the server named it (``name`` may be NFD or otherwise un-normalised)."""

    name: str
    size: int
    mtime: float
    file_id: str | None
    is_dir: bool

    def info(self, path: str) -> FileInfo:
        """This entry as the source's ``FileInfo`` for ``path`` (its NFC catalog path)."""
        return FileInfo(path, self.size, self.mtime, self.file_id, self.is_dir)


def parse_id_full_directory(buf: bytes | memoryview) -> list[RawEntry]:
    """Entries of a FileIdFullDirectoryInformation buffer, ``.`` and ``..`` left out."""
    out: list[RawEntry] = []
    offset = 0
    end = len(buf)
    unpack = _ID_FULL.unpack_from
    while offset + _ID_FULL_FIXED <= end:
        nxt, write_time, eof, attrs, name_len, file_id = unpack(buf, offset)
        start = offset + _ID_FULL_FIXED
        name = bytes(buf[start : start + name_len]).decode("utf-16-le", "surrogatepass")
        if name not in (".", ".."):
            is_dir = bool(attrs & FILE_ATTRIBUTE_DIRECTORY)
            out.append(
                RawEntry(
                    name=name,
                    size=0 if is_dir else eof,
                    mtime=filetime_to_posix(write_time),
                    file_id=str(file_id) if file_id else None,
                    is_dir=is_dir,
                )
            )
        if not nxt:
            break
        offset += nxt
    return out


class Fetcher(Protocol):
    """Asynchronous folder queries on one connection (the transport side of ``walk``)."""

    def submit(self, wire_path: str) -> object:
        """Send the query for one folder (path as the server spells it); return a ticket."""
        ...

    def result(self, ticket: object) -> list[RawEntry]:
        """Wait for a ticket's entries. Raises ``FileVanished``/``PermissionDenied``/...."""
        ...

    def in_flight(self) -> int:
        """How many submitted queries are not answered yet."""
        ...


def wire_join(parent: str, name: str) -> str:
    """Join server-side names with ``\\`` (SMB path separator)."""
    return f"{parent}\\{name}" if parent else name


def sorted_entries(raw: list[RawEntry]) -> list[tuple[str, RawEntry]]:
    """(NFC name, entry) sorted by code point, housekeeping out, NFC duplicates dropped."""
    return folder_entries(raw, lambda entry: entry.name)


def walk(
    fetcher: Fetcher,
    start: str,
    start_wire: str,
    *,
    recursive: bool,
    in_flight: int = 16,
    max_buffered: int = 4096,
    wire_names: dict[str, str] | None = None,
    wire_root: str = "",
) -> Iterator[FileInfo]:
    """Entries below ``start`` in traversal order, with up to ``in_flight`` queries pending.

    Folder queries are sent in the order the walk will need them (preorder): a folder's
    children go to the front of the queue when the folder is reached. ``max_buffered`` bounds
    answered-but-not-yet-yielded folders (memory). The start folder's errors propagate;
    unreadable sub-folders are logged and skipped, vanished ones skipped quietly.
    ``wire_names`` (if given) learns catalog path -> server path where the server path is
    not simply ``wire_root`` joined with the catalog path (names that are not NFC).
    """
    pending: dict[str, object] = {}
    queue: deque[tuple[str, str]] = deque()

    def fill() -> None:
        while queue and len(pending) < max_buffered and fetcher.in_flight() < in_flight:
            rel, wire = queue.popleft()
            pending[rel] = fetcher.submit(wire)

    def listing(rel: str, wire: str) -> list[tuple[str, RawEntry]] | None:
        ticket = pending.pop(rel, None)
        if ticket is None:
            if queue and queue[0][0] == rel:
                queue.popleft()
            ticket = fetcher.submit(wire)
        try:
            raw = fetcher.result(ticket)
        except PermissionDenied:
            if rel == start:
                raise
            log.warning("skipping unreadable folder %r: permission denied", rel)
            return None
        except FileVanished:
            if rel == start:
                raise
            log.info("folder vanished during the walk: %r", rel)
            return None
        return sorted_entries(raw)

    def descend(entry: RawEntry, ancestors: frozenset[str]) -> bool:
        # A server that follows symlinks shows a link to an ancestor as a folder with the
        # ancestor's file id: descending would never end.
        return recursive and entry.is_dir and entry.file_id not in ancestors

    def visit(rel: str, wire: str, ancestors: frozenset[str]) -> Iterator[FileInfo]:
        entries = listing(rel, wire)
        if entries is None:
            return
        if recursive:
            children = [
                (paths.join(rel, name), wire_join(wire, entry.name))
                for name, entry in entries
                if descend(entry, ancestors)
            ]
            queue.extendleft(reversed(children))
            fill()
        for name, entry in entries:
            child = paths.join(rel, name)
            child_wire = wire_join(wire, entry.name)
            if wire_names is not None and (
                entry.name != name or child_wire != _plain(wire_root, child)
            ):
                wire_names[child] = child_wire
            yield entry.info(child)
            if descend(entry, ancestors):
                yield from visit(child, child_wire, ancestors | {entry.file_id or child})
            elif recursive and entry.is_dir:
                log.warning("not descending into %r: it loops back to a folder above it", child)

    yield from visit(start, start_wire, frozenset())


def _plain(wire_root: str, rel: str) -> str:
    """The wire path of ``rel`` when every name on the way is spelled in NFC."""
    tail = rel.replace("/", "\\")
    return wire_join(wire_root, tail) if tail else wire_root
