"""Values that travel between hosts through the queues (pickled, like Huey's own messages)."""

from __future__ import annotations

from dataclasses import dataclass

from archive_analyzer.pipeline import ProbeJob
from archive_analyzer.probe.result import ProbeResult


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    """A probe worker's answer to one job, for the writer to ingest.

    ``result`` is None when the job failed for good (every retry raised); ``error`` says why.
    ``attempts`` counts executions of this dispatch; ``worker`` is ``host:pid`` (for logs).
    """

    job: ProbeJob
    result: ProbeResult | None
    error: str | None
    attempts: int
    worker: str
