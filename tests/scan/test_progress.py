"""Progress lines off a terminal: files, bytes, files/s and ETA at a fixed period."""

from __future__ import annotations

import logging

import pytest

from archive_analyzer.scan.progress import LogProgress, for_terminal


def test_log_lines_every_period_with_rate_and_eta(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    progress = LogProgress("scan", every_s=10, monotonic=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="archive_analyzer.scan.progress"):
        progress.start(total_files=3000)
        now[0] = 5.0
        progress.advance(500, 1024 * 1024)
        assert not caplog.records  # not yet a period
        now[0] = 10.0
        progress.advance(500, 1024 * 1024)
        progress.finish()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "scan: 1000 files, 2.0 MB, 100 files/s, ETA 20s"
    assert len(lines) == 2


def test_plain_lines_when_not_on_a_terminal() -> None:
    assert isinstance(for_terminal("scan"), LogProgress)  # pytest captures stderr
