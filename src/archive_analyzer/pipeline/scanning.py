"""The full scan: list the source into the catalog, then probe what is pending a probe."""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass

from archive_analyzer.catalog import db
from archive_analyzer.catalog import files as repo
from archive_analyzer.catalog.rules import load_rules
from archive_analyzer.config import Settings
from archive_analyzer.errors import ConfigError
from archive_analyzer.pipeline.options import (
    contents_hook,
    diff_rules,
    probe_options,
    source_opener,
    source_spec,
)
from archive_analyzer.pipeline.probing import ProbeJob, ingest, jobs_for
from archive_analyzer.probe import engine
from archive_analyzer.probe.result import ProbeResult, ProbeStatus
from archive_analyzer.scan.progress import Progress, for_terminal
from archive_analyzer.scan.scanner import Scanner, ScanResult
from archive_analyzer.sources import Source

log = logging.getLogger(__name__)


# Probe results are stored this many per transaction.
INGEST_BATCH = 50


@dataclass(frozen=True, slots=True)
class ScanSummary:
    """A full scan and the probing after it."""

    scan: ScanResult
    probed: int = 0
    probe_failed: int = 0
    probe_dropped: int = 0
    probe_pending: int = 0  # left for later (no probe engine, or interrupted)
    probe_s: float = 0.0


def scan(
    settings: Settings,
    *,
    resume: bool = False,
    progress: Progress | None = None,
    clock: db.Clock = db.utc_now,
    probe: bool = True,
) -> ScanSummary:
    """Scan ``settings.source`` into ``settings.db``, then probe every media file pending a
    probe and store the results. ``resume`` continues an interrupted scan.

    Raises ``ConfigError`` without a source, ``SourceError`` when the listing fails (the
    checkpoint is kept for ``resume``).
    """
    if not settings.source:
        raise ConfigError("no source given: pass SOURCE or set ARCHIVE_SOURCE / source in TOML")
    rules = load_rules(settings.rules_file)  # once per scan; a bad file fails before listing
    source = source_opener(settings)(settings.source)
    conn = db.connect(settings.db)
    try:
        source.connect()
        scanner = Scanner(
            conn,
            source,
            batch_size=settings.scan_batch_size,
            rules=diff_rules(settings),
            clock=clock,
            progress=progress or for_terminal("scan"),
            refresh=contents_hook(clock, rules),
        )
        result = scanner.scan(resume=resume)
        if not probe:
            return ScanSummary(result)
        return probe_pending(conn, source, settings, result, clock=clock)
    finally:
        conn.close()
        source.close()


def probe_pending(
    conn: sqlite3.Connection,
    source: Source,
    settings: Settings,
    result: ScanResult,
    *,
    clock: db.Clock = db.utc_now,
    progress: Progress | None = None,
) -> ScanSummary:
    """Probe the source's active media files still pending a probe and store the results in
    batches (each batch one transaction)."""
    rows = repo.pending_probe(conn, source.name)
    if not rows:
        return ScanSummary(result)
    jobs = {job.path: job for job in jobs_for(rows, source_spec(settings, source))}
    bar = progress or for_terminal("probe")
    bar.start(len(jobs))
    t0 = time.monotonic()
    probed = failed = dropped = 0
    batch: list[tuple[ProbeJob, ProbeResult]] = []

    def flush() -> None:
        nonlocal probed, failed, dropped
        with db.transaction(conn):
            for job, res in batch:
                if ingest(conn, job, res, now=clock):
                    probed += 1
                    failed += res.status is ProbeStatus.ERROR
                else:
                    dropped += 1
        bar.advance(len(batch), sum(job.size for job, _ in batch))
        batch.clear()

    try:
        for res in engine.probe_many(
            source, [(job.path, job.size) for job in jobs.values()], probe_options(settings)
        ):
            job = jobs.get(res.path)
            if job is None:
                continue
            batch.append((job, res))
            if len(batch) >= INGEST_BATCH:
                flush()
        if batch:
            flush()
    finally:
        bar.finish()
    elapsed = time.monotonic() - t0
    log.info("probed %d files (%d failed, %d dropped) in %.1fs", probed, failed, dropped, elapsed)
    pending = len(jobs) - probed - dropped
    return ScanSummary(result, probed, failed, dropped, pending, elapsed)
