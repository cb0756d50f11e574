"""Hashing one file version: whole-file xxh128, one xxh128 per fixed chunk, a sampled hash.

``hash_file`` reads the file once, front to back (``reading.read_blocks``), paced by a
``Throttle``. After each finished chunk it hands a ``Checkpoint`` to its caller (the chunk
hashes so far and the saved whole-file hash state), so a job killed mid-file resumes at the
last finished chunk. It checks the file is the version asked for before and after reading:
a different size or mtime is ``changed`` (a new version, not a fixity failure), a file gone
is ``vanished``. With ``expected`` chunk hashes (a verification) it reports which chunks
differ.

Values in, values out: the source, the clock and the pacing are injected; nothing here
touches the catalog.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

import xxhash

from archive_analyzer.errors import FileChanged, FileVanished, SourceError
from archive_analyzer.fixity.reading import BLOCK, read_blocks
from archive_analyzer.fixity.throttle import QuietHours, Throttle
from archive_analyzer.fixity.xxh import Xxh128, snapshot_usable, xxh128_hex
from archive_analyzer.sources.base import FileInfo, Source

log = logging.getLogger(__name__)

SAMPLE_SPAN = 1024 * 1024  # bytes taken at the start, middle and end for the sampled hash
_MTIME_SLACK = 1e-6


class HashStatus(StrEnum):
    DONE = "done"  # every byte read; ``xxh128`` and ``chunks`` are set
    CHANGED = "changed"  # the file is another version than asked for (size or mtime)
    VANISHED = "vanished"  # the file is gone
    PAUSED = "paused"  # stopped at a chunk boundary (quiet hours over, shutdown)
    ERROR = "error"  # the source failed; ``error`` says how


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Where a hash of one file version stands after ``len(chunks)`` finished chunks.

    ``state`` is the saved whole-file hash (``Xxh128.snapshot``); None when the hash cannot be
    saved, and then a resume starts the file over.
    """

    chunk_bytes: int
    chunks: tuple[str, ...]
    state: bytes | None

    @property
    def next_chunk(self) -> int:
        return len(self.chunks)

    @property
    def offset(self) -> int:
        return self.next_chunk * self.chunk_bytes


@dataclass(frozen=True, slots=True)
class HashRequest:
    """One file version to hash. ``expected`` are the stored chunk hashes of this version
    (a verification: differing chunks are reported); ``resume`` a checkpoint to continue."""

    path: str
    size: int
    mtime: float
    chunk_bytes: int
    expected: tuple[str, ...] | None = None
    resume: Checkpoint | None = None


@dataclass(frozen=True, slots=True)
class HashResult:
    status: HashStatus
    xxh128: str | None = None
    chunks: tuple[str, ...] = ()
    sample: str | None = None
    differing: tuple[int, ...] = ()  # chunk indexes whose hash differs from ``expected``
    bytes_read: int = 0
    seconds: float = 0.0
    resumed_at: int = 0  # the chunk the read started at (0: from the start)
    observed: tuple[int, float] | None = None  # size and mtime found, for ``changed``
    error: str | None = None
    throttled_s: float = 0.0
    checkpoint: Checkpoint | None = None  # for ``paused``: where to continue
    chunk_bytes: int = 0  # the chunk size of ``chunks``


@dataclass(frozen=True, slots=True)
class HashControl:
    """What may stop a hash between chunks: quiet hours ending, or a shutdown."""

    quiet_hours: QuietHours | None = None
    clock: Callable[[], datetime] | None = None
    should_stop: Callable[[], bool] = field(default=lambda: False)

    def stop_reason(self) -> str | None:
        if self.should_stop():
            return "stopping"
        hours, clock = self.quiet_hours, self.clock
        if hours is not None and clock is not None and not hours.contains(clock()):
            return "outside quiet hours"
        return None


OnCheckpoint = Callable[[Checkpoint], None]


def same_version(size: int, mtime: float, other_size: int, other_mtime: float) -> bool:
    return size == other_size and abs(mtime - other_mtime) <= _MTIME_SLACK


def same_version_sql(taken: str, file: str = "f") -> str:
    """``same_version`` as an SQL condition: the row aliased ``taken`` (a ``file_hashes`` or
    ``file_frames`` row, which record the size and mtime they were taken of) is of the current
    version of the file aliased ``file``."""
    return f"{taken}.size = {file}.size AND abs({taken}.mtime - {file}.mtime) <= {_MTIME_SLACK}"


