"""The job side the editor routes talk to, for the web tests: the catalog writer and the export
threads on the real (SQLite) queues of the settings, as ``archive-analyzer run`` runs them,
without polling. The app's default ``JobClient`` reaches them through the same queue file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from archive_analyzer.config import Settings
from archive_analyzer.jobs.consumers import export_consumer, probing_tasks, single_writer_consumer
from archive_analyzer.jobs.queue import build_queues
from archive_analyzer.jobs.writer import Writer


@contextmanager
def job_system(settings: Settings) -> Iterator[None]:
    """A running writer consumer and export consumer on the queues of ``settings``."""
    queues = build_queues(settings)
    with probing_tasks(queues, settings, exports=True) as tasks:
        writer = Writer(
            settings, queues, enqueue_probe=tasks.probe.enqueue, on_change=tasks.writer.request_sync
        )
        tasks.writer.serve(writer)
        consumers = [single_writer_consumer(queues), export_consumer(queues, settings)]
        for consumer in consumers:
            consumer.start()
        try:
            yield
        finally:
            tasks.export.stopping.set()
            for consumer in consumers:
                consumer.stop(graceful=True)
            writer.close()
