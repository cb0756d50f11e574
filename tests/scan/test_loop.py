"""The watcher loop with an injected clock and sleep."""

from __future__ import annotations

from archive_analyzer.errors import SourceUnavailable
from archive_analyzer.scan.watcher import run_loop


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_interval_is_start_to_start_and_failures_do_not_stop_the_loop() -> None:
    clock = FakeTime()
    calls: list[float] = []

    def poll() -> None:
        calls.append(clock.now)
        clock.now += 2.0  # each poll takes 2 s
        if len(calls) == 2:
            raise SourceUnavailable("share down")

    made = run_loop(poll, interval_s=60, sleep=clock.sleep, monotonic=clock.monotonic, max_polls=3)
    assert made == 3
    assert calls == [0.0, 60.0, 120.0]
    assert clock.sleeps == [58.0, 58.0]


def test_stops_when_asked() -> None:
    clock = FakeTime()
    polls: list[int] = []
    made = run_loop(
        lambda: polls.append(1),
        interval_s=5,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
        should_stop=lambda: len(polls) >= 2,
    )
    assert made == 2
