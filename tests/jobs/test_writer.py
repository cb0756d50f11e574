"""The single writer in process: leases bring lost probe jobs back, poison files end on the
failure list, failing probes retry from the schedule without blocking the queue. Real catalog,
real SQLite queue, real files; the clock is injected."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive_analyzer.catalog import db, report
from archive_analyzer.config import Settings
from archive_analyzer.jobs.client import task_options
from archive_analyzer.jobs.consumers import probing_tasks
from archive_analyzer.jobs.queue import Queues, build_queues
from archive_analyzer.jobs.tasks import Tasks, register_tasks
from archive_analyzer.jobs.writer import Writer


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Rig:
    def __init__(
        self, settings: Settings, root: Path, clock: FakeClock, queues: Queues, tasks: Tasks
    ) -> None:
        self.settings = settings
        self.root = root
        self.clock = clock
        self.queues = queues
        self.tasks = tasks
        self.writer = Writer(
            settings,
            self.queues,
            enqueue_probe=tasks.probe.enqueue,
            on_change=tasks.writer.request_sync,
            clock=clock,
        )
        tasks.writer.serve(self.writer)

    def scalar(self, sql: str, *params: object) -> object:
        return self.writer.conn.execute(sql, params).fetchone()[0]

    def run_probe_queue(self) -> int:
        """Execute probe tasks, pulling retries from the schedule at once; returns how many."""
        huey = self.queues.probe
        executed = 0
        while True:
            task = huey.dequeue()
            if task is None:
                later = huey.read_schedule(
                    datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)
                )
                if not later:
                    return executed
                task = later[0]
                task.eta = None  # run the retry now instead of waiting for its delay
                for other in later[1:]:
                    huey.enqueue(other)
            huey.execute(task)
            executed += 1


@pytest.fixture
def rig(tmp_path: Path, corpus: dict[str, Path]) -> Iterator[Rig]:
    root = tmp_path / "archive"
    (root / "HCL").mkdir(parents=True)
    for name in ("mp4_faststart", "mkv"):
        shutil.copyfile(corpus[name], root / "HCL" / corpus[name].name)
    settings = Settings(
        db=tmp_path / "archive.db",
        data_dir=tmp_path / "data",
        source=str(root),
        probe_lease_s=10,
        probe_max_dispatches=2,
        job_retries=2,
        job_retry_delay_s=5,
        reconcile_hour=-1,
    )
    clock = FakeClock()
    queues = build_queues(settings)
    with probing_tasks(queues, settings, clock=clock) as tasks:
        the_rig = Rig(settings, root, clock, queues, tasks)
        try:
            yield the_rig
        finally:
            the_rig.writer.close()


def test_lost_jobs_are_dispatched_again_then_given_up(rig: Rig) -> None:
    rig.writer.poll()  # new: incoming
    rig.clock.advance(1)
    first = rig.writer.poll()  # stable: ready, dispatched
    assert first.dispatched == 2
    assert rig.queues.probe.pending_count() == 2
    assert rig.scalar("SELECT count(*) FROM probe_leases") == 2

    # a job still queued is slow, not lost, however old its lease
    rig.clock.advance(60)
    assert rig.writer.poll().redispatched == 0

    rig.queues.probe.storage.flush_queue()  # the queue loses them (Redis restart, SIGKILL)
    rig.clock.advance(5)
    assert rig.writer.poll().redispatched == 0  # last seen waiting 5 s ago: maybe running
    rig.clock.advance(6)
    assert rig.writer.poll().redispatched == 2
    assert rig.scalar("SELECT max(attempts) FROM probe_leases") == 2
    assert rig.queues.probe.pending_count() == 2

    rig.queues.probe.storage.flush_queue()
    rig.clock.advance(5)
    assert rig.writer.poll().redispatched == 0  # not expired yet
    rig.clock.advance(6)
    gave_up = rig.writer.poll()
    assert gave_up.poisoned == 2
    assert rig.scalar("SELECT count(*) FROM probe_leases") == 0
    assert rig.scalar("SELECT count(*) FROM media_info WHERE status = 'error'") == 2
    assert rig.scalar("SELECT count(*) FROM files WHERE probe_state = 'failed'") == 2
    section = report.job_failures(rig.writer.conn, 10)
    assert len(section.rows) == 2
    assert all("lost 2 times" in str(row["error"]) for row in section.rows)
    # not offered again while unchanged
    rig.clock.advance(1)
    assert rig.writer.poll().dispatched == 0


def test_probe_jobs_run_and_are_ingested(rig: Rig) -> None:
    rig.writer.poll()
    rig.clock.advance(1)
    rig.writer.poll()
    assert rig.run_probe_queue() == 2
    assert rig.queues.results.size() == 2
    assert rig.writer.ingest_all() == 2
    assert rig.scalar("SELECT count(*) FROM media_info WHERE status = 'ok'") == 2
    assert rig.scalar("SELECT count(*) FROM probe_leases") == 0
    assert rig.writer.dispatch([]) == 0


def test_a_failing_probe_retries_from_the_schedule_and_lands_on_the_failure_list(
    rig: Rig, corpus: dict[str, Path]
) -> None:
    rig.writer.poll()
    rig.clock.advance(1)
    rig.writer.poll()
    # the mkv vanishes before a worker gets to it: every attempt fails
    (rig.root / "HCL" / corpus["mkv"].name).unlink()

    huey = rig.queues.probe
    first = huey.dequeue()
    second = huey.dequeue()
    poison, good = (first, second) if first.args[2].endswith(".mkv") else (second, first)
    huey.execute(poison)
    # the retry waits in the schedule, not in a worker: the good job runs meanwhile
    assert huey.scheduled_count() == 1
    huey.execute(good)
    assert rig.queues.results.size() == 1
    rig.run_probe_queue()  # the remaining retries of the poison job
    outcomes = rig.queues.results.size()
    assert outcomes == 2
    rig.writer.ingest_all()

    failures = rig.writer.conn.execute(
        "SELECT task, path, attempts FROM job_failures WHERE resolved_at IS NULL"
    ).fetchall()
    assert [(r["task"], r["attempts"]) for r in failures] == [("probe", 3)]
    assert failures[0]["path"].endswith(".mkv")
    assert rig.scalar("SELECT count(*) FROM media_info WHERE status = 'ok'") == 1
    assert rig.scalar("SELECT count(*) FROM probe_leases") == 0


def test_status_sections_read_the_jobs_tables(rig: Rig) -> None:
    with db.transaction(rig.writer.conn):
        from archive_analyzer.jobs import ledger

        ledger.record_failure(
            rig.writer.conn, key="sync", task="sync", error="boom", attempts=4, now=rig.clock()
        )
        ledger.record_failure(
            rig.writer.conn, key="sync", task="sync", error="boom 2", attempts=4, now=rig.clock()
        )
    rows = report.job_failures(rig.writer.conn, 10).rows
    assert rows == [
        {
            "task": "sync",
            "path": None,
            "error": "boom 2",
            "attempts": 4,
            "occurrences": 2,
            "last_failed_at": db.timestamp(rig.clock()),
        }
    ]
    in_flight = report.probe_jobs(rig.writer.conn, 10).rows
    assert in_flight[0]["in_flight"] == 0


def test_sync_is_debounced(tmp_path: Path, corpus: dict[str, Path]) -> None:
    root = tmp_path / "archive"
    root.mkdir()
    settings = Settings(
        db=tmp_path / "archive.db",
        data_dir=tmp_path / "data",
        source=str(root),
        **{"ARCHIVE_FIRESTORE_PROJECT": "demo-project"},  # by its alias
        sync_debounce_s=30,
        reconcile_hour=-1,
    )
    queues = build_queues(settings)
    calls: list[int] = []
    tasks = register_tasks(
        queues, task_options(settings), sync_runner=lambda: calls.append(1), clock=FakeClock()
    )
    writer = Writer(settings, queues, enqueue_probe=tasks.probe.enqueue, clock=FakeClock())
    tasks.writer.serve(writer)
    try:
        for _ in range(3):  # a burst of changes
            tasks.writer.request_sync()
        due = queues.writer.pending()  # each with its eta: the consumer holds it until then
        assert [task.name for task in due] == ["sync"] * 3
        while (task := queues.writer.dequeue()) is not None:
            task.eta = None  # run now rather than after the debounce
            queues.writer.execute(task)
        assert len(calls) == 1  # only the last request of the burst syncs
    finally:
        writer.close()


def test_a_job_taken_by_a_worker_is_running_not_lost(rig: Rig) -> None:
    rig.writer.poll()
    rig.clock.advance(1)
    rig.writer.poll()  # two jobs dispatched
    rig.clock.advance(600)  # they waited long in the queue: old leases
    assert rig.writer.poll().redispatched == 0  # seen waiting now
    running = rig.queues.probe.dequeue()  # a worker takes one and is busy with it
    assert running is not None
    rig.clock.advance(5)
    assert rig.writer.poll().redispatched == 0  # taken 5 s ago: running, not lost
    rig.clock.advance(6)
    assert rig.writer.poll().redispatched == 1  # over probe_lease_s since last seen: lost
    assert rig.scalar("SELECT max(attempts) FROM probe_leases") == 2
