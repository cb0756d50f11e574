"""The Huey tasks, registered at runtime on the queues of one deployment.

Tasks are thin: primitive arguments, idempotent, each calling one ``pipeline`` (or writer)
function. Writer tasks (poll, ingest, sync, reconcile) run only in the process that consumes the
writer queue; the probe task runs on any worker host and sends its outcome to the results queue
instead of writing the catalog.

Retries: a probe that raises (or returns an I/O ``error`` result) is retried
``settings.job_retries`` times, the delay doubling from ``job_retry_delay_s``; the last failure
is sent to the writer as an outcome, which records it on the failure list. A job lost without
any answer (worker killed) is found by its lease (``jobs.writer``).
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from huey import Huey, crontab
from huey.api import TaskWrapper

from archive_analyzer import pipeline
from archive_analyzer.catalog import db
from archive_analyzer.config import Settings
from archive_analyzer.errors import ArchiveError, JobError
from archive_analyzer.jobs import hashing, ledger, version_edits
from archive_analyzer.jobs.messages import HashJob, HashOutcome, HashProgress, ProbeOutcome
from archive_analyzer.jobs.queue import Queues
from archive_analyzer.jobs.writer import Writer
from archive_analyzer.pipeline import ProbeJob
from archive_analyzer.probe.result import ProbeStatus
from archive_analyzer.verification import FixityOptions

log = logging.getLogger(__name__)

# Keys in the queue backend's key-value store.
INGEST_FLAG = "ingest-requested"
POLL_FLAG = "poll-queued"
SYNC_TOKEN = "sync-token"
SYNC_FIRST = "sync-first-request"
# A debounced sync still runs when changes keep coming for this many debounce intervals.
SYNC_MAX_WAIT_FACTOR = 6.0

SyncRunner = Callable[[Settings], object]
# Looked up at run time: the sync package may not offer its entry point yet.
_SYNC_ENTRY_POINTS = (("archive_analyzer.sync.engine", "run_sync"),)


@dataclass(frozen=True)
class Tasks:
    """Handles of the registered tasks (call one to enqueue it)."""

    poll: TaskWrapper
    probe: TaskWrapper
    ingest: TaskWrapper
    sync: TaskWrapper
    reconcile: TaskWrapper
    request_poll: Callable[[], bool]
    request_sync: Callable[[], None]
    # The probe threads' open sources; the owner of the probe consumer closes it after stopping.
    sources: pipeline.SourcePool
    hash: TaskWrapper  # (jobs.messages.HashJob,): on the hash queue, any host
    split_version: TaskWrapper  # (request id, jobs.version_edits.SplitVersion): writer
    # Set at shutdown: running hash jobs stop at their next chunk (their place is kept).
    hash_stopping: threading.Event


def describe(exc: BaseException) -> str:
    """One line for the failure list: the exception's type and message."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def worker_name() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def register_tasks(
    queues: Queues,
    settings: Settings,
    *,
    writer: Writer | None = None,
    sync_runner: SyncRunner | None = None,
) -> Tasks:
    """Register every task on ``queues`` (the same in every process, so any process can enqueue
    any task). Only a process given ``writer`` can execute the writer tasks."""
    writer_huey = queues.writer
    probe_huey = queues.probe
    sources = pipeline.SourcePool(settings)
    retry: dict[str, Any] = {
        "retries": settings.job_retries,
        "retry_delay": settings.job_retry_delay_s,
        "retry_backoff": 2.0,
    }

    def the_writer() -> Writer:
        if writer is None:
            raise JobError("a writer task ran outside the writer process")
        return writer

    # --- writer tasks --------------------------------------------------------------------

    def poll_fn() -> None:
        writer_huey.delete(POLL_FLAG)
        active = the_writer()
        with writer_huey.lock_task("poll"):  # one poller at a time, even across processes
            try:
                report = active.poll()
            except ArchiveError as exc:
                log.error("poll failed: %s", exc)
                _record_writer_failure(active, "poll", exc)
                return
        log.debug("poll: %s", report)
        _resolve_writer_failure(active, "poll")

    poll = _task(writer_huey, poll_fn, name="poll")

    def request_poll() -> bool:
        """Enqueue a poll unless one is already waiting; True when one was enqueued."""
        if writer_huey.put_if_empty(POLL_FLAG, "1"):
            poll()
            return True
        return False

    def ingest_fn() -> None:
        # Clear the flag before draining: an outcome pushed after this point requests a new
        # ingest, one pushed before it is drained now.
        writer_huey.delete(INGEST_FLAG)
        the_writer().ingest_all()

    ingest = _task(writer_huey, ingest_fn, name="ingest")

    def request_ingest() -> None:
        if writer_huey.put_if_empty(INGEST_FLAG, "1"):
            ingest()

    def sync_fn(token: str, task: Any = None) -> None:
        latest = writer_huey.get(SYNC_TOKEN, peek=True)
        first = writer_huey.get(SYNC_FIRST, peek=True)
        overdue = first is not None and (
            time.time() - float(first) > SYNC_MAX_WAIT_FACTOR * settings.sync_debounce_s
        )
        if latest is not None and latest != token and not overdue:
            return  # a later change asked for a sync of its own
        writer_huey.delete(SYNC_FIRST)
        runner = sync_runner or _default_sync_runner()
        if runner is None:
            log.info("sync is configured but no sync entry point is available; skipped")
            return
        try:
            runner(settings)
        except Exception as exc:
            if task is not None and task.retries == 0 and writer is not None:
                _record_writer_failure(writer, "sync", exc)
            raise

    sync = _task(writer_huey, sync_fn, name="sync", context=True, **retry)

    def request_sync() -> None:
        """Ask for a sync ``sync_debounce_s`` after the last change (when sync is configured)."""
        if not settings.sync_enabled:
            return
        token = uuid.uuid4().hex
        writer_huey.put(SYNC_TOKEN, token)
        writer_huey.put_if_empty(SYNC_FIRST, time.time())
        sync.schedule(args=(token,), delay=settings.sync_debounce_s)

    def reconcile_fn() -> None:
        active = the_writer()
        try:
            active.reconcile()
        except ArchiveError as exc:
            log.error("full reconcile scan failed: %s", exc)
            _record_writer_failure(active, "reconcile", exc)
            return
        _resolve_writer_failure(active, "reconcile")
        request_poll()

    reconcile = _task(writer_huey, reconcile_fn, name="reconcile")

    def split_version_fn(request_id: str, edit: version_edits.SplitVersion) -> None:
        active = the_writer()
        reply = version_edits.apply(active.conn, edit, active.clock)
        writer_huey.put(f"{version_edits.REPLY_PREFIX}{request_id}", reply)
        if reply.primary_id is not None:
            request_sync()

    split_version = _task(writer_huey, split_version_fn, name="split_version")
    if settings.reconcile_hour >= 0:
        nightly = crontab(minute="0", hour=str(settings.reconcile_hour))
        _periodic(writer_huey, reconcile_fn, nightly, name="nightly_reconcile")

    # --- probe task (any host) -----------------------------------------------------------

    def probe_fn(
        file_id: str, source: str, path: str, size: int, mtime: float, task: Any = None
    ) -> None:
        job = ProbeJob(file_id, source, path, size, mtime)
        remaining = task.retries if task is not None else 0
        attempts = settings.job_retries - remaining + 1
        final = remaining == 0
        try:
            result = pipeline.run_probe(job, settings, sources=sources)
        except Exception as exc:
            if not final:
                log.warning("probe of %s failed (%s); retrying", path, describe(exc))
                raise
            log.error("probe of %s failed for good: %s", path, describe(exc))
            outcome = ProbeOutcome(job, None, describe(exc), attempts, worker_name())
        else:
            if result.status is ProbeStatus.ERROR and not final:
                raise JobError(f"probe of {path} hit an I/O error: {result.error}")
            outcome = ProbeOutcome(job, result, None, attempts, worker_name())
            log.info("probed %s: %s in %.0f ms", path, result.status.value, result.probe_ms)
        queues.results.put(outcome)
        request_ingest()

    probe = _task(probe_huey, probe_fn, name="probe", context=True, **retry)

    def enqueue_probe(job: ProbeJob) -> None:
        probe(job.file_id, job.source, job.path, job.size, job.mtime)

    # --- hash task (any host; docs/fixity.md) --------------------------------------------

    fixity_options = FixityOptions.from_settings(settings)  # a bad quiet-hours value fails here
    hash_stopping = threading.Event()
    viewers = hashing.viewers_present(writer_huey)

    def hash_fn(job: HashJob, task: Any = None) -> None:
        final = task is None or task.retries == 0

        def progress(message: HashProgress) -> None:
            queues.hash_results.put(message)
            request_ingest()

        try:
            with sources.use(job.source) as source:
                outcome = hashing.run_job(
                    job, source, fixity_options, viewers=viewers,
                    should_stop=hash_stopping.is_set, clock=db.utc_now, on_progress=progress,
                    worker=worker_name(),
                )  # fmt: skip
        except Exception as exc:  # the source cannot be reached: retried, then reported
            if not final:
                log.warning("hash of %s failed (%s); retrying", job.path, describe(exc))
                raise
            outcome = HashOutcome(job, None, error=describe(exc), worker=worker_name())
        queues.hash_results.put(outcome)
        request_ingest()

    hash_task = _task(queues.hash, hash_fn, name="hash", context=True, **retry)

    if writer is not None:
        writer.enqueue_probe = enqueue_probe
        writer.on_change = request_sync
        hash_writer = hashing.HashWriter(
            writer.conn,
            source_name=writer.source.name,
            source_spec=settings.source or writer.source.name,
            options=fixity_options,
            concurrency=settings.hash_concurrency,
            lease_s=settings.hash_lease_s,
            max_dispatches=settings.probe_max_dispatches,
            results=queues.hash_results,
            clock=writer.clock,
        )
        hash_writer.enqueue = hash_task
        hash_writer.on_change = request_sync
        writer.hashing = hash_writer

    return Tasks(
        poll=poll,
        probe=probe,
        ingest=ingest,
        sync=sync,
        reconcile=reconcile,
        request_poll=request_poll,
        request_sync=request_sync,
        sources=sources,
        hash=hash_task,
        hash_stopping=hash_stopping,
        split_version=split_version,
    )


