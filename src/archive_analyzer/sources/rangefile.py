"""A read-only, seekable raw file object over positional reads, for libraries that want a file.

Used by the SMB source (``open``) and by the prober's libavformat fallback: both can read any
byte range of a file of known size, and neither should hold a server handle between reads.
"""

from __future__ import annotations

import io
from collections.abc import Callable


class RangeFile(io.RawIOBase):
    """``read_at(offset, length) -> bytes`` (fewer only at end of file) as a seekable raw file.

    Wrap it in ``io.BufferedReader`` for buffered reads. Seeking before the start raises
    ``OSError``; seeking past the end is allowed and reads return ``b""`` there.
    """

    def __init__(self, read_at: Callable[[int, int], bytes], size: int, name: str = "") -> None:
        super().__init__()
        self._read_at = read_at
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
