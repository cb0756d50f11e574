"""The probe task: runs on any worker host and sends its outcome to the writer, never the catalog.

A probe that raises (or returns an I/O ``error`` result) is retried ``retries`` times, the delay
doubling from ``retry_delay_s``; the last failure is sent to the writer as an outcome, which
records it on the failure list. A job lost without any answer (worker killed) is found by its
lease (``jobs.writer``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from archive_analyzer.errors import JobError
from archive_analyzer.jobs.messages import ProbeOutcome
from archive_analyzer.jobs.worker_task import WorkerTask, worker_name
from archive_analyzer.jobs.writer_tasks import describe
from archive_analyzer.pipeline import ProbeJob
from archive_analyzer.probe.result import ProbeResult, ProbeStatus

log = logging.getLogger(__name__)

# Probes one job (``pipeline.run_probe`` with this host's source pool and probe options).
RunProbe = Callable[[ProbeJob], ProbeResult]


class ProbeTask(WorkerTask[RunProbe]):
    """The probe task of one process, registered on the probe queue's Huey.

    ``run`` is None in a process that only enqueues (it then refuses to run a probe);
    ``on_outcome`` asks the writer to ingest once an outcome is in the results queue.
    """

    NAME = "probe"

    def enqueue(self, job: ProbeJob) -> None:
        """Put ``job`` on the probe queue (primitive arguments: any host can take it)."""
        self.task(job.file_id, job.source, job.path, job.size, job.mtime)

    def _body(
        self, file_id: str, source: str, path: str, size: int, mtime: float, task: Any = None
    ) -> None:
        run_probe = self.runner()
        job = ProbeJob(file_id, source, path, size, mtime)
        remaining = task.retries if task is not None else 0
        attempts = self._retries - remaining + 1
        final = remaining == 0
        try:
            result = run_probe(job)
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
        self.send(outcome)
