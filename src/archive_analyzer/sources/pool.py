"""Open sources kept for reuse by worker threads (``SourcePool``).

Over SMB the session setup is most of a probe's cost, so a probe worker thread logs in to a
share once and keeps the connection for its next jobs.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

from archive_analyzer.errors import SourceUnavailable
from archive_analyzer.sources.base import Source

log = logging.getLogger(__name__)

# Opens (does not connect) the source a spec names: ``functools.partial(open_source, smb=...)``.
SourceOpener = Callable[[str], Source]


class SourcePool:
    """Open sources kept for reuse by probe workers: one per (thread, source spec), so a
    worker thread logs in to a share once instead of once per job. Reconnecting after a
    dropped connection is the source's own job; a source that reports ``SourceUnavailable`` is
    closed and opened afresh next time.

    The owner (a probe consumer) calls ``close()`` once its threads have stopped; a ``use``
    after that opens and closes a source for that one call, as without a pool.
    """

    def __init__(self, opener: SourceOpener) -> None:
        self._opener = opener
        self._lock = threading.Lock()
        self._open: dict[tuple[int, str], Source] = {}
        self._closed = False

    def __len__(self) -> int:
        with self._lock:
            return len(self._open)

    @contextlib.contextmanager
    def use(self, spec: str) -> Iterator[Source]:
        """This thread's connected source for ``spec`` (opened on first use). Raises
        ``SourceError`` when it cannot be opened or connected."""
        key = (threading.get_ident(), spec)
        with self._lock:
            closed = self._closed
            source = self._open.get(key)
        if closed:
            with one_off(spec, self._opener) as once:
                yield once
            return
        if source is None:
            source = connected(spec, self._opener)
            with self._lock:
                self._open[key] = source
        try:
            yield source
        except SourceUnavailable:
            self._discard(key)
            raise

    def _discard(self, key: tuple[int, str]) -> None:
        with self._lock:
            source = self._open.pop(key, None)
        if source is not None:
            close_quietly(source)

    def close(self) -> None:
        """Close every pooled source (idempotent)."""
        with self._lock:
            self._closed = True
            sources, self._open = list(self._open.values()), {}
        for source in sources:
            close_quietly(source)


def connected(spec: str, opener: SourceOpener) -> Source:
    """The source ``spec`` names, opened and connected (closed again if connecting fails)."""
    source = opener(spec)
    try:
        source.connect()
    except BaseException:
        close_quietly(source)
        raise
    return source


@contextlib.contextmanager
def one_off(spec: str, opener: SourceOpener) -> Iterator[Source]:
    """A connected source for the block, closed afterwards."""
    source = connected(spec, opener)
    try:
        yield source
    finally:
        source.close()


def close_quietly(source: Source) -> None:
    """Close ``source``; an error closing a broken connection is logged, nothing is lost."""
    try:
        source.close()
    except Exception as exc:
        log.debug("closing %s: %s", source.name, exc)
