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

The consumers and the tasks they run, bound to the settings, are built in ``jobs.consumers``.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from huey.consumer import Consumer

from archive_analyzer import pipeline
from archive_analyzer.catalog import db
from archive_analyzer.config import Settings
from archive_analyzer.jobs import previews
from archive_analyzer.jobs.consumers import (
    export_consumer,
    hash_consumer,
    hash_writer,
    present,
    preview_consumer,
    probe_consumer,
    probing_tasks,
    single_writer_consumer,
)
from archive_analyzer.jobs.queue import Queues, build_queues
from archive_analyzer.jobs.tasks import POLL_FLAG, Tasks
from archive_analyzer.jobs.writer import Writer

log = logging.getLogger(__name__)

HEALTH_CHECK_S = 10.0

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
        running = present(probers, hashers)
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
    for consumer in present(probers, previewers, exporters, hashers):
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
                for consumer in present(probers, exporters, previewers, hashers):
                    consumer.check_worker_health()
            flag.wait(max(0.05, min(next_poll, next_check) - time.monotonic()))
    finally:
        if previewers is not None:
            previewers.stop(graceful=True)  # the file in hand finishes (one file, bounded)
        tasks.export.stopping.set()  # running exports kill their ffmpeg and fail
        if exporters is not None:
            exporters.stop(graceful=True)
        hash_stopping.set()  # running hashes stop at their next chunk, their place kept
        _shutdown(server, present(probers, hashers), writer_consumer, writer)


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
