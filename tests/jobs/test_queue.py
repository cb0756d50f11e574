"""Contract tests of the queue backends: SQLite (embedded) and a real redis-server."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive_analyzer.config import Settings
from archive_analyzer.errors import JobError
from archive_analyzer.jobs.queue import (
    QueueStorage,
    RedisQueueStorage,
    SqliteQueueStorage,
    build_queues,
    open_queue_storage,
    redact_url,
)


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> QueueStorage:
    if request.param == "sqlite":
        return SqliteQueueStorage(tmp_path / "queue.db")
    url: str = request.getfixturevalue("redis_url")
    return RedisQueueStorage(url)


def test_results_queue_is_fifo_and_non_blocking(backend: QueueStorage, tmp_path: Path) -> None:
    queues = build_queues(Settings(data_dir=tmp_path), storage=backend)
    assert queues.results.take(10) == []
    for n in range(5):
        queues.results.put({"n": n})
    assert queues.results.size() == 5
    assert [m["n"] for m in queues.results.take(3)] == [0, 1, 2]
    assert [m["n"] for m in queues.results.take(10)] == [3, 4]


def test_tasks_round_trip_through_the_backend(backend: QueueStorage, tmp_path: Path) -> None:
    queues = build_queues(Settings(data_dir=tmp_path), storage=backend)
    seen: list[int] = []

    @queues.probe.task(name="square")
    def square(x: int) -> None:
        seen.append(x * x)

    square(3)
    square(4)
    assert queues.probe.pending_count() == 2
    while (task := queues.probe.dequeue()) is not None:
        queues.probe.execute(task)
    assert seen == [9, 16]
    # queues are separate: nothing leaked into the writer queue
    assert queues.writer.pending_count() == 0


def test_lock_and_kv(backend: QueueStorage) -> None:
    huey = backend.huey("archive_test")
    huey.put("k", {"a": 1})
    assert huey.get("k", peek=True) == {"a": 1}
    assert huey.get("k") == {"a": 1}
    assert huey.get("k") is None
    lock = huey.lock_task("poll")
    with lock:
        assert lock.is_locked()
    assert not lock.is_locked()
    backend.ping()


def test_factory_picks_backend_from_settings(tmp_path: Path) -> None:
    default = open_queue_storage(Settings(data_dir=tmp_path))
    assert default.kind == "sqlite"
    assert default.location == str(tmp_path / "queue.db")
    redis = open_queue_storage(
        Settings(data_dir=tmp_path, redis_url="redis://:s3cret@127.0.0.1:1/0")  # type: ignore[arg-type]
    )
    assert redis.kind == "redis"
    assert "s3cret" not in redis.location
    with pytest.raises(JobError):
        open_queue_storage(Settings(redis_url="http://x"))  # type: ignore[arg-type]


def test_unreachable_redis_is_a_job_error() -> None:
    from tests.fixtures.net import free_port

    with pytest.raises(JobError, match="cannot reach Redis"):
        RedisQueueStorage(f"redis://127.0.0.1:{free_port()}/0").ping()


def test_redact_url() -> None:
    assert redact_url("redis://u:pw@h:1/0") == "redis://u:***@h:1/0"
    assert redact_url("redis://h:1/0") == "redis://h:1/0"
