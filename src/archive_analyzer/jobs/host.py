"""Process model: ``run`` (the whole system on one machine) and ``worker`` (probe capacity).

``run_system`` runs in one process: the writer consumer (one thread: poll, ingest, sync,
reconcile, re-probes and the web app's edits), the probe consumer (``settings.workers``
threads), the export consumer (``settings.export_workers`` threads: clip exports), the web
app (uvicorn in a thread) and, on the main thread, the poll ticker, worker health checks
and signal handling.
``run_worker`` runs only a probe consumer; start any number of them on any host that reaches
the share and the Redis server.

Shutdown on SIGTERM or SIGINT: stop ticking, let every probe in flight finish (its outcome goes
to the results queue), let the writer finish its task, then ingest what is left. Jobs still
queued stay in the queue; anything lost anyway (a SIGKILL, a Redis restart) comes back through
the writer's leases.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
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
from archive_analyzer.jobs.queue import Queues, build_queues
from archive_analyzer.jobs.tasks import POLL_FLAG, Tasks, register_tasks, worker_name
from archive_analyzer.jobs.writer import Writer
from archive_analyzer.sources import Source, SourcePool
from archive_analyzer.sync.engine import run_sync
from archive_analyzer.verification import FixityOptions

log = logging.getLogger(__name__)

HEALTH_CHECK_S = 10.0
# Idle workers look at an SQLite queue at least this often (Redis wakes them at once).
MAX_IDLE_DELAY_S = 1.0

AppFactory = Callable[[Settings], Any]


class StopFlag:
    """Set by SIGTERM/SIGINT (or a test); the main loop waits on it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal: str | None = None

    def set(self, reason: str = "stop") -> None:
        self.signal = self.signal or reason
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)

    def install(self) -> None:
        """Handle SIGTERM and SIGINT by setting the flag (main thread only)."""

        def handler(signum: int, frame: FrameType | None) -> None:
            name = signal.Signals(signum).name
            if self.is_set():  # a second signal: leave now
                raise KeyboardInterrupt(name)
            log.info("%s received: shutting down (in-flight jobs finish first)", name)
            self.set(name)

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)


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


def _present(*consumers: Consumer | None) -> list[Consumer]:
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


def run_worker(settings: Settings, stop: StopFlag | None = None) -> None:
    """Consume probe jobs with ``settings.workers`` threads until SIGTERM/SIGINT (or ``stop``)."""
    flag = stop or StopFlag()
    if stop is None:
        flag.install()  # a signal during start-up stops the worker once it is up
    queues = build_queues(settings)
    queues.storage.ping()
    stopping = threading.Event()
    with probing_tasks(queues, settings, hash_stopping=stopping):
        probers = probe_consumer(queues, settings, max(1, settings.workers))
        hashers = hash_consumer(queues, settings)
        running = _present(probers, hashers)
        for consumer in running:
            consumer.start()
        log.info(
            "probe worker up: %d thread(s), %d hash thread(s), queue %s %s",
            max(1, settings.workers),
            settings.hash_workers if hashers is not None else 0,
            queues.storage.kind,
            queues.storage.location,
        )
        next_check = time.monotonic() + HEALTH_CHECK_S
        while not flag.wait(0.5):
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + HEALTH_CHECK_S
                for consumer in running:
                    consumer.check_worker_health()
        stopping.set()  # running hashes stop at their next chunk, their place kept
        for consumer in running:
            consumer.stop(graceful=True)
    log.info("probe worker stopped")


