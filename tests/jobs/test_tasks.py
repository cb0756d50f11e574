"""Task registration: stable task ids, and the sync debounce on the injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from archive_analyzer.config import Settings
from archive_analyzer.jobs.queue import build_queues
from archive_analyzer.jobs.tasks import TaskOptions, register_tasks


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_task_ids_stay_the_same_across_releases(tmp_path: Path) -> None:
    """A task queued by one release (Redis outlives an upgrade) is found by the next."""
    tasks = register_tasks(build_queues(Settings(data_dir=tmp_path)), TaskOptions())
    handles = [tasks.writer.poll, tasks.writer.ingest, tasks.writer.sync, tasks.writer.reconcile]
    handles += [tasks.writer.reprobe, tasks.probe.task]
    ids = {f"{h.task_class.__module__}.{h.task_class.__name__}" for h in handles}
    assert ids == {
        f"archive_analyzer.jobs.tasks.{name}"
        for name in ("poll", "ingest", "sync", "reconcile", "reprobe", "probe")
    }


def test_a_sync_runs_when_changes_never_stop(tmp_path: Path) -> None:
    """Debounced syncs are skipped while newer changes come in, until the first request is
    SYNC_MAX_WAIT_FACTOR debounce intervals old by the injected clock."""
    queues = build_queues(Settings(data_dir=tmp_path))
    clock = Clock()
    synced: list[datetime] = []
    tasks = register_tasks(
        queues,
        TaskOptions(sync_debounce_s=10),
        sync_runner=lambda: synced.append(clock.now),
        clock=clock,
    )

    def run_due() -> None:
        while (task := queues.writer.dequeue()) is not None:
            task.eta = None
            queues.writer.execute(task)

    tasks.writer.request_sync()
    stale = queues.writer.pending()[0]
    queues.writer.dequeue()  # keep the first request's task aside
    for _ in range(3):
        clock.now += timedelta(seconds=20)
        tasks.writer.request_sync()  # a newer change each time
    run_due()
    assert len(synced) == 1  # only the latest of the burst
    tasks.writer.request_sync()
    clock.now += timedelta(seconds=61)  # more than 6 x 10 s since the first request
    stale.eta = None
    queues.writer.execute(stale)  # an older token, but the wait is over: it syncs
    assert len(synced) == 2


def test_sync_requests_are_ignored_without_sync(tmp_path: Path) -> None:
    queues = build_queues(Settings(data_dir=tmp_path))
    tasks = register_tasks(queues, TaskOptions())
    tasks.writer.request_sync()
    assert queues.writer.pending_count() == 0
