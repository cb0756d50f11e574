"""Clip exports as jobs: asked for by the web app, cut by the export threads of ``run``.

The web app computes a clip's cache key (file version + range + fast/exact + encoding); a clip
already in the export cache is served at once. Otherwise :meth:`ExportJobs.request` records the
job's state under ``export:<key>`` in the export queue's key-value store (only if no job for
that key is queued or running, so many clicks make one clip) and enqueues the ``export_clip``
task. The task (:func:`run_export`) reads the catalog (read-only), cuts the clip from the source
into the cache, and updates the state with its progress, then the real in and out, or the error.
The page polls the state. Exports never write the catalog.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from archive_analyzer.catalog import db
from archive_analyzer.errors import ArchiveError, NotFound
from archive_analyzer.export import clips
from archive_analyzer.export.cache import ExportCache
from archive_analyzer.export.selection import ClipTarget, clip_target
from archive_analyzer.sources.base import Source

log = logging.getLogger(__name__)

STATE_PREFIX = "export:"
PROGRESS_EVERY_S = 0.5
STALE_RUNNING_S = 600.0
STALE_QUEUED_S = 6 * 3600.0

State = Literal["queued", "running", "done", "failed"]


@dataclass(frozen=True, slots=True)
class ExportState:
    """Where one clip export stands (JSON-ready through ``as_json``)."""

    key: str
    content_id: str
    exact: bool
    state: State
    ext: str
    name: str
    progress: float = 0.0
    real_in: float | None = None
    real_out: float | None = None
    error: str | None = None
    updated: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Store:
    """Export states in a Huey instance's key-value store (``put`` / ``get``)."""

    def __init__(self, huey: Any) -> None:
        self._huey = huey

    def get(self, key: str) -> ExportState | None:
        value = self._huey.get(f"{STATE_PREFIX}{key}", peek=True)
        return value if isinstance(value, ExportState) else None

    def put(self, state: ExportState) -> None:
        self._huey.put(f"{STATE_PREFIX}{state.key}", replace(state, updated=time.time()))

    def claim(self, state: ExportState) -> bool:
        """Record a queued job unless one for the same key is queued or running."""
        current = self.get(state.key)
        if current is not None and current.state in ("queued", "running"):
            # a running job updates its state at least every few seconds; one silent for
            # long died with its process (a queued one may wait behind long exports)
            silent = time.time() - current.updated
            if silent < (STALE_RUNNING_S if current.state == "running" else STALE_QUEUED_S):
                return False
        self.put(state)
        return True


def run_export(
    content_id: str,
    exact: bool,
    key: str,
    *,
    options: clips.ExportOptions,
    db_path: Path,
    source_for: Callable[[str], AbstractContextManager[Source]],
    store: Store,
    cancelled: Callable[[], bool] | None = None,
) -> None:
    """The ``export_clip`` task: cut one clip into the export cache, recording progress."""
    conn = db.connect(db_path, readonly=True)
    try:
        target = clip_target(conn, content_id)
    except NotFound as exc:
        _fail(store, key, content_id, exact, str(exc))
        return
    finally:
        conn.close()
    cache = ExportCache(options.cache_dir, options.cache_bytes)
    ext = clips.extension(target, exact, options.clip)
    name = clips.download_name(target, ext)
    state = ExportState(key, content_id, exact, "running", ext, name)
    store.put(state)
    last = [0.0]

    def progress(fraction: float) -> None:
        if time.monotonic() - last[0] >= PROGRESS_EVERY_S:
            last[0] = time.monotonic()
            store.put(replace(state, progress=round(fraction, 3)))

    partial = cache.partial(key, ext)
    try:
        with source_for(target.source) as source:
            result = clips.make(
                source,
                target,
                partial,
                exact=exact,
                options=options.clip,
                progress=progress,
                cancelled=cancelled,
            )
        cache.finish(partial)
    except ArchiveError as exc:
        partial.unlink(missing_ok=True)
        log.warning("export of %s failed: %s", content_id, exc)
        store.put(replace(state, state="failed", error=str(exc)))
        return
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    log.info(
        "exported %s (%s): %.3f-%.3f s, %d bytes",
        content_id,
        "exact" if exact else "fast",
        result.real_in,
        result.real_out,
        result.size,
    )
    store.put(
        replace(state, state="done", progress=1.0, real_in=result.real_in, real_out=result.real_out)
    )


def _fail(store: Store, key: str, content_id: str, exact: bool, error: str) -> None:
    store.put(ExportState(key, content_id, exact, "failed", "", "", error=error))


class ExportJobs:
    """The web side: look up, request and find finished clip exports."""

    def __init__(
        self,
        store: Store,
        enqueue: Callable[[str, bool, str], object],
        options: clips.ExportOptions,
    ) -> None:
        self._store = store
        self._enqueue = enqueue
        self.options = options
        self.cache = ExportCache(options.cache_dir, options.cache_bytes)

    def key(self, target: ClipTarget, exact: bool) -> str:
        return clips.key(target, exact, self.options.clip)

    def request(self, target: ClipTarget, exact: bool) -> ExportState:
        """The export's state: done when cached, else queued (a new job only if none runs)."""
        key = self.key(target, exact)
        ext = clips.extension(target, exact, self.options.clip)
        name = clips.download_name(target, ext)
        current = self._store.get(key)
        if self.cache.find(key) is not None:
            if current is not None and current.state == "done":
                return current
            return ExportState(key, target.content_id, exact, "done", ext, name, progress=1.0)
        queued = ExportState(key, target.content_id, exact, "queued", ext, name)
        if self._store.claim(queued):
            self._enqueue(target.content_id, exact, key)
            return queued
        return self._store.get(key) or queued

    def state(self, key: str) -> ExportState | None:
        found = self._store.get(key)
        if found is not None and found.state == "done" and self.cache.find(key) is None:
            return replace(found, state="failed", error="the clip left the cache; export again")
        return found

    def file(self, key: str) -> Path | None:
        return self.cache.find(key)
