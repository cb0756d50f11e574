"""Viewers first: the web app's beacon in the queue store, as hash workers read it."""

from __future__ import annotations

import time

from huey import MemoryHuey

from archive_analyzer.jobs.hashing import VIEWERS_FRESH_S, ViewerBeacon, viewers_present
from tests.fixtures.net import wait_for


def test_beacon_while_streaming_and_workers_see_it_go_stale() -> None:
    huey = MemoryHuey("w", immediate=True, results=False)
    streaming = {"now": False}
    beacon = ViewerBeacon(lambda: streaming["now"], huey.put, interval_s=0.02)
    beacon.start()
    try:
        present = viewers_present(huey)
        time.sleep(0.1)
        assert not present()  # nobody streams: no stamp
        streaming["now"] = True
        wait_for(present, timeout=5, what="the beacon")
        later = viewers_present(huey, now=lambda: time.time() + VIEWERS_FRESH_S + 1)
        assert not later()  # a stamp older than VIEWERS_FRESH_S means gone
    finally:
        beacon.stop()


def test_a_poke_stamps_at_once() -> None:
    huey = MemoryHuey("w", immediate=True, results=False)
    beacon = ViewerBeacon(lambda: True, huey.put, interval_s=3600)
    beacon.start()
    try:
        present = viewers_present(huey)
        assert not present()
        beacon.poke()  # a stream started: no waiting for the hourly tick
        wait_for(present, timeout=5, what="the poked beacon")
    finally:
        beacon.stop()


def test_beacon_survives_a_broken_queue() -> None:
    def broken(key: str, value: float) -> None:
        raise ConnectionError("queue down")

    beacon = ViewerBeacon(lambda: True, broken, interval_s=0.01)
    beacon.start()
    time.sleep(0.1)
    assert beacon._thread.is_alive()
    beacon.stop()
