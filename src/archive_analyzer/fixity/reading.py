"""Sequential reading of a whole file for hashing: the one seam to the source's reader.

Everything in ``fixity`` that reads a file front to back goes through ``read_blocks``: the
source's fast sequential reader (``Source.open_reader(...).chunks``, issue 13: reads
pipelined ahead of the hasher in a bounded window, the file checked to stay the version
asked for, ``FileChanged`` otherwise).
"""

from __future__ import annotations

from collections.abc import Generator

from archive_analyzer.sources.base import CHUNK, FileInfo, Source

BLOCK = CHUNK  # bytes per read (1 MiB); the throttle paces at this granularity


def read_blocks(
    source: Source,
    path: str,
    *,
    offset: int = 0,
    block: int = BLOCK,
    expect: FileInfo | None = None,
) -> Generator[memoryview, None, None]:
    """The bytes of ``path`` from ``offset`` to its end, in reads of at most ``block`` bytes.

    ``expect``: the version meant (size and mtime; ``FileChanged`` when the file is another).
    Raises ``FileVanished`` and the source's other errors.
    """
    with source.open_reader(path, expect=expect) as reader:
        yield from reader.chunks(offset, chunk=block)
