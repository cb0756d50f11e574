"""The Huey tasks of one deployment, registered the same way in every process.

Tasks are thin: primitive arguments, idempotent, each calling one writer method or one
``pipeline`` function. The writer tasks (poll, ingest, sync, reconcile, re-probe:
``jobs.writer_tasks``) run only in the process that consumes the writer queue; the probe task
(``jobs.probe_task``) and the hash task (``jobs.hash_task``) run on any worker host and send
their outcomes to their results queues instead of writing the catalog.

Building a deployment's jobs, in order: ``register_tasks`` (every process), then in the ``run``
process ``Writer(..., enqueue_probe=tasks.probe.enqueue, on_change=tasks.writer.request_sync)``
and ``tasks.writer.serve(writer)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive_analyzer.catalog import db
from archive_analyzer.jobs.export_task import ExportTask, RunExport
from archive_analyzer.jobs.hash_task import HashTask, RunHash
from archive_analyzer.jobs.probe_task import ProbeTask, RunProbe
from archive_analyzer.jobs.queue import Queues
from archive_analyzer.jobs.worker_task import worker_name
from archive_analyzer.jobs.writer_tasks import (
    INGEST_FLAG,
    POLL_FLAG,
    SyncRunner,
    TaskOptions,
    WriterTasks,
    describe,
)

__all__ = [
    "INGEST_FLAG",
    "POLL_FLAG",
    "TaskOptions",
    "Tasks",
    "describe",
    "register_tasks",
    "worker_name",
]


@dataclass(frozen=True)
class Tasks:
    """The registered tasks of one process (``writer`` side, ``probe``, clip ``export`` and
    ``hash``)."""

    writer: WriterTasks
    probe: ProbeTask
    export: ExportTask
    hash: HashTask


def register_tasks(
    queues: Queues,
    options: TaskOptions,
    *,
    run_probe: RunProbe | None = None,
    run_hash: RunHash | None = None,
    sync_runner: SyncRunner | None = None,
    run_export: RunExport | None = None,
    clock: db.Clock = db.utc_now,
) -> Tasks:
    """Register every task on ``queues``. A process given ``run_probe`` can execute probe jobs,
    one given ``run_hash`` hash jobs; one given ``sync_runner`` syncs (None: sync is not
    configured); one given ``run_export`` cuts clips."""
    writer = WriterTasks(queues.writer, options, clock=clock, sync_runner=sync_runner)
    probe = ProbeTask(
        queues.probe,
        queues.results,
        retries=options.retries,
        retry_delay_s=options.retry_delay_s,
        run=run_probe,
        on_outcome=writer.request_ingest,
    )
    hashing = HashTask(
        queues.hash,
        queues.hash_results,
        retries=options.retries,
        retry_delay_s=options.retry_delay_s,
        run=run_hash,
        on_outcome=writer.request_ingest,
    )
    return Tasks(writer, probe, ExportTask(queues.export, run_export), hashing)
