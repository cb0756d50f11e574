"""A seekable, read-only file object over an SMB share (for probing and streaming)."""

from __future__ import annotations

import io
from typing import BinaryIO, cast

from archive_analyzer.errors import SourceError
from archive_analyzer.sources.base import Source
from archive_analyzer.sources.rangefile import RangeFile

BUFFER = 256 * 1024


def open_file(source: Source, rel: str) -> BinaryIO:
    """A buffered reader over ``rel``; ``FileVanished`` if it is not there, ``SourceError``
    if it is a folder."""
    info = source.stat(rel)
    if info.is_dir:
        raise SourceError(f"is a folder, not a file: {rel}")
    # Each read is CREATE+READ+CLOSE in one round trip: the file object holds no server handle
    # and survives reconnects without any reopening.
    raw = RangeFile(lambda offset, length: source.read_partial(rel, offset, length), info.size, rel)
    return cast(BinaryIO, io.BufferedReader(raw, buffer_size=BUFFER))
