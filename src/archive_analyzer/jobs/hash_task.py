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

from archive_analyzer.jobs.messages import HashJob, HashOutcome, HashProgress
from archive_analyzer.jobs.worker_task import WorkerTask, worker_name
from archive_analyzer.jobs.writer_tasks import describe

log = logging.getLogger(__name__)

# Runs one hash job on this host (``jobs.hashing.run_job`` bound to the source pool, the
# fixity options, the viewer signal and the stop flag); reports each finished chunk.
RunHash = Callable[[HashJob, Callable[[HashProgress], None]], HashOutcome]


class HashTask(WorkerTask[RunHash]):
    """The hash task of one process, registered on the hash queue's Huey (``run`` None: this
    process only enqueues)."""

    NAME = "hash"

    def enqueue(self, job: HashJob) -> None:
        """Put ``job`` on the hash queue (a pickled value: every host runs the same release)."""
        self.task(job)

    def _body(self, job: HashJob, task: Any = None) -> None:
        run_hash = self.runner()
        final = task is None or task.retries == 0
        try:
            outcome = run_hash(job, self.send)
        except Exception as exc:  # the source cannot be reached: retried, then reported
            if not final:
                log.warning("hash of %s failed (%s); retrying", job.path, describe(exc))
                raise
            log.error("hash of %s failed for good: %s", job.path, describe(exc))
            outcome = HashOutcome(job, None, error=describe(exc), worker=worker_name())
        self.send(outcome)
