"""Sequential reading of a whole file for hashing: the one seam to the source's reader.

Everything in ``fixity`` that reads a file front to back goes through ``read_blocks``, so
switching to the source's fast pipelined reader (issue 13) is a change here only. Until it
lands this reads through ``Source.open`` in ``block``-sized reads.
"""

from __future__ import annotations

from collections.abc import Iterator

from archive_analyzer.errors import SourceError
from archive_analyzer.sources.base import Source

BLOCK = 1024 * 1024  # bytes per read; the throttle paces at this granularity


def read_blocks(
    source: Source, path: str, *, offset: int = 0, block: int = BLOCK
) -> Iterator[bytes]:
    """The bytes of ``path`` from ``offset`` to its end, in reads of at most ``block`` bytes.

    Raises ``FileVanished``/``SourceError`` as the source does; an ``OSError`` from the file
    object is a ``SourceError``.
    """
    try:
        handle = source.open(path)
    except OSError as exc:
        raise SourceError(f"cannot open {path}: {exc}") from exc
    with handle:
        try:
            handle.seek(offset)
            while True:
                data = handle.read(block)
                if not data:
                    return
                yield data
        except OSError as exc:
            raise SourceError(f"cannot read {path}: {exc}") from exc
