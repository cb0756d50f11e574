"""The probe engine: one file -> ``ProbeResult``, many files -> a bounded pool of probes.

Strategies:
- ``smart`` (default): sniff the container from the first bytes, run our parser for it
  (``mp4``, ``mkv``, ``ts``, ``mxf``, ``avi``, ``asf``), and fall back to libavformat (PyAV)
  over the same counting reader when no parser claims the file, or a parser fails or leaves
  the essentials out (``probe/parsers.py`` lists the parsers; each is imported at start-up,
  so a broken parser module fails loudly instead of sending every file to libavformat).
  Everything stays under the byte budget.
- ``ladder``: the seed's ffprobe ladder over stdin (baseline; may read the whole file).
- ``full``: ffprobe on the whole file (ground truth; by path for local files).

A file's properties (empty, not media, truncated, still being written) are results, never
exceptions; only I/O failures and time-outs give status ``error``.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from archive_analyzer.errors import (
    ArchiveError,
    BudgetExceeded,
    ParseError,
    ProbeError,
    ProbeTimeout,
    SourceError,
)
from archive_analyzer.probe import ffprobe, libav
from archive_analyzer.probe.facts import Facts
from archive_analyzer.probe.parsers import PARSERS
from archive_analyzer.probe.reader import CountingReader
from archive_analyzer.probe.result import ProbeResult, ProbeStatus
from archive_analyzer.probe.sniff import SNIFF_BYTES, sniff
from archive_analyzer.sources.base import FileReader, Source

log = logging.getLogger(__name__)

STRATEGIES = ("smart", "ladder", "full")
DEFAULT_BUDGET = 8 * 1024 * 1024
DEFAULT_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class ProbeOptions:
    """How to probe (built at the entrance from the ``probe_*`` settings).

    ``budget`` caps the bytes read from the source for ``smart`` (``ladder`` and ``full``
    read what they need, up to the whole file); ``timeout_s`` is the wall-clock limit per
    file (an ffprobe still running then is killed); ``concurrency`` is the number of files
    ``probe_many`` probes at once.
    """

    strategy: str = "smart"
    budget: int = DEFAULT_BUDGET
    timeout_s: float = DEFAULT_TIMEOUT_S
    concurrency: int = 4


DEFAULTS = ProbeOptions()


def probe_file(
    source: Source,
    path: str,
    options: ProbeOptions = DEFAULTS,
    *,
    size: int | None = None,
    local_path: Path | None = None,
) -> ProbeResult:
    """Probe ``path`` of ``source`` and return what was found; never raises for the file.

    ``size`` saves a ``stat`` when the caller listed the file; ``local_path`` lets ``full``
    hand a local file to ffprobe by path. Raises ``ValueError`` only for an unknown strategy.
    """
    strategy, budget, timeout_s = options.strategy, options.budget, options.timeout_s
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown probe strategy {strategy!r}; use one of {STRATEGIES}")
    start = time.monotonic()
    deadline = start + timeout_s
    base = ProbeResult(path=path, status=ProbeStatus.ERROR, strategy=strategy)
    reader: CountingReader | None = None
    file: FileReader | None = None
    try:
        if size is None:
            size = source.stat(path).size
        if size == 0:
            return _finish(base, start, None, size, ProbeStatus.INVALID, "empty file")
        whole = budget + 3 * size  # ladder/full: a few head/tail pieces plus the whole file
        # one open handle for the whole probe; its first read goes with the open (SMB)
        file = source.open_reader(path)
        reader = CountingReader.for_file(
            file, size, budget=budget if strategy == "smart" else whole, deadline=deadline
        )
        if strategy == "smart":
            facts = _smart(reader)
        elif strategy == "ladder":
            facts = ffprobe.ladder(reader, deadline)
        else:
            answer = _full(reader, local_path, deadline, base)
            if isinstance(answer, ProbeResult):
                return _timed(answer, start, size)
            facts = answer
        return _finish(base, start, reader, size, facts.status, facts.error, facts)
    except ParseError as exc:
        return _finish(base, start, reader, size, ProbeStatus.INVALID, str(exc))
    except BudgetExceeded as exc:
        return _finish(base, start, reader, size, ProbeStatus.UNSUPPORTED, f"budget: {exc}")
    except ProbeTimeout as exc:
        return _finish(base, start, reader, size, ProbeStatus.ERROR, str(exc))
    except ProbeError as exc:
        return _finish(base, start, reader, size, ProbeStatus.INVALID, str(exc))
    except (SourceError, OSError) as exc:
        return _finish(base, start, reader, size, ProbeStatus.ERROR, f"I/O: {exc}")
    except ArchiveError as exc:
        return _finish(base, start, reader, size, ProbeStatus.ERROR, str(exc))
    except Exception as exc:  # a bug (ours or a library's) must not stop a scan of thousands
        log.exception("probing %s failed unexpectedly", path)
        return _finish(base, start, reader, size, ProbeStatus.ERROR, f"internal: {exc!r}")
    finally:
        if file is not None:
            _close_quietly(file)


def _close_quietly(file: FileReader) -> None:
    try:
        file.close()
    except (SourceError, OSError) as exc:  # the result is made; a failed close changes nothing
        log.debug("closing a probed file failed: %s", exc)


def _smart(reader: CountingReader) -> Facts:
    """Our parser for the sniffed container, else (or on failure) libavformat."""
    kind = sniff(reader.read(0, SNIFF_BYTES))
    parse = PARSERS[kind] if kind else None
    failure: str | None = None
    partial: Facts | None = None
    if parse is not None:
        try:
            facts = parse(reader)
        except (BudgetExceeded, ProbeTimeout, SourceError):
            raise
        except ParseError as exc:
            failure = f"{kind}: {exc}"
        except Exception as exc:  # a parser bug must not lose the file: fall back, loudly
            log.warning("%s parser failed on a file: %r", kind, exc)
            failure = f"{kind}: {exc!r}"
        else:
            if _enough(facts):
                return facts
            partial, failure = facts, f"{kind}: incomplete facts"
    try:
        return libav.parse(reader)
    except ParseError as exc:
        if partial is not None:
            return partial
        if kind is None:
            raise ParseError(
                "not a media file (no known container, libavformat found none)"
            ) from exc
        raise ParseError(failure or str(exc)) from exc


def _enough(facts: Facts) -> bool:
    """Whether a parser's facts can stand alone (else libavformat gets a chance)."""
    if facts.status is not ProbeStatus.OK:
        return True  # truncated / incomplete / invalid are answers in themselves
    has_streams = facts.video is not None or bool(facts.audio)
    return has_streams and facts.duration_s is not None


