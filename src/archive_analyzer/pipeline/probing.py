"""Probe jobs: what one file to probe is, probing it on any host, and storing the result.

The jobs layer calls ``run_probe`` on any host and ``ingest`` on the single writer; the
values crossing between them are frozen dataclasses (``ProbeJob``, ``ProbeResult``).
``probe_inline`` does both in this process (``archive-analyzer watch``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from archive_analyzer.catalog import db, media
from archive_analyzer.catalog import files as repo
from archive_analyzer.config import Settings
from archive_analyzer.errors import ArchiveError
from archive_analyzer.pipeline.options import probe_options
from archive_analyzer.probe import engine
from archive_analyzer.probe.engine import ProbeOptions
from archive_analyzer.probe.result import ProbeResult, ProbeStatus
from archive_analyzer.sources import Source, SourcePool

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProbeJob:
    """One file version to probe. ``source`` is the source spec (a path or an ``smb://`` URL
    without password) so any host can open it; ``size`` and ``mtime`` are the catalog's when the
    job was made, so a result for an older version can be recognised and dropped."""

    file_id: str
    source: str
    path: str
    size: int
    mtime: float


def jobs_for(rows: Iterable[repo.FileRow], spec: str) -> tuple[ProbeJob, ...]:
    """Probe jobs for catalog rows of the source named by ``spec``."""
    return tuple(ProbeJob(r.id, spec, r.path, r.size, r.mtime) for r in rows)


def run_probe(job: ProbeJob, sources: SourcePool, options: ProbeOptions) -> ProbeResult:
    """Probe one file (on any host) with ``options``; the job's source comes from ``sources``
    (kept open for the next job on this thread). Raises ``SourceError`` when the source cannot
    be reached."""
    with sources.use(job.source) as source:
        return engine.probe_file(source, job.path, options)


def ingest(conn: sqlite3.Connection, job: ProbeJob, result: ProbeResult, *, now: db.Clock) -> bool:
    """Store a probe result (the single writer; call inside ``db.transaction``).

    Returns False and stores nothing when the file's row is gone or its size or mtime changed
    since the job was made: the result describes a version of the file that no longer exists.
    """
    row = repo.get(conn, job.file_id)
    if row is None or (row.size, row.mtime) != (job.size, job.mtime):
        log.info("dropping a stale probe result for %s", job.path)
        return False
    media.store(conn, job.file_id, result, job.size, job.mtime, now)
    state = "failed" if result.status is ProbeStatus.ERROR else "done"
    detail: dict[str, object] = {"status": result.status.value, "strategy": result.strategy}
    if result.error:
        detail["error"] = result.error
    repo.set_probe_state(conn, job.file_id, state, db.timestamp(now()), detail)
    return True


def probe_inline(
    conn: sqlite3.Connection,
    source: Source,
    settings: Settings,
    jobs: Sequence[ProbeJob],
    *,
    clock: db.Clock = db.utc_now,
) -> int:
    """Probe ``jobs`` through the already open ``source`` and ingest each result; returns how
    many were stored. A file that vanished or cannot be read is logged and left pending."""
    if not jobs:
        return 0
    stored = 0
    options = probe_options(settings)
    for job in jobs:
        try:
            result = engine.probe_file(source, job.path, options, size=job.size)
        except ArchiveError as exc:
            log.warning("cannot probe %s: %s", job.path, exc)
            continue
        with db.transaction(conn):
            stored += ingest(conn, job, result, now=clock)
    return stored
