"""Requests to a deployment's writer from a process that runs no jobs (the web app).

The web app never writes the catalog's writer tables: an admin's re-probe is a ``reprobe`` task
on the writer queue, which the writer of ``archive-analyzer run`` turns into a probe job and
ingests like any other; a hand marked, edited or deleted in the player is an ``edit`` task
whose reply the request waits for (``jobs.edits``); a clip export is an ``export_clip`` task on
the export queue (``jobs.exports``). With ``serve`` alone requests wait in the queues until
``run`` starts.
"""

from __future__ import annotations

import threading
from pathlib import Path

from archive_analyzer import pipeline
from archive_analyzer.config import Settings
from archive_analyzer.errors import JobError
from archive_analyzer.export.selection import ClipTarget
from archive_analyzer.jobs import edits, exports
from archive_analyzer.jobs.queue import Queues, build_queues
from archive_analyzer.jobs.tasks import TaskOptions, Tasks, register_tasks


def task_options(settings: Settings) -> TaskOptions:
    """The tasks' retries, sync debounce and reconcile hour from the settings."""
    return TaskOptions(
        retries=settings.job_retries,
        retry_delay_s=settings.job_retry_delay_s,
        sync_debounce_s=settings.sync_debounce_s,
        reconcile_hour=settings.reconcile_hour,
    )


class JobClient:
    """Enqueue-only access to the queues of ``settings`` (opened on the first request)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._tasks: Tasks | None = None
        self._queues: Queues | None = None
        self._exports: exports.ExportJobs | None = None
        self._lock = threading.Lock()

    def _registered(self) -> Tasks:
        with self._lock:
            if self._tasks is None:
                self._queues = build_queues(self._settings)
                self._tasks = register_tasks(self._queues, task_options(self._settings))
            return self._tasks

    def _export_jobs(self) -> exports.ExportJobs:
        tasks = self._registered()
        with self._lock:
            if self._exports is None:
                assert self._queues is not None
                self._exports = exports.ExportJobs(
                    exports.Store(self._queues.export),
                    tasks.export.enqueue,
                    pipeline.export_options(self._settings),
                )
            return self._exports

    def request_reprobe(self, file_id: str) -> None:
        """Ask the writer to probe ``file_id`` again. Raises ``JobError`` when the queue
        backend cannot take the request."""
        try:
            self._registered().writer.request_reprobe(file_id)
        except JobError:
            raise
        except Exception as exc:  # redis / sqlite errors of any kind: one message for the page
            raise JobError(f"job queue unavailable: {type(exc).__name__}") from exc

    def submit_edit(self, edit: edits.Edit) -> edits.EditReply:
        """Have the writer make a catalog edit and return its reply; ``JobError`` when none
        comes within ``edit_timeout_s`` or the queue is down."""
        tasks = self._registered()
        client = edits.EditClient(
            tasks.writer.request_edit, tasks.writer.take, timeout_s=self._settings.edit_timeout_s
        )
        try:
            return client.submit(edit)
        except JobError:
            raise
        except Exception as exc:  # redis / sqlite errors of any kind: one message
            raise JobError(f"job queue unavailable: {type(exc).__name__}") from exc

    def request_export(self, target: ClipTarget, exact: bool) -> exports.ExportState:
        """A clip export's state: done when cached, else queued (see ``jobs.exports``)."""
        try:
            return self._export_jobs().request(target, exact)
        except Exception as exc:
            raise JobError(f"job queue unavailable: {type(exc).__name__}") from exc

    def export_state(self, key: str) -> exports.ExportState | None:
        return self._export_jobs().state(key)

    def export_file(self, key: str) -> Path | None:
        return self._export_jobs().file(key)