def _full(
    reader: CountingReader, local_path: Path | None, deadline: float, base: ProbeResult
) -> Facts | ProbeResult:
    if local_path is not None:
        facts, read_bytes, calls = ffprobe.full_local(local_path, deadline)
        if facts is None:
            return replace(
                base,
                status=ProbeStatus.INVALID,
                error="ffprobe found no media",
                bytes_read=read_bytes,
                reads=calls,
            )
        return replace(_apply(base, facts, reader.size), bytes_read=read_bytes, reads=calls)
    facts = ffprobe.full_stream(reader, deadline)
    if facts is None:
        raise ProbeError("ffprobe found no media")
    return facts


def _apply(base: ProbeResult, facts: Facts, size: int) -> ProbeResult:
    bit_rate = facts.bit_rate
    if bit_rate is None and facts.duration_s and facts.duration_s > 0 and size:
        bit_rate = int(size * 8 / facts.duration_s)
    return replace(
        base,
        status=facts.status,
        container=facts.container,
        format_long_name=facts.format_long_name,
        duration_s=facts.duration_s,
        bit_rate=bit_rate,
        size=size,
        video=facts.video,
        audio=facts.audio,
        subtitle_count=facts.subtitle_count,
        creation_time=facts.creation_time,
        error=facts.error,
        timecode=facts.timecode,
    )


def _finish(
    base: ProbeResult,
    start: float,
    reader: CountingReader | None,
    size: int | None,
    status: ProbeStatus,
    error: str | None,
    facts: Facts | None = None,
) -> ProbeResult:
    result = _apply(base, facts, size or 0) if facts is not None else base
    result = replace(result, status=status, error=error, size=size)
    if reader is not None:
        result = replace(result, bytes_read=reader.bytes_read, reads=reader.reads)
    return _timed(result, start, size)


def _timed(result: ProbeResult, start: float, size: int | None) -> ProbeResult:
    return replace(result, size=size, probe_ms=round((time.monotonic() - start) * 1000, 3))


def probe_many(
    source: Source, paths: Iterable[str | tuple[str, int]], options: ProbeOptions = DEFAULTS
) -> Iterator[ProbeResult]:
    """Probe many files with ``options.concurrency`` threads; results in input order.

    ``paths`` may carry the listed size (``(path, size)``) to save a ``stat`` each. At most
    ``2 x concurrency`` probes are in flight or waiting to be yielded, so memory stays
    bounded however long ``paths`` is.
    """
    concurrency = options.concurrency
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    window: deque[Future[ProbeResult]] = deque()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="probe") as pool:
        for item in paths:
            path, size = item if isinstance(item, tuple) else (item, None)
            window.append(pool.submit(probe_file, source, path, options, size=size))
            if len(window) >= 2 * concurrency:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
