"""Pacing and quiet hours (pure: fake clock and sleep)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archive_analyzer.errors import ConfigError
from archive_analyzer.fixity.throttle import MIB, Throttle, parse_quiet_hours


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def test_rate_cap_paces_reads() -> None:
    clock = FakeTime()
    throttle = Throttle(max_bps=10 * MIB, monotonic=clock.monotonic, sleep=clock.sleep)
    for _ in range(100):  # 100 MiB read instantly
        throttle.take(MIB)
    assert 9.0 <= clock.slept <= 10.5


def test_no_cap_never_sleeps() -> None:
    clock = FakeTime()
    throttle = Throttle(max_bps=0, monotonic=clock.monotonic, sleep=clock.sleep)
    for _ in range(100):
        throttle.take(MIB)
    assert clock.slept == 0


def test_viewers_lower_the_cap() -> None:
    clock = FakeTime()
    watching = {"on": True}
    throttle = Throttle(
        max_bps=100 * MIB,
        busy_bps=5 * MIB,
        viewers=lambda: watching["on"],
        monotonic=clock.monotonic,
        sleep=clock.sleep,
    )
    for _ in range(50):
        throttle.take(MIB)
    assert clock.slept >= 9.0  # 50 MiB at 5 MiB/s
    assert throttle.viewer_waits_s >= 9.0


def test_viewers_pause_when_busy_rate_is_zero() -> None:
    clock = FakeTime()
    calls = {"n": 0}

    def viewers() -> bool:
        calls["n"] += 1
        return calls["n"] < 5  # viewers leave after a few checks

    throttle = Throttle(
        max_bps=0, busy_bps=0, viewers=viewers, monotonic=clock.monotonic, sleep=clock.sleep
    )
    throttle.take(MIB)
    assert clock.slept >= 3.0


def test_quiet_hours_across_midnight() -> None:
    hours = parse_quiet_hours("22:00-06:00", "Asia/Seoul")
    assert hours is not None
    # 14:00 UTC = 23:00 KST (inside); 03:00 UTC = 12:00 KST (outside)
    assert hours.contains(datetime(2026, 3, 1, 14, 0, tzinfo=UTC))
    assert not hours.contains(datetime(2026, 3, 1, 3, 0, tzinfo=UTC))
    assert parse_quiet_hours(None) is None and parse_quiet_hours(" ") is None


@pytest.mark.parametrize("bad", ["22-06", "25:00-06:00", "tonight"])
def test_bad_quiet_hours(bad: str) -> None:
    with pytest.raises(ConfigError):
        parse_quiet_hours(bad)


def test_unknown_zone() -> None:
    with pytest.raises(ConfigError):
        parse_quiet_hours("01:00-02:00", "Mars/Olympus")
