"""Byte-range streaming of a catalogued file through its Source.

The body is read in ``CHUNK`` pieces from the source's file object (a local file or an SMB
handle doing range reads) and handed to the server one at a time, so a stream holds at most
one chunk in memory regardless of the file's size, and nothing touches the disk. Reads run in
the thread pool; the file is closed when the response ends or the client goes away.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import AsyncIterator
from typing import BinaryIO

from starlette.concurrency import run_in_threadpool

from archive_analyzer.errors import ArchiveError
from archive_analyzer.sources.base import Source

log = logging.getLogger(__name__)

CHUNK = 512 * 1024

# What browsers accept for the containers they can play (Chromium plays H.264 .mov as mp4).
_TYPES = {
    "mp4": "video/mp4",
    "m4v": "video/mp4",
    "mov": "video/mp4",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "ts": "video/mp2t",
    "m2ts": "video/mp2t",
    "mxf": "application/mxf",
    "avi": "video/x-msvideo",
}


def content_type(ext: str) -> str:
    """The Content-Type for a file extension (no dot)."""
    ext = ext.lower()
    if ext in _TYPES:
        return _TYPES[ext]
    guessed, _ = mimetypes.guess_type(f"x.{ext}")
    return guessed or "application/octet-stream"


async def body(
    source: Source, path: str, first: int, length: int, chunk: int = CHUNK
) -> AsyncIterator[bytes]:
    """Yield ``length`` bytes of ``path`` from offset ``first`` in chunks of at most ``chunk``.

    Ends early (quietly, logged) if the file shrinks or the source fails mid-stream: the
    status line has gone out already, so the client sees a short body and retries a range.
    """
    handle: BinaryIO = await run_in_threadpool(source.open, path)
    try:
        await run_in_threadpool(handle.seek, first)
        remaining = length
        while remaining > 0:
            data = await run_in_threadpool(handle.read, min(chunk, remaining))
            if not data:
                log.warning("stream of %s ended %d bytes short", path, remaining)
                return
            remaining -= len(data)
            yield data
    except (ArchiveError, OSError) as exc:
        log.warning("stream of %s failed: %s", path, exc)
    finally:
        await run_in_threadpool(handle.close)
