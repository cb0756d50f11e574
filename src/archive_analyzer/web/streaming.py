"""Byte-range streaming of a catalogued file through its Source.

The body comes from the source's ``FileReader.chunks``: over SMB, pipelined READs of 1 MiB
read ahead in a bounded window (a slow player holds about two chunks, a fast download the
whole window), locally ``pread`` with the kernel's read-ahead. Each chunk is handed to the
server as it is, so a stream holds a few MiB at most regardless of the file's size, and
nothing touches the disk. Reads run in the thread pool; the reader is closed when the
response ends, fails or the client goes away.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterator

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from archive_analyzer.errors import ArchiveError
from archive_analyzer.sources.base import FileReader

log = logging.getLogger(__name__)

# Reads ahead per stream at most: the client's TCP buffers absorb bursts, so more only holds
# memory (a slow player held ~9 MiB with 8); 4 x 1 MiB still outruns a fast download.
WINDOW = 4

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


async def answer_closing(reader: FileReader, answer: Awaitable[Response]) -> Response:
    """``answer``'s response; ``reader`` is closed here unless a streaming body (``body``) took
    it over, also when ``answer`` fails."""
    handed_over = False
    try:
        response = await answer
        handed_over = isinstance(response, StreamingResponse)
        return response
    finally:
        if not handed_over:  # the body closes the reader when it has one
            await run_in_threadpool(reader.close)


async def body(
    reader: FileReader,
    label: str,
    first: int,
    length: int,
    sent: Callable[[int], None] | None = None,
) -> AsyncGenerator[bytes | memoryview, None]:
    """Yield ``length`` bytes of ``reader``'s file from offset ``first``, then close it
    (``sent`` is told each chunk's size).

    Ends early (quietly, logged once) if the file shrinks, changes, vanishes or the source
    fails mid-stream: the status line has gone out already, so the client sees a short body
    and asks again with a range (and ``If-Range``, which a changed file no longer matches).
    The reader is closed however the response ends, a client hanging up (the task is
    cancelled) included.
    """
    chunks = reader.chunks(first, length, window=WINDOW)
    remaining = length
    try:
        while remaining > 0:
            chunk = await run_in_threadpool(next, chunks, None)
            if chunk is None:
                log.warning("stream of %s ended %d bytes short", label, remaining)
                return
            remaining -= len(chunk)
            if sent is not None:
                sent(len(chunk))
            yield chunk
    except (ArchiveError, OSError) as exc:
        log.warning("stream of %s stopped: %s", label, exc)
    finally:
        with anyio.CancelScope(shield=True):  # a cancelled response still closes its handle
            await run_in_threadpool(_close, chunks, reader)


def _close(chunks: Iterator[memoryview], reader: FileReader) -> None:
    try:
        if isinstance(chunks, Generator):
            chunks.close()
        reader.close()
    except (ArchiveError, OSError) as exc:  # the response is over; nothing more to tell
        log.debug("closing a streamed file failed: %s", exc)
