"""Requests to a deployment's writer from a process that runs no jobs (the web app).

The web app never writes the catalog's probe tables: an admin's re-probe is a ``reprobe`` task
on the writer queue, which the writer of ``archive-analyzer run`` turns into a probe job and
ingests like any other. With ``serve`` alone the request waits in the queue until ``run``
starts.
"""

from __future__ import annotations

import threading

from archive_analyzer.config import Settings
from archive_analyzer.errors import JobError
from archive_analyzer.jobs.queue import Queues, build_queues
from archive_analyzer.jobs.tasks import TaskOptions, Tasks, register_tasks
from archive_analyzer.jobs.version_edits import SplitVersion, VersionClient, VersionReply


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

    def __init__(self, settings: Settings, *, reply_timeout_s: float = 30.0) -> None:
        self._settings = settings
        self._tasks: Tasks | None = None
        self._queues: Queues | None = None
        self._lock = threading.Lock()
        self._reply_timeout_s = reply_timeout_s

    def _registered(self) -> Tasks:
        with self._lock:
            if self._tasks is None:
                self._queues = build_queues(self._settings)
                self._tasks = register_tasks(self._queues, task_options(self._settings))
            return self._tasks

    def split_version(self, content_id: str, user: str) -> VersionReply:
        """Ask the writer to split joined version ``content_id`` off and wait for its reply.
        Raises ``JobError`` when the queue is down or no reply comes in time."""
        try:
            tasks = self._registered()
            assert self._queues is not None
            client = VersionClient(
                tasks.writer.request_split, self._queues.writer.get,
                timeout_s=self._reply_timeout_s,
            )  # fmt: skip
            return client.submit(SplitVersion(content_id, user))
        except JobError:
            raise
        except Exception as exc:  # redis / sqlite errors of any kind: one message for the page
            raise JobError(f"job queue unavailable: {type(exc).__name__}") from exc

    def request_reprobe(self, file_id: str) -> None:
        """Ask the writer to probe ``file_id`` again. Raises ``JobError`` when the queue
        backend cannot take the request."""
        try:
            self._registered().writer.request_reprobe(file_id)
        except JobError:
            raise
        except Exception as exc:  # redis / sqlite errors of any kind: one message for the page
            raise JobError(f"job queue unavailable: {type(exc).__name__}") from exc
