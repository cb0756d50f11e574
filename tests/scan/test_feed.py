"""The change feed's pure logic: coalescing, timers, scopes (a fake clock; no threads)."""

from __future__ import annotations

from datetime import UTC, datetime

from archive_analyzer.scan.feed import ChangeFeed, NotifyOptions, Scopes, scopes_for
from archive_analyzer.sources.changes import Change, ChangeKind, WatchHealth, WatchStatus

A, M, R, F, T, C = (
    ChangeKind.ADDED,
    ChangeKind.MODIFIED,
    ChangeKind.REMOVED,
    ChangeKind.RENAMED_FROM,
    ChangeKind.RENAMED_TO,
    ChangeKind.CLOSED,
)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def feed(clock: Clock, **options: float) -> ChangeFeed:
    values = {"settle_s": 2.0, "quiet_s": 0.5, "max_wait_s": 5.0, "recheck_max_s": 8.0, **options}
    return ChangeFeed(
        NotifyOptions(**values),  # type: ignore[arg-type]
        monotonic=clock,
        clock=lambda: datetime(2026, 5, 1, tzinfo=UTC),
    )


def test_a_file_is_due_settle_seconds_after_its_last_change() -> None:
    clock = Clock()
    f = feed(clock)
    f.changes([Change(A, "WSOP/Day 1.mp4")])
    clock.t += 1.5
    f.changes([Change(M, "WSOP/Day 1.mp4")])  # still being written: the check moves back
    clock.t += 1.9
    assert f.take() is None
    clock.t += 0.2
    work = f.take()
    assert work is not None
    assert work.check == ("WSOP/Day 1.mp4",)
    assert work.scopes == Scopes(folders=("WSOP",), trees=("WSOP/Day 1.mp4",))
    assert work.events == 2 and work.last_event == Change(M, "WSOP/Day 1.mp4")
    assert f.take() is None and f.pending() == 0


def test_a_close_or_a_removal_is_due_after_the_quiet_time() -> None:
    clock = Clock()
    f = feed(clock)
    f.changes([Change(A, "a.mp4", False), Change(C, "a.mp4", False), Change(R, "old.mp4")])
    clock.t += 0.5
    work = f.take()
    assert work is not None and work.check == ("a.mp4",)
    assert work.scopes == Scopes(folders=("",), trees=("old.mp4",))  # a file is no tree


def test_a_burst_becomes_one_round_once_calm_or_after_max_wait() -> None:
    clock = Clock()
    f = feed(clock)
    for i in range(1000):  # one new file every 10 ms: the copy never pauses for 0.5 s
        f.changes([Change(A, f"burst/{i:04}.mp4", False)])
        clock.t += 0.01
        if i == 250:
            assert f.take() is None  # the first files are due, the copy still runs
    # 10 s in: the first file has been due for more than max_wait_s
    first = f.take()
    assert first is not None and len(first.check) > 500
    assert first.scopes == Scopes(folders=("burst",), trees=())
    clock.t += 2.5
    rest = f.take()
    assert rest is not None and len(first.check) + len(rest.check) == 1000


def test_files_still_open_are_checked_again_with_a_growing_delay() -> None:
    clock = Clock()
    f = feed(clock)
    delays = []
    for _ in range(4):
        f.recheck(["big.mxf"])
        start = clock.t
        while f.take() is None:
            clock.t += 0.25
        delays.append(clock.t - start)
    assert delays == [2.0, 4.0, 8.0, 8.0]
    f.changes([Change(M, "big.mxf")])  # written again: back to the settle time
    clock.t += 2.0
    assert f.take() is not None
    f.settled(["big.mxf"])
    f.recheck(["big.mxf"])
    clock.t += 2.0
    assert f.take() is not None


def test_a_rescan_waits_for_calm_and_a_poll_answers_it() -> None:
    clock = Clock()
    f = feed(clock)
    f.changes([Change(ChangeKind.RESCAN, "")])
    clock.t += 0.5
    work = f.take()
    assert work is not None and work.rescan and not work.has_listing
    f.changes([Change(ChangeKind.RESCAN, "")])
    f.polled(started=clock.t + 0.1)  # a poll that began after the request answers it
    clock.t += 1
    assert f.take() is None


def test_a_health_change_is_a_round_of_its_own() -> None:
    clock = Clock()
    f = feed(clock)
    f.status(WatchStatus(WatchHealth.ACTIVE, "inotify"))
    work = f.take()
    assert work is not None and work.status is not None
    assert work.status.health is WatchHealth.ACTIVE and f.active
    assert f.take() is None


def test_scopes_for_moves_and_many_folders() -> None:
    moved = [
        ("Staging/Day 1", frozenset({F}), True),
        ("WSOP/Day 1", frozenset({T}), True),
        ("Staging/Day 1/a.mp4", frozenset({R}), False),  # inside a tree: nothing more to list
    ]
    assert scopes_for(moved, 64) == Scopes(("Staging", "WSOP"), ("Staging/Day 1", "WSOP/Day 1"))
    spread = [(f"f{i}/x.mp4", frozenset({A}), False) for i in range(65)]
    assert scopes_for(spread, 64) == Scopes(whole=True)
    unknown = [("new thing", frozenset({A}), None)]  # SMB: may be a folder, list it if it is
    assert scopes_for(unknown, 64) == Scopes(("",), ("new thing",))
