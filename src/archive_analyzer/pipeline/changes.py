"""Change notifications beside the poll: starting and stopping a source's watch, running a
round that came due, and recording the watch's health in ``notify_state``."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from archive_analyzer.catalog import db, notify_state
from archive_analyzer.catalog.rules import load_rules
from archive_analyzer.config import Settings
from archive_analyzer.pipeline.options import (
    checker_for,
    contents_hook,
    diff_rules,
    notify_options,
    source_spec,
)
from archive_analyzer.pipeline.probing import ProbeJob, jobs_for
from archive_analyzer.scan.feed import ChangeFeed, Round
from archive_analyzer.scan.rounds import RoundResult, run_round
from archive_analyzer.scan.watcher import WatchState
from archive_analyzer.sources import Source
from archive_analyzer.sources.changes import ChangeWatch, Notifying


@dataclass(frozen=True, slots=True)
class ChangesSummary:
    """One round of change notifications and the probe jobs it produced."""

    round: RoundResult
    jobs: tuple[ProbeJob, ...] = ()

    @property
    def poll_reason(self) -> str | None:
        """Why a full poll should follow at once (None: no need)."""
        return self.round.poll_reason


def start_watch(
    source: Source,
    settings: Settings,
    on_due: Callable[[], object],
    *,
    clock: db.Clock = db.utc_now,
) -> tuple[ChangeFeed, ChangeWatch] | None:
    """Start watching ``source`` for changes (None when notifications are off or the source
    cannot notify): a change feed whose pump calls ``on_due`` (from its own thread) when a
    round is ready, and the running watch. The caller closes both (``stop_watch``)."""
    if not settings.notify or not isinstance(source, Notifying):
        return None
    feed = ChangeFeed(notify_options(settings), clock=clock)
    feed.start(on_due)
    try:
        watch = source.watch_changes(feed)
    except BaseException:
        feed.close()
        raise
    return feed, watch


def stop_watch(watching: tuple[ChangeFeed, ChangeWatch] | None) -> None:
    """Stop a watch started by ``start_watch`` (None: nothing to do)."""
    if watching is None:
        return
    feed, watch = watching
    try:
        watch.close()
    finally:
        feed.close()


def apply_changes(
    conn: sqlite3.Connection,
    source: Source,
    settings: Settings,
    state: WatchState,
    feed: ChangeFeed,
    *,
    now: db.Clock,
) -> ChangesSummary | None:
    """Run the round of change notifications that is due (None when none is): check the
    files writers may have closed, list the folders that changed, apply what changed in one
    transaction (recording the watch's health and last event in ``notify_state``). Files
    still open are checked again later; ``poll_reason`` says when a poll must follow now."""
    work = feed.take()
    if work is None:
        return None
    if state.rules is None:
        state.rules = load_rules(settings.rules_file)
    result = run_round(
        conn,
        source,
        diff_rules(settings),
        work,
        now=now,
        checker=checker_for(source, settings),
        refresh=contents_hook(now, state.rules),
        record=_round_recorder(source.name, work, feed, now),
    )
    feed.settled(result.settled)
    if result.still_open:
        feed.recheck(result.still_open)
    return ChangesSummary(result, jobs_for(result.ready, source_spec(settings, source)))


def _round_recorder(
    source: str, work: Round, feed: ChangeFeed, now: db.Clock
) -> Callable[[sqlite3.Connection, bool], None]:
    def record(conn: sqlite3.Connection, wrote: bool) -> None:
        status = work.status or feed.watch_status
        stamp = db.timestamp(now())
        notify_state.set_health(
            conn,
            source,
            mechanism=status.mechanism or "change notifications",
            health=status.health.value,
            detail=status.detail,
            now=stamp,
        )
        event = work.last_event
        notify_state.record_round(
            conn,
            source,
            notify_state.RoundRecord(
                events=work.events,
                rescan=work.rescan,
                last_event=None if event is None else f"{event.kind.value} {event.path or '/'}",
                last_event_at=None
                if work.last_event_at is None
                else db.timestamp(work.last_event_at),
            ),
            stamp,
        )

    return record


def record_watch_off(conn: sqlite3.Connection, source: Source, settings: Settings,
                     *, now: db.Clock) -> None:  # fmt: skip
    """Say in ``notify_state`` that ``source`` is watched by polling only (or, at shutdown,
    that its notifications stopped)."""
    if settings.notify and isinstance(source, Notifying):
        health, mechanism, detail = "stopped", "change notifications", None
    elif settings.notify:
        health, mechanism, detail = "off", "polling only", "the source cannot notify"
    else:
        health, mechanism, detail = "off", "polling only", "notifications are off (notify)"
    with db.transaction(conn):
        row = notify_state.load(conn, source.name)
        if row is not None and health == "stopped":
            mechanism = str(row["mechanism"])
        notify_state.set_health(conn, source.name, mechanism=mechanism, health=health,
                                detail=detail, now=db.timestamp(now()))  # fmt: skip