def version_client(
    tasks: Tasks, queues: Queues, timeout_s: float = 30.0
) -> version_edits.VersionClient:
    """The web app's way to ask the writer for a version edit (``jobs.version_edits``)."""
    return version_edits.VersionClient(tasks.split_version, queues.writer.get, timeout_s=timeout_s)


def _task(huey: Huey, fn: Callable[..., None], **options: Any) -> TaskWrapper:
    wrapper: TaskWrapper = huey.task(**options)(fn)
    return wrapper


def _periodic(huey: Huey, fn: Callable[[], None], when: Any, **options: Any) -> TaskWrapper:
    wrapper: TaskWrapper = huey.periodic_task(when, **options)(fn)
    return wrapper


def _failure_key(writer: Writer, task: str) -> str:
    return f"{task}:{writer.source.name}" if task == "poll" else task


def _resolve_writer_failure(writer: Writer, task: str) -> None:
    with db.transaction(writer.conn):
        ledger.resolve_failure(writer.conn, _failure_key(writer, task), now=writer.clock())


def _record_writer_failure(writer: Writer, task: str, exc: BaseException) -> None:
    key = _failure_key(writer, task)
    try:
        with db.transaction(writer.conn):
            ledger.record_failure(
                writer.conn, key=key, task=task, error=describe(exc), attempts=1, now=writer.clock()
            )
    except Exception:  # the failure list is best effort; the log line above has it
        log.exception("cannot record the %s failure", task)


def _default_sync_runner() -> SyncRunner | None:
    """The sync owner's entry point, when the sync package provides one."""
    for module_name, attribute in _SYNC_ENTRY_POINTS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        runner: SyncRunner | None = getattr(module, attribute, None)
        if runner is not None:
            return runner
    return None