def sample_ranges(size: int, span: int = SAMPLE_SPAN) -> list[tuple[int, int]]:
    """(offset, length) of the first, middle and last ``span`` bytes (the whole file when it
    is small); the ranges never overlap."""
    if size <= 3 * span:
        return [(0, size)] if size else []
    middle = (size - span) // 2
    return [(0, span), (middle, span), (size - span, span)]


def sample_hash(source: Source, path: str, size: int) -> str:
    """xxh128 over the size and the first, middle and last MiB: equal files always agree, and
    files of one size that differ almost always differ here too (a candidate, not a proof)."""
    digest = xxhash.xxh3_128()
    digest.update(size.to_bytes(8, "little"))
    for offset, length in sample_ranges(size):
        data = source.read_partial(path, offset, length)
        if len(data) != length:
            raise SourceError(f"{path} is shorter than listed")
        digest.update(data)
    return str(digest.hexdigest())


def hash_file(
    source: Source,
    request: HashRequest,
    *,
    throttle: Throttle,
    control: HashControl | None = None,
    on_checkpoint: OnCheckpoint | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> HashResult:
    """Hash ``request.path`` as described in the module doc; never raises for the file's
    sake (a source failure is status ``error``)."""
    control = control or HashControl()
    t0 = monotonic()
    try:
        info = source.stat(request.path)
    except FileVanished:
        return HashResult(HashStatus.VANISHED, seconds=monotonic() - t0)
    except SourceError as exc:
        return HashResult(HashStatus.ERROR, error=str(exc), seconds=monotonic() - t0)
    if not same_version(info.size, info.mtime, request.size, request.mtime):
        return HashResult(
            HashStatus.CHANGED, observed=(info.size, info.mtime), seconds=monotonic() - t0
        )
    run = _Run(request, throttle, control, on_checkpoint)
    try:
        result = run.read(source)
    except FileChanged:  # the reader saw another version mid-read: say which
        return _changed(source, request, run.bytes_read, monotonic() - t0)
    except FileVanished:
        return HashResult(HashStatus.VANISHED, bytes_read=run.bytes_read, seconds=monotonic() - t0)
    except SourceError as exc:
        return HashResult(
            HashStatus.ERROR, error=str(exc), bytes_read=run.bytes_read, seconds=monotonic() - t0
        )
    seconds = monotonic() - t0
    if result.status is not HashStatus.DONE:
        return _timed(result, seconds, throttle)
    # Read to the end: is it still the version we were asked for?
    try:
        after = source.stat(request.path)
    except FileVanished:
        return HashResult(HashStatus.VANISHED, bytes_read=run.bytes_read, seconds=seconds)
    except SourceError as exc:
        return HashResult(HashStatus.ERROR, error=str(exc), bytes_read=run.bytes_read)
    if not same_version(after.size, after.mtime, request.size, request.mtime):
        return HashResult(
            HashStatus.CHANGED,
            observed=(after.size, after.mtime),
            bytes_read=run.bytes_read,
            seconds=seconds,
        )
    try:
        sample = sample_hash(source, request.path, request.size)
    except FileVanished:
        return HashResult(HashStatus.VANISHED, bytes_read=run.bytes_read, seconds=seconds)
    except SourceError as exc:
        return HashResult(HashStatus.ERROR, error=str(exc), bytes_read=run.bytes_read)
    return _timed(
        HashResult(
            HashStatus.DONE,
            xxh128=result.xxh128,
            chunks=result.chunks,
            sample=sample,
            differing=result.differing,
            bytes_read=run.bytes_read,
            resumed_at=run.resumed_at,
            chunk_bytes=request.chunk_bytes,
        ),
        seconds,
        throttle,
    )


def _changed(source: Source, request: HashRequest, nbytes: int, seconds: float) -> HashResult:
    try:
        info = source.stat(request.path)
    except FileVanished:
        return HashResult(HashStatus.VANISHED, bytes_read=nbytes, seconds=seconds)
    except SourceError as exc:
        return HashResult(HashStatus.ERROR, error=str(exc), bytes_read=nbytes, seconds=seconds)
    return HashResult(
        HashStatus.CHANGED, observed=(info.size, info.mtime), bytes_read=nbytes, seconds=seconds
    )


def _timed(result: HashResult, seconds: float, throttle: Throttle) -> HashResult:
    return replace(result, seconds=seconds, throttled_s=throttle.waited_s)


def differing_chunks(expected: Sequence[str], actual: Sequence[str]) -> tuple[int, ...]:
    """Indexes where two chunk lists differ (a missing chunk on either side differs)."""
    length = max(len(expected), len(actual))
    return tuple(
        i
        for i in range(length)
        if i >= len(expected) or i >= len(actual) or expected[i] != actual[i]
    )


class _Run:
    """One pass over the file (from the start or a checkpoint)."""

    def __init__(
        self,
        request: HashRequest,
        throttle: Throttle,
        control: HashControl,
        on_checkpoint: OnCheckpoint | None,
    ) -> None:
        self.request = request
        self.throttle = throttle
        self.control = control
        self.on_checkpoint = on_checkpoint
        self.bytes_read = 0
        self.resumed_at = 0

    def _start(self) -> tuple[Xxh128, list[str]]:
        resume = self.request.resume
        if resume is None or not resume.chunks:
            return Xxh128(), []
        if resume.chunk_bytes != self.request.chunk_bytes:
            log.info("%s: chunk size changed since the checkpoint; hashing from the start",
                     self.request.path)  # fmt: skip
            return Xxh128(), []
        if resume.state is None or not snapshot_usable(resume.state):
            log.warning(
                "%s: the saved hash state cannot be used here; hashing from the start",
                self.request.path,
            )
            return Xxh128(), []
        self.resumed_at = resume.next_chunk
        log.info("%s: resuming at chunk %d (byte %d)", self.request.path, resume.next_chunk,
                 resume.offset)  # fmt: skip
        return Xxh128(resume.state), list(resume.chunks)

    def read(self, source: Source) -> HashResult:
        request = self.request
        whole, chunks = self._start()
        size = request.chunk_bytes
        offset = len(chunks) * size
        chunk = xxhash.xxh3_128()
        in_chunk = 0
        reason = None if offset >= request.size else self.control.stop_reason()
        if reason is not None:
            return self._paused(whole, chunks, reason)
        expect = FileInfo(request.path, request.size, request.mtime, None, False)
        blocks = read_blocks(
            source, request.path, offset=offset, block=min(BLOCK, size), expect=expect
        )
        with contextlib.closing(blocks):  # the reader is closed on every exit
            for data in blocks:
                self.bytes_read += len(data)
                view = memoryview(data)
                while view:
                    take = min(len(view), size - in_chunk)
                    part = data if take == len(data) else view[:take]
                    chunk.update(part)
                    whole.update(part)
                    in_chunk += take
                    view = view[take:]
                    if in_chunk == size:
                        chunks.append(str(chunk.hexdigest()))
                        chunk = xxhash.xxh3_128()
                        in_chunk = 0
                        offset += size
                        self._checkpoint(whole, chunks)
                        if offset < request.size:
                            reason = self.control.stop_reason()
                            if reason is not None:
                                return self._paused(whole, chunks, reason)
                self.throttle.take(len(data))
                if offset + in_chunk > request.size:
                    break  # grew while being read: the version check after the read says so
        if in_chunk:
            chunks.append(str(chunk.hexdigest()))
        # A file shorter or longer than listed: the stat after the read says which version it
        # is; if it is still "the same" the hashes differ and a verification says mismatch.
        if not chunks:  # an empty file: one empty chunk, so it has a chunk list like others
            chunks.append(xxh128_hex(b""))
        differing = (
            differing_chunks(request.expected, chunks) if request.expected is not None else ()
        )
        return HashResult(
            HashStatus.DONE, xxh128=whole.hexdigest(), chunks=tuple(chunks), differing=differing
        )

    def _checkpoint(self, whole: Xxh128, chunks: list[str]) -> None:
        if self.on_checkpoint is None:
            return
        self.on_checkpoint(Checkpoint(self.request.chunk_bytes, tuple(chunks), whole.snapshot()))

    def _paused(self, whole: Xxh128, chunks: list[str], reason: str) -> HashResult:
        log.info("%s: hashing paused at chunk %d (%s)", self.request.path, len(chunks), reason)
        point = Checkpoint(self.request.chunk_bytes, tuple(chunks), whole.snapshot())
        return HashResult(
            HashStatus.PAUSED, error=reason, bytes_read=self.bytes_read, checkpoint=point
        )
