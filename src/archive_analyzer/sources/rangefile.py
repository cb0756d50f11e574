"""File objects and readers over positional reads, for libraries that want a file.

``RangeFile`` (the prober's libavformat fallback) turns ``read_at(offset, length)`` into a
seekable raw file; ``ReaderIO`` does the same over a ``FileReader`` with read-ahead for
sequential use (``SMBSource.open``); ``PartialReader`` is a ``FileReader`` over a source's
``read_partial``, for SMB servers only smbprotocol can serve.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from archive_analyzer.errors import FileChanged, SourceError
from archive_analyzer.sources.base import (
    CHUNK,
    FileInfo,
    FileReader,
    ReaderBase,
    ReadStats,
    same_version,
)

if TYPE_CHECKING:
    from archive_analyzer.sources.base import Source


class _PositionedFile(io.RawIOBase):
    """A read-only raw file of ``size`` bytes that keeps its own position: what ``RangeFile``
    and ``ReaderIO`` share (they differ only in how ``readinto`` gets the bytes).

    Seeking before the start raises ``OSError``; seeking past the end is allowed and reads
    return ``b""`` there.
    """

    def __init__(self, size: int, name: str = "") -> None:
        super().__init__()
        self._size = size
        self._pos = 0
        self.name = name

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._pos + offset
        elif whence == io.SEEK_END:
            target = self._size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if target < 0:
            raise OSError("seek before start of file")
        self._pos = target
        return target


class RangeFile(_PositionedFile):
    """``read_at(offset, length) -> bytes`` (fewer only at end of file) as a seekable raw file.

    Wrap it in ``io.BufferedReader`` for buffered reads.
    """

    def __init__(self, read_at: Callable[[int, int], bytes], size: int, name: str = "") -> None:
        super().__init__(size, name)
        self._read_at = read_at

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.closed:
            raise ValueError("read from a closed file")
        want = len(buffer)
        if want == 0:
            return 0
        data = self._read_at(self._pos, want)
        count = len(data)
        buffer[:count] = data
        self._pos += count
        return count


class ReaderIO(_PositionedFile):
    """A seekable raw file over a ``FileReader``, for libraries that want a file object.

    A read that continues where the previous one ended switches to the reader's read-ahead
    stream (``chunks``) until the next seek; any other read goes to ``read_at`` and reads
    exactly what is asked. Closing it closes the reader.
    """

    def __init__(self, reader: FileReader, size: int, name: str = "") -> None:
        super().__init__(size, name)
        self._reader = reader
        self._last_end = -1
        self._stream: Iterator[memoryview] | None = None
        self._stream_pos = 0
        self._buffered = memoryview(b"")

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.closed:
            raise ValueError("read from a closed file")
        want = len(buffer)
        if want == 0 or self._pos >= self._size:
            return 0
        if self._stream is not None and self._pos != self._stream_pos:
            self._stop_stream()
        if self._stream is None and self._pos == self._last_end:
            # the second read in a row that continues the previous one: read ahead from here
            self._stream = self._reader.chunks(self._pos)
            self._stream_pos = self._pos
        if self._stream is not None:
            if not self._buffered:
                chunk = next(self._stream, None)
                if chunk is None:
                    self._stop_stream()
                    return 0
                self._buffered = chunk
            count = min(want, len(self._buffered))
            buffer[:count] = self._buffered[:count]
            self._buffered = self._buffered[count:]
            self._stream_pos += count
        else:
            data = self._reader.read_at(self._pos, want)
            count = len(data)
            buffer[:count] = data
        self._pos += count
        self._last_end = self._pos
        return count

    def _stop_stream(self) -> None:
        stream, self._stream = self._stream, None
        self._buffered = memoryview(b"")
        if stream is not None and hasattr(stream, "close"):
            stream.close()

    def close(self) -> None:
        if not self.closed:
            self._stop_stream()
            self._reader.close()
        super().close()


class PartialReader(ReaderBase):
    """A ``FileReader`` over a source's ``stat`` and ``read_partial`` (no handle kept): the
    fallback for SMB servers only smbprotocol can talk to. Every read is a CREATE + READ +
    CLOSE round trip of up to 8 MiB, so it is slow but simple; each chunk of ``chunks``
    re-stats the file to stay on one version."""

    def __init__(self, source: Source, path: str, *, expect: FileInfo | None = None) -> None:
        self._source = source
        self._path = path
        self._expect = expect
        self._info: FileInfo | None = None
        self._stats = ReadStats()
        self._closed = False

    @property
    def info(self) -> FileInfo:
        if self._info is None:
            info = self._source.stat(self._path)
            self._stats.opens += 1
            if self._expect is not None and not same_version(info, self._expect):
                raise FileChanged(f"{self._path} is not the expected version")
            self._info = info
        return self._info

    def read_at(self, offset: int, length: int) -> bytes:
        if self._closed:
            raise SourceError(f"read from a closed file: {self._path}")
        first = self.info
        data = self._source.read_partial(self._path, offset, length)
        self._stats.requests += 1
        self._stats.bytes_read += len(data)
        self._check(first)
        return data

    def _check(self, first: FileInfo) -> None:
        """Each read opens the path anew: make sure it still names the same version."""
        if not same_version(self._source.stat(self._path), first):
            raise FileChanged(f"{self._path} changed while it was read")
        self._stats.checks += 1

    def chunks(
        self,
        offset: int = 0,
        length: int | None = None,
        *,
        chunk: int = CHUNK,
        window: int | None = None,  # the kernel reads ahead on its own
    ) -> Iterator[memoryview]:
        first = self.info
        end = first.size if length is None else min(first.size, offset + length)
        position = offset
        step = max(chunk, 8 * CHUNK)
        while position < end:
            data = self.read_at(position, min(step, end - position))
            if not data:
                raise FileChanged(f"{self._path} is shorter than when it was opened")
            view = memoryview(data)
            for start in range(0, len(view), chunk):
                self._stats.peak_buffered = max(self._stats.peak_buffered, len(view) - start)
                yield view[start : start + chunk]
            position += len(data)

    def close(self) -> None:
        self._closed = True
