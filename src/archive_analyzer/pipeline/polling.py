"""One watcher poll: list, diff with the catalog, apply, and the probe jobs for what settled."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from archive_analyzer.catalog import db
from archive_analyzer.catalog.rules import load_rules
from archive_analyzer.config import Settings
from archive_analyzer.pipeline.options import (
    checker_for,
    contents_hook,
    diff_rules,
    source_spec,
)
from archive_analyzer.pipeline.probing import ProbeJob, jobs_for
from archive_analyzer.scan.feed import ChangeFeed
from archive_analyzer.scan.watcher import PollResult, WatchState, poll
from archive_analyzer.sources import Source


@dataclass(frozen=True, slots=True)
class PollSummary:
    """One watcher poll and the probe jobs it produced."""

    poll: PollResult
    jobs: tuple[ProbeJob, ...] = ()

    @property
    def changes(self) -> int:
        """Number of catalog changes the poll made (0 for a quiet or suspect poll)."""
        p = self.poll
        return p.new + p.changed + p.moved + p.restored + p.stable + p.missing + p.deleted


def poll_once(
    conn: sqlite3.Connection,
    source: Source,
    settings: Settings,
    state: WatchState,
    *,
    now: db.Clock,
    feed: ChangeFeed | None = None,
) -> PollSummary:
    """One watcher poll: list the source, diff with the catalog, apply, classify new and moved
    files. Returns the counts and a probe job for every file that became stable (on the first
    poll of a ``state``: every file still pending a probe). The classification rules
    (``settings.rules_file``) are loaded on a state's first poll and kept in it.

    With notifications on, files about to settle that a writer still holds open stay
    incoming, and ``feed`` (the source's change feed) checks them again later."""
    if state.rules is None:
        state.rules = load_rules(settings.rules_file)
    started = feed.monotonic() if feed is not None else 0.0
    result = poll(
        conn,
        source,
        diff_rules(settings),
        state,
        now=now,
        refresh=contents_hook(now, state.rules),
        checker=checker_for(source, settings),
    )
    if feed is not None:
        if result.status == "completed":
            feed.polled(started)
        if result.still_open:
            feed.recheck(result.still_open)
    return PollSummary(result, jobs_for(result.ready, source_spec(settings, source)))
