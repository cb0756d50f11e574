"""Requests to a deployment's writer from a process that runs no jobs (the web app).

The web app never writes the catalog's probe tables: an admin's re-probe is a ``reprobe`` task
on the writer queue, which the writer of ``archive-analyzer run`` turns into a probe job and
ingests like any other. With ``serve`` alone the request waits in the queue until ``run``
starts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from archive_analyzer.catalog import artwork
from archive_analyzer.config import Settings
from archive_analyzer.errors import JobError
from archive_analyzer.jobs.queue import build_queues
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
    """Enqueue-only access to the queues of ``settings`` (opened on the first request).

    ``reply_timeout_s`` bounds how long a request that needs the writer's answer (an editor's
    poster) waits for it."""

    def __init__(
        self,
        settings: Settings,
        *,
        reply_timeout_s: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._tasks: Tasks | None = None
        self._lock = threading.Lock()
        self._reply_timeout_s = reply_timeout_s
        self._sleep = sleep

    def _registered(self) -> Tasks:
        with self._lock:
            if self._tasks is None:
                queues = build_queues(self._settings)
                self._tasks = register_tasks(queues, task_options(self._settings))
            return self._tasks

    def request_reprobe(self, file_id: str) -> None:
        """Ask the writer to probe ``file_id`` again. Raises ``JobError`` when the queue
        backend cannot take the request."""
        try:
            self._registered().writer.request_reprobe(file_id)
        except JobError:
            raise
        except Exception as exc:  # redis / sqlite errors of any kind: one message for the page
            raise JobError(f"job queue unavailable: {type(exc).__name__}") from exc

    def set_artwork(self, change: artwork.Change) -> artwork.Outcome:
        """Ask the writer to store a poster choice and wait for its answer. Raises
        ``JobError`` when the queue cannot take the request, or when no answer comes in time
        (the writer is not running or busy: the request stays queued and is made later)."""
        try:
            writer = self._registered().writer
            request_id = writer.request_artwork(change)
        except JobError:
            raise
        except Exception as exc:
            raise JobError(f"job queue unavailable: {type(exc).__name__}") from exc
        deadline = time.monotonic() + self._reply_timeout_s
        delay = 0.01
        while True:
            reply = writer.artwork_reply(request_id)
            if reply is not None:
                return reply
            if time.monotonic() >= deadline:
                raise JobError(
                    f"the catalog writer did not answer within {self._reply_timeout_s:.0f} s "
                    "(is 'archive-analyzer run' running?); the change is queued"
                )
            self._sleep(delay)
            delay = min(delay * 2, 0.2)
