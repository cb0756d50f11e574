"""The tasks that run on the single writer: poll, rounds of change notifications, ingest, sync,
reconcile, re-probe and the web app's catalog edits (``jobs.edits``).

Every process registers them (so any process can enqueue them); only the process that consumes
the writer queue has a writer to run them on (``serve``). Requests are deduplicated through the
queue backend's key-value store: at most one poll and one ingest wait at a time, and a sync
runs ``sync_debounce_s`` after the last change of a burst (or after ``SYNC_MAX_WAIT_FACTOR``
debounce intervals of changes that keep coming).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from huey import Huey, crontab

from archive_analyzer.catalog import db
from archive_analyzer.errors import ArchiveError, JobError
from archive_analyzer.jobs import edits, ledger, registry
from archive_analyzer.jobs.writer import Writer

log = logging.getLogger(__name__)

# Keys in the queue backend's key-value store.
INGEST_FLAG = "ingest-requested"
POLL_FLAG = "poll-queued"
CHANGES_FLAG = "changes-queued"  # + ":<writer token>": one per writer process
SYNC_TOKEN = "sync-token"
SYNC_FIRST = "sync-first-request"
# A debounced sync still runs when changes keep coming for this many debounce intervals.
SYNC_MAX_WAIT_FACTOR = 6.0

# One sync of the catalog (``sync.engine.run_sync`` bound to the settings).
SyncRunner = Callable[[], object]


@dataclass(frozen=True, slots=True)
class TaskOptions:
    """How the tasks retry (probe and sync: ``retries`` after the first attempt, the delay
    doubling from ``retry_delay_s``), the sync debounce, and the nightly reconcile hour
    (-1: none). Built at the entrance from the ``job_*``, ``sync_debounce_s`` and
    ``reconcile_hour`` settings."""

    retries: int = 3
    retry_delay_s: float = 10.0
    sync_debounce_s: float = 2.0
    reconcile_hour: int = -1


def describe(exc: BaseException) -> str:
    """One line for the failure list: the exception's type and message."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class WriterTasks:
    """The writer-side tasks of one process, registered on the writer queue's Huey.

    ``sync_runner`` is None when sync is not configured (requests are then ignored); ``clock``
    stamps the debounce window.
    """

    def __init__(
        self,
        huey: Huey,
        options: TaskOptions,
        *,
        clock: db.Clock = db.utc_now,
        sync_runner: SyncRunner | None = None,
    ) -> None:
        self._huey = huey
        self._options = options
        self._clock = clock
        self._sync_runner = sync_runner
        self._writer: Writer | None = None
        retry: dict[str, Any] = {
            "retries": options.retries,
            "retry_delay": options.retry_delay_s,
            "retry_backoff": 2.0,
        }
        self.poll = registry.task(huey, "poll", self._poll)
        self.changes = registry.task(huey, "changes", self._changes)
        self.ingest = registry.task(huey, "ingest", self._ingest)
        self.sync = registry.task(huey, "sync", self._sync, context=True, **retry)
        self.reconcile = registry.task(huey, "reconcile", self._reconcile)
        self.reprobe = registry.task(huey, "reprobe", self._reprobe)
        self.edit = registry.task(huey, "edit", self._edit)
        if options.reconcile_hour >= 0:
            nightly = crontab(minute="0", hour=str(options.reconcile_hour))
            registry.periodic(huey, "nightly_reconcile", self._reconcile, nightly)

    def serve(self, writer: Writer) -> None:
        """Run this process's writer tasks on ``writer`` (the one process that has it)."""
        self._writer = writer

    def _active(self) -> Writer:
        if self._writer is None:
            raise JobError("a writer task ran outside the writer process")
        return self._writer

    # --- requests (any process) ------------------------------------------------------------

    def clear_flags(self) -> None:
        """Forget request flags a crash left behind (they would block new requests)."""
        for key in (POLL_FLAG, INGEST_FLAG):
            self._huey.delete(key)

    def request_poll(self) -> bool:
        """Enqueue a poll unless one is already waiting; True when one was enqueued."""
        if self._huey.put_if_empty(POLL_FLAG, "1"):
            self.poll()
            return True
        return False

    def request_changes(self) -> bool:
        """Enqueue a round of change notifications for this process's writer unless one is
        already waiting (called by its change feed's pump); True when one was enqueued."""
        writer = self._writer
        if writer is None:
            return False
        if self._huey.put_if_empty(f"{CHANGES_FLAG}:{writer.token}", "1"):
            self.changes(writer.token)
            return True
        return False

    def request_ingest(self) -> None:
        """Enqueue an ingest unless one is already waiting."""
        if self._huey.put_if_empty(INGEST_FLAG, "1"):
            self.ingest()

    def request_sync(self) -> None:
        """Ask for a sync ``sync_debounce_s`` after the last change (when sync is configured)."""
        if self._sync_runner is None:
            return
        token = uuid.uuid4().hex
        self._huey.put(SYNC_TOKEN, token)
        self._huey.put_if_empty(SYNC_FIRST, self._clock().timestamp())
        self.sync.schedule(args=(token,), delay=self._options.sync_debounce_s)

    def request_reprobe(self, file_id: str) -> None:
        """Ask the writer to probe a catalogued file again (the admin's re-probe button)."""
        self.reprobe(file_id)

    def request_edit(self, request_id: str, edit: edits.Edit) -> None:
        """Ask the writer for a catalog edit; its reply lands under
        ``edits.REPLY_PREFIX + request_id`` in the key-value store (``jobs.edits.EditClient``)."""
        self.edit(request_id, edit)

    def take(self, key: str) -> object:
        """Read and remove a value from the writer queue's key-value store (None: not there)."""
        return self._huey.get(key)

    # --- bodies (the writer process) -------------------------------------------------------

    def _poll(self) -> None:
        self._huey.delete(POLL_FLAG)
        writer = self._active()
        with self._huey.lock_task("poll"):  # one poller at a time, even across processes
            try:
                report = writer.poll()
            except ArchiveError as exc:
                log.error("poll failed: %s", exc)
                record_writer_failure(writer, "poll", exc)
                return
        log.debug("poll: %s", report)
        resolve_writer_failure(writer, "poll")

    def _changes(self, token: str) -> None:
        self._huey.delete(f"{CHANGES_FLAG}:{token}")
        writer = self._active()
        if writer.token != token:
            return  # another writer's feed (two writers on one queue); its pump asks again
        try:
            report = writer.apply_changes()
        except ArchiveError as exc:
            log.error("change notification round failed, polling instead: %s", exc)
            self.request_poll()
            return
        if report is not None and report.poll_reason is not None:
            log.info("polling now: %s", report.poll_reason)
            self.request_poll()

    def _ingest(self) -> None:
        # Clear the flag before draining: an outcome pushed after this point requests a new
        # ingest, one pushed before it is drained now.
        self._huey.delete(INGEST_FLAG)
        writer = self._active()
        if writer.ingest_all():  # probe results reach Firestore now, not after the next poll
            writer.on_change()

    def _sync(self, token: str, task: Any = None) -> None:
        latest = self._huey.get(SYNC_TOKEN, peek=True)
        first = self._huey.get(SYNC_FIRST, peek=True)
        waited = self._clock().timestamp() - float(first) if first is not None else 0.0
        overdue = waited > SYNC_MAX_WAIT_FACTOR * self._options.sync_debounce_s
        if latest is not None and latest != token and not overdue:
            return  # a later change asked for a sync of its own
        self._huey.delete(SYNC_FIRST)
        if self._sync_runner is None:
            log.info("a sync was queued but sync is not configured here; skipped")
            return
        try:
            self._sync_runner()
        except Exception as exc:
            if task is not None and task.retries == 0 and self._writer is not None:
                record_writer_failure(self._writer, "sync", exc)
            raise

    def _reconcile(self) -> None:
        writer = self._active()
        try:
            writer.reconcile()
        except ArchiveError as exc:
            log.error("full reconcile scan failed: %s", exc)
            record_writer_failure(writer, "reconcile", exc)
            return
        resolve_writer_failure(writer, "reconcile")
        self.request_poll()

    def _edit(self, request_id: str, edit: edits.Edit) -> None:
        writer = self._active()
        reply = edits.apply(writer.conn, edit, writer.clock)
        self._huey.put(f"{edits.REPLY_PREFIX}{request_id}", reply)
        if reply.changed:
            writer.on_change()

    def _reprobe(self, file_id: str) -> None:
        if not self._active().reprobe(file_id):
            log.info("re-probe of %s skipped: not an active catalogued file", file_id)


def _failure_key(writer: Writer, task: str) -> str:
    return f"{task}:{writer.source.name}" if task == "poll" else task


def resolve_writer_failure(writer: Writer, task: str) -> None:
    """Mark the writer task's entry on the failure list resolved."""
    with db.transaction(writer.conn):
        ledger.resolve_failure(writer.conn, _failure_key(writer, task), now=writer.clock())


def record_writer_failure(writer: Writer, task: str, exc: BaseException) -> None:
    """Put a failed writer task on the failure list (best effort: the log line has it too)."""
    key = _failure_key(writer, task)
    try:
        with db.transaction(writer.conn):
            ledger.record_failure(
                writer.conn, key=key, task=task, error=describe(exc), attempts=1, now=writer.clock()
            )
    except Exception:
        log.exception("cannot record the %s failure", task)
