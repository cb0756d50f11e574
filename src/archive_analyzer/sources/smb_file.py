"""A seekable, read-only file object over an SMB share (for probing and streaming)."""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, BinaryIO, cast

from archive_analyzer.errors import SourceError

if TYPE_CHECKING:
    from archive_analyzer.sources.smb import SMBSource

BUFFER = 256 * 1024


class SMBRawFile(io.RawIOBase):
    """Raw reads at a position; each read is CREATE+READ+CLOSE in one round trip, so the
    object holds no server handle and survives reconnects without any reopening."""

    def __init__(self, source: SMBSource, rel: str, size: int) -> None:
        super().__init__()
        self._source = source
        self._rel = rel
        self._size = size
        self._pos = 0
        self.name = rel

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            target = offset
        elif whence == os.SEEK_CUR:
            target = self._pos + offset
        elif whence == os.SEEK_END:
            target = self._size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if target < 0:
            raise ValueError("negative seek position")
        self._pos = target
        return target

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.closed:
            raise ValueError("read from a closed file")
        want = len(buffer)
        if want == 0:
            return 0
        data = self._source.read_partial(self._rel, self._pos, want)
        count = len(data)
        buffer[:count] = data
        self._pos += count
        return count


def open_file(source: SMBSource, rel: str) -> BinaryIO:
    """A buffered reader over ``rel``; ``FileVanished`` if it is not there, ``SourceError``
    if it is a folder."""
    info = source.stat(rel)
    if info.is_dir:
        raise SourceError(f"is a folder, not a file: {rel}")
    raw = SMBRawFile(source, rel, info.size)
    return cast(BinaryIO, io.BufferedReader(raw, buffer_size=BUFFER))
