"""The previews task: one request waits at most, a sweep with files left asks again, a
source error is logged instead of failing the task, and its Huey id stays stable."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from archive_analyzer.config import Settings
from archive_analyzer.errors import SourceUnavailable
from archive_analyzer.jobs import previews
from archive_analyzer.jobs.queue import open_queue_storage
from archive_analyzer.previews.make import SweepResult


def _task(
    tmp_path: Path, results: list[SweepResult | Exception]
) -> tuple[previews.PreviewTask, list[int]]:
    storage = open_queue_storage(Settings(data_dir=tmp_path))
    asked: list[int] = []

    def run_sweep(limit: int) -> SweepResult:
        asked.append(limit)
        found = results.pop(0)
        if isinstance(found, Exception):
            raise found
        return found

    return previews.PreviewTask(storage.huey(previews.PREVIEWS_QUEUE), run_sweep), asked


def _run_all(task: previews.PreviewTask) -> int:
    ran = 0
    while (queued := task.huey.dequeue()) is not None:
        task.huey.execute(queued)
        ran += 1
    return ran


def test_requests_wait_once_and_a_sweep_with_files_left_asks_again(tmp_path: Path) -> None:
    task, asked = _task(tmp_path, [SweepResult(made=5, left=3), SweepResult(made=3)])
    assert task.request() is True
    assert task.request() is False  # one waits already
    assert _run_all(task) == 2  # the second sweep was enqueued by the first
    assert asked == [previews.BATCH, previews.BATCH]
    assert task.request() is True  # the flag is gone once a sweep started


def test_a_source_error_is_logged_and_the_next_request_tries_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    task, asked = _task(tmp_path, [SourceUnavailable("share down"), SweepResult()])
    task.request()
    with caplog.at_level(logging.WARNING):
        _run_all(task)
    assert "share down" in caplog.text
    task.request()
    assert _run_all(task) == 1 and len(asked) == 2


def test_a_flag_left_by_a_crash_is_cleared(tmp_path: Path) -> None:
    task, _ = _task(tmp_path, [])
    task.huey.put_if_empty(previews.PREVIEWS_FLAG, "1")
    assert task.request() is False
    task.clear_flag()
    assert task.request() is True


def test_the_task_id_stays_the_same_across_releases(tmp_path: Path) -> None:
    task, _ = _task(tmp_path, [])
    wrapper = task.task
    name = f"{wrapper.task_class.__module__}.{wrapper.task_class.__name__}"
    assert name == "archive_analyzer.jobs.tasks.previews"