def run_system(
    settings: Settings,
    *,
    app_factory: AppFactory | None = None,
    stop: StopFlag | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Run the writer, ``settings.workers`` probe threads and (with ``app_factory``) the web
    app until SIGTERM/SIGINT (or ``stop``). ``settings.source`` must be set."""
    flag = stop or StopFlag()
    if stop is None:
        flag.install()  # a signal during start-up stops the system once it is up
    db.connect(settings.db).close()  # migrate once, before any thread opens the catalog
    queues = build_queues(settings)
    queues.storage.ping()
    stopping = threading.Event()
    with probing_tasks(queues, settings, exports=True, hash_stopping=stopping) as tasks:
        tasks.writer.clear_flags()  # flags left by a crash would block requests
        writer = Writer(
            settings,
            queues,
            enqueue_probe=tasks.probe.enqueue,
            on_change=tasks.writer.request_sync,
        )
        hash_writer(settings, writer, queues, tasks)
        tasks.writer.serve(writer)
        _serve(settings, queues, tasks, writer, app_factory, flag, on_ready, stopping)


def _serve(
    settings: Settings,
    queues: Queues,
    tasks: Tasks,
    writer: Writer,
    app_factory: AppFactory | None,
    flag: StopFlag,
    on_ready: Callable[[], None] | None,
    hash_stopping: threading.Event,
) -> None:
    """Start the consumers (and the web app), tick polls until ``flag``, shut down."""
    writer_consumer = single_writer_consumer(queues)
    probers = probe_consumer(queues, settings, settings.workers) if settings.workers > 0 else None
    preview_jobs = previews.PreviewTask(
        queues.storage.huey(previews.PREVIEWS_QUEUE),
        lambda limit: pipeline.make_previews(settings, limit=limit),
    )
    preview_jobs.clear_flag()
    previewers = preview_consumer(preview_jobs, settings) if settings.preview_workers > 0 else None
    exporters = export_consumer(queues, settings) if settings.export_workers > 0 else None
    hashers = hash_consumer(queues, settings)
    server = _start_web(app_factory, settings) if app_factory is not None else None

    writer_consumer.start()
    for consumer in _present(probers, previewers, exporters, hashers):
        consumer.start()
    # Change notifications before the first poll, so that poll already answers the rescan a
    # freshly armed watch asks for.
    writer.start_watching(tasks.writer.request_changes)
    log.info(
        "archive-analyzer running: source %s, queue %s %s, %d probe worker(s)%s",
        writer.source.name,
        queues.storage.kind,
        queues.storage.location,
        settings.workers,
        f", web http://{settings.host}:{settings.port}/" if server is not None else "",
    )
    next_poll = time.monotonic()
    skipped = 0  # ticks that found a poll still waiting
    next_check = time.monotonic() + HEALTH_CHECK_S
    try:
        if writer.needs_initial_scan():
            tasks.writer.reconcile()  # a first full scan; the polls take over after it
        if on_ready is not None:
            on_ready()
        while not flag.is_set():
            now = time.monotonic()
            if now >= next_poll:
                next_poll = now + settings.poll_interval_s
                try:
                    skipped = 0 if tasks.writer.request_poll() else skipped + 1
                    if skipped >= 3 and not _poll_waiting(queues):
                        # The flag outlived its task (lost with a queue): clear it.
                        queues.writer.delete(POLL_FLAG)
                        skipped = 0
                except Exception as exc:  # queue backend down: try again at the next tick
                    log.warning("cannot enqueue a poll: %s", exc)
            if now >= next_check:
                next_check = now + HEALTH_CHECK_S
                if previewers is not None:
                    try:
                        preview_jobs.request()  # strips for what was probed since
                    except Exception as exc:  # queue backend down: next check
                        log.warning("cannot enqueue previews: %s", exc)
                writer_consumer.check_worker_health()
                for consumer in _present(probers, exporters, previewers, hashers):
                    consumer.check_worker_health()
            flag.wait(max(0.05, min(next_poll, next_check) - time.monotonic()))
    finally:
        if previewers is not None:
            previewers.stop(graceful=True)  # the file in hand finishes (one file, bounded)
        tasks.export.stopping.set()  # running exports kill their ffmpeg and fail
        if exporters is not None:
            exporters.stop(graceful=True)
        hash_stopping.set()  # running hashes stop at their next chunk, their place kept
        _shutdown(server, _present(probers, hashers), writer_consumer, writer)


def _poll_waiting(queues: Queues) -> bool:
    return any(task.name == "poll" for task in queues.writer.pending())


def _shutdown(
    server: Any, workers: list[Consumer], writer_consumer: Consumer, writer: Writer
) -> None:
    if server is not None:
        server.should_exit = True
    writer.stop_watching()  # no more rounds; ``writer.close`` records it
    for consumer in workers:
        consumer.stop(graceful=True)  # jobs in flight finish and send their outcomes
    writer_consumer.stop(graceful=True)  # the writer finishes the task it is on
    try:
        handled = writer.ingest_all()  # outcomes that arrived after the last ingest
        if handled:
            log.info("ingested %d probe result(s) on the way out", handled)
    finally:
        writer.close()
    log.info("archive-analyzer stopped")


def _start_web(app_factory: AppFactory, settings: Settings) -> Any:
    import uvicorn

    app = app_factory(settings)
    # TLS and forwarded-header handling, as web.server.build decided them
    options: dict[str, Any] = getattr(getattr(app, "state", None), "uvicorn_options", {})
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        lifespan="off",
        **options,
    )
    server = uvicorn.Server(config)
    # uvicorn installs signal handlers only on the main thread; here the main loop owns them.
    thread = threading.Thread(target=server.run, name="web", daemon=True)
    thread.start()
    return server
