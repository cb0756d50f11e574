"""What the probe and hash tasks share: a job any worker host runs, retried with a doubling
delay, whose messages go to the writer through a results queue, never to the catalog.

The writer ingests them (``on_outcome`` asks it to); a job lost without any answer (worker
killed) is found by its lease and handed out again.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import ClassVar, Generic, TypeVar

from huey import Huey

from archive_analyzer.errors import JobError
from archive_analyzer.jobs import registry
from archive_analyzer.jobs.queue import ResultsQueue


def worker_name() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


Run = TypeVar("Run")


class WorkerTask(Generic[Run]):
    """Task ``NAME`` (its body ``_body``) registered on ``huey`` with ``retries`` retries, the
    delay doubling from ``retry_delay_s``. ``run`` does the work on this host (None in a
    process that only enqueues: it then refuses to run the task); ``send`` delivers a message
    to the writer, ``on_outcome`` asking it to ingest."""

    NAME: ClassVar[str]
    _body: Callable[..., None]

    def __init__(
        self,
        huey: Huey,
        results: ResultsQueue,
        *,
        retries: int,
        retry_delay_s: float,
        run: Run | None,
        on_outcome: Callable[[], None],
    ) -> None:
        self._results = results
        self._retries = retries
        self._run = run
        self._on_outcome = on_outcome
        self.task = registry.task(
            huey, self.NAME, self._body, context=True, retries=retries,
            retry_delay=retry_delay_s, retry_backoff=2.0,
        )  # fmt: skip

    def runner(self) -> Run:
        """What runs the task here; JobError in a process without workers of this kind."""
        if self._run is None:
            raise JobError(f"a {self.NAME} task ran in a process without {self.NAME} workers")
        return self._run

    def send(self, message: object) -> None:
        """Put ``message`` on the results queue and ask the writer to ingest it."""
        self._results.put(message)
        self._on_outcome()
