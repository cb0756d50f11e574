"""``archive-analyzer watch``: the polling loop with change-notification rounds between polls,
probing what settles in this process (``run`` replaces the inline probing with workers)."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable

from archive_analyzer.catalog import db
from archive_analyzer.catalog.rules import load_rules
from archive_analyzer.config import Settings
from archive_analyzer.errors import ArchiveError, ConfigError, SourceError
from archive_analyzer.pipeline.changes import (
    apply_changes,
    record_watch_off,
    start_watch,
    stop_watch,
)
from archive_analyzer.pipeline.options import source_opener
from archive_analyzer.pipeline.polling import poll_once
from archive_analyzer.pipeline.probing import probe_inline
from archive_analyzer.scan.feed import ChangeFeed
from archive_analyzer.scan.watcher import WatchState, run_loop
from archive_analyzer.sources import Source
from archive_analyzer.sources.changes import ChangeWatch

log = logging.getLogger(__name__)


def watch(
    settings: Settings,
    *,
    clock: db.Clock = db.utc_now,
    sleep: Callable[[float], None] = time.sleep,
    max_polls: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    source: Source | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Poll ``settings.source`` every ``settings.poll_interval_s`` and probe what settles,
    in this process (the job queue replaces the inline probing in ``archive-analyzer run`` with
    workers). With notifications on, rounds of change notifications run between the polls as
    they come due, and a poll follows at once when a round asks for one. Returns the number of
    polls made (runs until ``should_stop``, ``stop`` or ``max_polls``; ``stop`` is noticed
    within a quarter of a second, ``should_stop`` at the next poll or round). ``source``
    replaces the one the settings name (tests pass a tuned one)."""
    if not settings.source and source is None:
        raise ConfigError("no source given: pass SOURCE or set ARCHIVE_SOURCE / source in TOML")
    state = WatchState(rules=load_rules(settings.rules_file))  # a bad file fails at start
    if source is None:
        assert settings.source is not None
        source = source_opener(settings)(settings.source)
    active: Source = source
    if stop is not None:
        asked = should_stop

        def should_stop() -> bool:
            return stop.is_set() or asked()

        if sleep is time.sleep:

            def sleep(seconds: float) -> None:
                stop.wait(seconds)

    conn = db.connect(settings.db)
    wake = threading.Event()
    watching: tuple[ChangeFeed, ChangeWatch] | None = None

    def one_poll() -> None:
        feed = watching[0] if watching is not None else None
        summary = poll_once(conn, active, settings, state, now=clock, feed=feed)
        probe_inline(conn, active, settings, summary.jobs, clock=clock)

    def one_round(feed: ChangeFeed) -> bool:
        """Run a due round; True when a poll should follow now."""
        try:
            changes = apply_changes(conn, active, settings, state, feed, now=clock)
        except (ArchiveError, sqlite3.Error) as exc:
            log.error("change round failed, polling instead: %s", exc)
            return True
        if changes is None:
            return False
        probe_inline(conn, active, settings, changes.jobs, clock=clock)
        return changes.poll_reason is not None

    def sleep_or_round(seconds: float) -> None:
        """Wait until the next poll, running rounds as they come due; return early when a
        round asks for a poll."""
        assert watching is not None
        deadline = time.monotonic() + seconds
        while not should_stop():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if wake.wait(left if stop is None else min(left, 0.25)):
                wake.clear()
                if one_round(watching[0]):
                    return

    try:
        try:
            active.connect()
        except SourceError as exc:  # a share down at start is a suspect poll, not the end
            log.warning("source not reachable yet, polling anyway: %s", exc)
        watching = start_watch(active, settings, wake.set, clock=clock)
        if watching is None:
            record_watch_off(conn, active, settings, now=clock)
        log.info(
            "watching %s every %.0fs%s (catalog %s)",
            active.name,
            settings.poll_interval_s,
            " and by change notifications" if watching is not None else "",
            settings.db,
        )
        return run_loop(
            one_poll,
            interval_s=settings.poll_interval_s,
            sleep=sleep if watching is None else sleep_or_round,
            should_stop=should_stop,
            max_polls=max_polls,
        )
    finally:
        try:
            if watching is not None:
                stop_watch(watching)
                record_watch_off(conn, active, settings, now=clock)
        finally:
            conn.close()
            active.close()
