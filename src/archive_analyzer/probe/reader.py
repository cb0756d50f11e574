"""A seekable, read-only, counting reader over one file of any source, with a byte budget.

Parsers ask for small pieces (box headers, element headers, packets) scattered over a file
that may be 90 GB and behind SMB. ``CountingReader`` turns those into aligned block reads
(16 KiB by default, a small LRU of them), so neighbouring small reads cost one round trip,
counts every byte and call that reached the source, refuses to fetch past its budget
(``BudgetExceeded``) or its deadline (``ProbeTimeout``), and offers a file-like view
(``ReaderFile``) for libavformat (PyAV) on top of the same counters.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from archive_analyzer.errors import ArchiveError, BudgetExceeded, ProbeTimeout, SourceError
from archive_analyzer.sources.base import FileReader
from archive_analyzer.sources.rangefile import RangeFile

Fetch = Callable[[int, int], bytes]

DEFAULT_BLOCK = 16 * 1024
DEFAULT_CACHE_BLOCKS = 16


class CountingReader:
    """Random access to one file: ``read(offset, length)``, counting and bounded.

    ``fetch(offset, length)`` reads from the source (fewer bytes only at end of file).
    ``size`` is the file's size as listed; reads never go past it. ``budget`` caps the bytes
    fetched from the source (cache hits are free); ``deadline`` is a ``time.monotonic()``
    value after which any further fetch raises ``ProbeTimeout``.
    """

    def __init__(
        self,
        fetch: Fetch,
        size: int,
        *,
        budget: int,
        block_size: int = DEFAULT_BLOCK,
        cache_blocks: int = DEFAULT_CACHE_BLOCKS,
        deadline: float | None = None,
    ) -> None:
        if block_size <= 0 or cache_blocks <= 0:
            raise ValueError("block_size and cache_blocks must be positive")
        self._fetch = fetch
        self._size = max(0, size)
        self.budget = budget
        self.block_size = block_size
        self._cache_blocks = cache_blocks
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self.deadline = deadline
        self.bytes_read = 0
        self.reads = 0

    @classmethod
    def for_file(
        cls, file: FileReader, size: int, *, budget: int, deadline: float | None = None
    ) -> CountingReader:
        """A reader over an open source file (its ``read_at``: exactly the bytes asked for,
        no read-ahead, one handle for the whole probe)."""
        return cls(file.read_at, size, budget=budget, deadline=deadline)

    @classmethod
    def for_bytes(cls, data: bytes, *, budget: int | None = None) -> CountingReader:
        """A reader over bytes in memory (tests, ``extract_from_bytes``)."""

        def fetch(offset: int, length: int) -> bytes:
            return data[offset : offset + length]

        return cls(fetch, len(data), budget=len(data) if budget is None else budget)

    @property
    def size(self) -> int:
        """The file's size in bytes."""
        return self._size

    @property
    def remaining_budget(self) -> int:
        """Bytes that may still be fetched from the source."""
        return max(0, self.budget - self.bytes_read)

    def read(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset``; fewer only at the end of the file.

        Raises ``BudgetExceeded`` instead of fetching past the budget, ``ProbeTimeout`` past
        the deadline, and lets the source's ``SourceError`` through.
        """
        if offset < 0 or length < 0:
            raise ValueError("negative offset or length")
        end = min(offset + length, self._size)
        if offset >= end:
            return b""
        bs = self.block_size
        first, last = offset // bs, (end - 1) // bs
        blocks: dict[int, bytes] = {}
        run_start: int | None = None
        for index in range(first, last + 2):
            cached = self._cache.get(index) if index <= last else None
            if cached is not None:
                self._cache.move_to_end(index)
                blocks[index] = cached
            if index <= last and cached is None:
                if run_start is None:
                    run_start = index
                continue
            if run_start is not None:
                blocks.update(self._fetch_run(run_start, index))
                run_start = None
        data = b"".join(blocks[i] for i in range(first, last + 1))
        start = offset - first * bs
        return data[start : start + (end - offset)]

    def _fetch_run(self, first: int, stop: int) -> dict[int, bytes]:
        """Fetch blocks ``first``..``stop - 1`` in one call; cache them; return them."""
        bs = self.block_size
        offset = first * bs
        length = min(stop * bs, self._size) - offset
        if self.bytes_read + length > self.budget:
            raise BudgetExceeded(
                f"reading {length} bytes at {offset} would exceed the budget of {self.budget} "
                f"bytes ({self.bytes_read} read)"
            )
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ProbeTimeout(f"probe time limit reached after {self.bytes_read} bytes")
        data = self._fetch(offset, length)
        self.reads += 1
        self.bytes_read += len(data)
        if len(data) < length:
            # The file is shorter than listed (it shrank, or is being rewritten): trust the data.
            self._size = offset + len(data)
        found: dict[int, bytes] = {}
        for i in range(first, stop):
            piece = data[(i - first) * bs : (i - first + 1) * bs]
            found[i] = piece
            self._cache[i] = piece
            self._cache.move_to_end(i)
        while len(self._cache) > self._cache_blocks:
            self._cache.popitem(last=False)
        return found


def local_reader(
    path: Path | str, *, budget: int, deadline: float | None = None
) -> tuple[CountingReader, Callable[[], None]]:
    """A reader over a local file and a function that closes it.

    Raises ``SourceError`` when the file cannot be opened.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
        size = os.fstat(fd).st_size
    except OSError as exc:
        raise SourceError(f"cannot open {path}: {exc.strerror or exc}") from exc

    def fetch(offset: int, length: int) -> bytes:
        try:
            return os.pread(fd, length, offset)
        except OSError as exc:
            raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from exc

    return CountingReader(fetch, size, budget=budget, deadline=deadline), lambda: os.close(fd)


class ReaderFile(RangeFile):
    """A read-only, seekable file object over a ``CountingReader`` (for PyAV / libavformat).

    Reads go through the reader, so they count against the same budget and deadline.
    """

    def __init__(self, reader: CountingReader) -> None:
        super().__init__(reader.read, reader.size)
        # The first budget / time / I/O failure. Later reads return EOF instead of raising
        # again: libavformat retries reads, and PyAV would print and drop the first error.
        self.failure: ArchiveError | None = None

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = max(0, self._size - self.tell())  # the rest in one read, not a readall loop
        return super().read(size) or b""

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.failure is not None:
            return 0
        try:
            return super().readinto(buffer)
        except (BudgetExceeded, ProbeTimeout, SourceError) as exc:
            self.failure = exc
            raise
