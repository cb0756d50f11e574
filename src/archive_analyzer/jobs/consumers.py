"""The consumers a host runs and the tasks they run, bound to this host's settings.

``probing_tasks`` registers the tasks with their runners (probe, hash, export; a pool of open
sources shared by this host's threads); the ``*_consumer`` functions build the Huey consumers
of each queue (not started); ``hash_writer`` attaches the writer's half of hashing. The serve
loop that starts, health-checks and stops them is ``jobs.host``.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any

from huey.consumer import Consumer

from archive_analyzer import pipeline
from archive_analyzer.catalog import db
from archive_analyzer.config import Settings
from archive_analyzer.errors import FileVanished, SourceUnavailable
from archive_analyzer.jobs import exports, hashing, previews
from archive_analyzer.jobs.client import task_options
from archive_analyzer.jobs.export_task import RunExport
from archive_analyzer.jobs.hashing import HashWriter
from archive_analyzer.jobs.messages import HashJob, HashOutcome, HashProgress
from archive_analyzer.jobs.queue import Queues
from archive_analyzer.jobs.tasks import Tasks, register_tasks, worker_name
from archive_analyzer.jobs.writer import Writer
from archive_analyzer.sources import Source, SourcePool
from archive_analyzer.sync.engine import run_sync
from archive_analyzer.verification import FixityOptions

# Idle workers look at an SQLite queue at least this often (Redis wakes them at once).
MAX_IDLE_DELAY_S = 1.0


class _HostConsumer(Consumer):  # type: ignore[misc]  # huey is untyped
    """A Huey consumer that leaves signals alone: the host's main loop owns SIGTERM/SIGINT
    (Huey's handlers would only record the signal for its own ``run()`` loop, unused here)."""

    def _set_signal_handlers(self) -> None:
        pass


def _pool_consumer(huey: Any, workers: int, shutdown_timeout: float) -> Consumer:
    """A consumer of a job queue (probe, hash, export, previews): ``workers`` threads, no
    periodic tasks, health-checked, waiting at most ``shutdown_timeout`` s for the jobs in
    hand when stopped (not started)."""
    return _HostConsumer(
        huey,
        workers=workers,
        worker_type="thread",
        periodic=False,
        max_delay=MAX_IDLE_DELAY_S,
        check_worker_health=True,
        shutdown_timeout=shutdown_timeout,
    )


def present(*consumers: Consumer | None) -> list[Consumer]:
    """The consumers this host runs (a kind configured to 0 workers is None)."""
    return [consumer for consumer in consumers if consumer is not None]


@contextlib.contextmanager
def probing_tasks(
    queues: Queues,
    settings: Settings,
    *,
    clock: db.Clock = db.utc_now,
    exports: bool = False,
    hash_stopping: threading.Event | None = None,
) -> Iterator[Tasks]:
    """The tasks of a process that runs probe and hash jobs (and syncs, when sync is
    configured; and cuts clips with ``exports``: the ``run`` process, whose disk holds the
    export cache), with a pool of open sources for its threads, closed after the block (stop
    the consumers first). Setting ``hash_stopping`` makes running hash jobs stop at their next
    chunk (their place is kept)."""
    pool = SourcePool(pipeline.source_opener(settings))
    run_probe = functools.partial(
        pipeline.run_probe, sources=pool, options=pipeline.probe_options(settings)
    )
    sync = functools.partial(run_sync, settings) if settings.sync_enabled else None
    run_export = _export_runner(settings, queues, pool) if exports else None
    run_hash = _hash_runner(settings, queues, pool, clock, hash_stopping or threading.Event())
    try:
        yield register_tasks(
            queues,
            task_options(settings),
            run_probe=run_probe,
            run_hash=run_hash,
            sync_runner=sync,
            run_export=run_export,
            clock=clock,
        )
    finally:
        pool.close()


def _hash_runner(
    settings: Settings,
    queues: Queues,
    pool: SourcePool,
    clock: db.Clock,
    stopping: threading.Event,
) -> Callable[[HashJob, Callable[[HashProgress], None]], HashOutcome]:
    """``hashing.run_job`` bound to this host: the fixity options (a bad quiet-hours value
    fails here, at start), the source pool, the viewer signal and the stop flag."""
    options = FixityOptions.from_settings(settings)
    viewers = hashing.viewers_present(queues.writer)

    def run(job: HashJob, progress: Callable[[HashProgress], None]) -> HashOutcome:
        with pool.use(job.source) as source:
            return hashing.run_job(
                job, source, options, viewers=viewers, should_stop=stopping.is_set,
                clock=clock, on_progress=progress, worker=worker_name(),
            )  # fmt: skip

    return run


def hash_consumer(queues: Queues, settings: Settings) -> Consumer | None:
    """A consumer of the hash queue with ``hash_workers`` threads (None when 0). The writer
    keeps at most ``hash_concurrency`` hash jobs in flight across all hosts."""
    if settings.hash_workers <= 0 or settings.hash_concurrency <= 0:
        return None
    # a running hash stops at its next chunk once told to
    return _pool_consumer(queues.hash, settings.hash_workers, shutdown_timeout=120.0)


def hash_writer(settings: Settings, writer: Writer, queues: Queues, tasks: Tasks) -> HashWriter:
    """The writer's half of hashing (``jobs.hashing``), attached to ``writer``."""
    attached = HashWriter(
        writer.conn,
        source_name=writer.source.name,
        source_spec=writer.spec,
        options=FixityOptions.from_settings(settings),
        concurrency=settings.hash_concurrency,
        lease_s=settings.hash_lease_s,
        max_dispatches=settings.probe_max_dispatches,
        results=queues.hash_results,
        clock=writer.clock,
        enqueue=tasks.hash.enqueue,
        on_change=tasks.writer.request_sync,
    )
    writer.hashing = attached
    return attached


def _export_runner(settings: Settings, queues: Queues, pool: SourcePool) -> RunExport:
    """``exports.run_export`` bound to the deployment: its options, catalog, the configured
    source (from the pool) and the export queue's state store."""
    options = pipeline.export_options(settings)
    store = exports.Store(queues.export)

    @contextlib.contextmanager
    def source_for(name: str) -> Iterator[Source]:
        if not settings.source:
            raise SourceUnavailable("no source configured (settings.source)")
        with pool.use(settings.source) as source:
            if source.name != name:
                raise FileVanished(f"the file is on a source that is not configured: {name}")
            yield source

    def run(content_id: str, exact: bool, key: str, cancelled: Callable[[], bool]) -> None:
        exports.run_export(
            content_id,
            exact,
            key,
            options=options,
            db_path=settings.db,
            source_for=source_for,
            store=store,
            cancelled=cancelled,
        )

    return run


def export_consumer(queues: Queues, settings: Settings) -> Consumer:
    """A Huey consumer of the export queue with ``settings.export_workers`` threads (not
    started). It runs in ``run``, whose disk holds the export cache the web app serves."""
    # an export asked to stop kills its ffmpeg at once
    return _pool_consumer(queues.export, settings.export_workers, shutdown_timeout=30.0)


def preview_consumer(task: previews.PreviewTask, settings: Settings) -> Consumer:
    """A Huey consumer of the previews queue with ``settings.preview_workers`` threads (not
    started). It runs in ``run``, whose data folder holds the strips the web app serves."""
    # the file in hand finishes (one file, bounded)
    return _pool_consumer(task.huey, settings.preview_workers, shutdown_timeout=60.0)


def single_writer_consumer(queues: Queues) -> Consumer:
    """The consumer of the writer queue: one thread, the single writer (not started)."""
    return _HostConsumer(
        queues.writer,
        workers=1,  # the single writer
        worker_type="thread",
        periodic=True,  # the nightly reconcile
        flush_locks=True,
        max_delay=MAX_IDLE_DELAY_S,
        check_worker_health=True,
    )


def probe_consumer(queues: Queues, settings: Settings, workers: int) -> Consumer:
    """A Huey consumer of the probe queue with ``workers`` threads (not started)."""
    # A probe is bounded by probe_timeout_s; do not wait for ever on a stuck one.
    return _pool_consumer(queues.probe, workers, shutdown_timeout=settings.probe_timeout_s + 15.0)
