"""The hash task: runs on any worker host; its progress and outcome go to the writer.

A job whose source cannot be reached is retried ``retries`` times (the delay doubling from
``retry_delay_s``), then reported as failed; a job lost without an answer (worker killed) is
found by its lease and handed out again, resuming at its last finished chunk
(``jobs.hashing``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from huey import Huey

from archive_analyzer.errors import JobError
from archive_analyzer.jobs.messages import HashJob, HashOutcome, HashProgress
from archive_analyzer.jobs.queue import ResultsQueue
from archive_analyzer.jobs.worker_task import WorkerTask, worker_name
from archive_analyzer.jobs.writer_tasks import describe

log = logging.getLogger(__name__)

# Runs one hash job on this host (``jobs.hashing.run_job`` bound to the source pool, the
# fixity options, the viewer signal and the stop flag); reports each finished chunk.
RunHash = Callable[[HashJob, Callable[[HashProgress], None]], HashOutcome]


class HashTask(WorkerTask):
    """The hash task of one process, registered on the hash queue's Huey (``run_hash`` None:
    this process only enqueues)."""

    def __init__(
        self,
        huey: Huey,
        results: ResultsQueue,
        *,
        retries: int,
        retry_delay_s: float,
        run_hash: RunHash | None,
        on_outcome: Callable[[], None],
    ) -> None:
        super().__init__(
            huey, "hash", self._hash, results,
            retries=retries, retry_delay_s=retry_delay_s, on_outcome=on_outcome,
        )  # fmt: skip
        self._run_hash = run_hash

    def enqueue(self, job: HashJob) -> None:
        """Put ``job`` on the hash queue (a pickled value: every host runs the same release)."""
        self.task(job)

    def _hash(self, job: HashJob, task: Any = None) -> None:
        if self._run_hash is None:
            raise JobError("a hash task ran in a process without hash workers")
        final = task is None or task.retries == 0
        try:
            outcome = self._run_hash(job, self.send)
        except Exception as exc:  # the source cannot be reached: retried, then reported
            if not final:
                log.warning("hash of %s failed (%s); retrying", job.path, describe(exc))
                raise
            log.error("hash of %s failed for good: %s", job.path, describe(exc))
            outcome = HashOutcome(job, None, error=describe(exc), worker=worker_name())
        self.send(outcome)
