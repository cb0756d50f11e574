"""What the probe and hash tasks share: a job any worker host runs, retried with a doubling
delay, whose messages go to the writer through a results queue, never to the catalog.

The writer ingests them (``on_outcome`` asks it to); a job lost without any answer (worker
killed) is found by its lease and handed out again.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

from huey import Huey

from archive_analyzer.jobs import registry
from archive_analyzer.jobs.queue import ResultsQueue


def worker_name() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


class WorkerTask:
    """Task ``name`` registered on ``huey`` with ``retries`` retries, the delay doubling from
    ``retry_delay_s``; ``send`` delivers a message to the writer."""

    def __init__(
        self,
        huey: Huey,
        name: str,
        body: Callable[..., None],
        results: ResultsQueue,
        *,
        retries: int,
        retry_delay_s: float,
        on_outcome: Callable[[], None],
    ) -> None:
        self._results = results
        self._retries = retries
        self._on_outcome = on_outcome
        self.task = registry.task(
            huey, name, body, context=True, retries=retries,
            retry_delay=retry_delay_s, retry_backoff=2.0,
        )  # fmt: skip

    def send(self, message: object) -> None:
        """Put ``message`` on the results queue and ask the writer to ingest it."""
        self._results.put(message)
        self._on_outcome()
