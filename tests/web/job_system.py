"""The job side the editor routes talk to, for the web tests: the catalog writer and the export
threads on a real (SQLite) queue, as ``archive-analyzer run`` runs them, without polling."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from archive_analyzer.config import Settings
from archive_analyzer.jobs.edits import EditClient
from archive_analyzer.jobs.exports import ExportJobs
from archive_analyzer.jobs.host import export_consumer, single_writer_consumer
from archive_analyzer.jobs.queue import build_queues
from archive_analyzer.jobs.tasks import edit_client, export_jobs, register_tasks
from archive_analyzer.jobs.writer import Writer


@contextmanager
def job_system(settings: Settings) -> Iterator[tuple[EditClient, ExportJobs]]:
    """(edit client, export jobs) backed by a running writer and export consumer."""
    queues = build_queues(settings)
    writer = Writer(settings, queues)
    tasks = register_tasks(queues, settings, writer=writer)
    consumers = [single_writer_consumer(queues), export_consumer(queues, settings)]
    for consumer in consumers:
        consumer.start()
    try:
        # a fresh client: its own Huey instances, as the web app in another process has
        web_tasks = register_tasks(web_queues := build_queues(settings), settings)
        yield (
            edit_client(web_tasks, web_queues, timeout_s=30.0),
            export_jobs(web_tasks, web_queues, settings),
        )
    finally:
        tasks.exports_stopping.set()
        for consumer in consumers:
            consumer.stop(graceful=True)
        writer.close()
        tasks.sources.close()
