"""The stages composed: scan -> probe -> store, and the watcher's poll -> probe jobs -> ingest.

The jobs layer calls these same functions from its tasks: ``poll_once`` and ``ingest`` on the
single writer, ``run_probe`` on any host. Values crossing between them are frozen dataclasses
(``ProbeJob``, ``ProbeResult``).

This is where ``Settings`` becomes each stage's own small options value (``smb_options``,
``probe_options``, ``diff_rules``, ``source_opener``): the stages below never see the
settings.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from archive_analyzer.catalog import db, media, notify_state
from archive_analyzer.catalog import files as repo
from archive_analyzer.catalog.rules import Rules, load_rules
from archive_analyzer.config import Settings
from archive_analyzer.errors import ArchiveError, ConfigError, SourceError
from archive_analyzer.export.clip import ClipOptions
from archive_analyzer.export.clips import ExportOptions, media_root_of
from archive_analyzer.probe import engine
from archive_analyzer.probe.engine import ProbeOptions
from archive_analyzer.probe.result import ProbeResult, ProbeStatus
from archive_analyzer.scan.diff import DiffRules
from archive_analyzer.scan.feed import ChangeFeed, NotifyOptions, Round
from archive_analyzer.scan.progress import Progress, for_terminal
from archive_analyzer.scan.rounds import RoundResult, run_round
from archive_analyzer.scan.scanner import Scanner, ScanResult
from archive_analyzer.scan.watcher import (
    Checker,
    PollResult,
    RefreshHook,
    WatchState,
    poll,
    run_loop,
)
from archive_analyzer.sources import SMBOptions, Source, SourceOpener, SourcePool, open_source
from archive_analyzer.sources.changes import ChangeWatch, Notifying

log = logging.getLogger(__name__)

# Probe results are stored this many per transaction.
INGEST_BATCH = 50


@dataclass(frozen=True, slots=True)
class ProbeJob:
    """One file version to probe. ``source`` is the source spec (a path or an ``smb://`` URL
    without password) so any host can open it; ``size`` and ``mtime`` are the catalog's when the
    job was made, so a result for an older version can be recognised and dropped."""

    file_id: str
    source: str
    path: str
    size: int
    mtime: float


@dataclass(frozen=True, slots=True)
class ScanSummary:
    """A full scan and the probing after it."""

    scan: ScanResult
    probed: int = 0
    probe_failed: int = 0
    probe_dropped: int = 0
    probe_pending: int = 0  # left for later (no probe engine, or interrupted)
    probe_s: float = 0.0


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


@dataclass(frozen=True, slots=True)
class ChangesSummary:
    """One round of change notifications and the probe jobs it produced."""

    round: RoundResult
    jobs: tuple[ProbeJob, ...] = ()

    @property
    def poll_reason(self) -> str | None:
        """Why a full poll should follow at once (None: no need)."""
        return self.round.poll_reason


# --- options from the settings ----------------------------------------------------------------


def diff_rules(settings: Settings) -> DiffRules:
    """The watcher's diff thresholds."""
    return DiffRules(
        missing_grace_s=settings.missing_grace_s,
        vanish_threshold=settings.vanish_threshold,
        vanish_confirm_s=settings.vanish_confirm_s,
    )


def notify_options(settings: Settings) -> NotifyOptions:
    """The change feed's timing."""
    return NotifyOptions(settle_s=settings.notify_settle_s)


def checker_for(source: Source, settings: Settings) -> Checker | None:
    """The source's upload completion check, when notifications are on and it has one."""
    if settings.notify and isinstance(source, Notifying):
        return source.upload_states
    return None


def smb_options(settings: Settings) -> SMBOptions:
    """What SMB sources need: the password or credentials file, time-out, concurrency, and
    how files are read."""
    return SMBOptions(
        password=settings.smb_password,
        credentials_file=settings.smb_credentials_file,
        timeout_s=settings.smb_timeout_s,
        list_concurrency=settings.smb_list_concurrency,
        read_chunk_kib=settings.smb_read_chunk_kib,
        read_window=settings.smb_read_window,
        recheck_s=settings.smb_recheck_s,
        signing=settings.smb_signing,
        read_connections=settings.smb_read_connections,
    )


def source_opener(settings: Settings) -> SourceOpener:
    """``open_source`` with the SMB options of ``settings``."""
    return functools.partial(open_source, smb=smb_options(settings))


def probe_options(settings: Settings, strategy: str | None = None) -> ProbeOptions:
    """The probe strategy (``strategy`` overrides the setting), budget, time-out, concurrency."""
    return ProbeOptions(
        strategy=strategy or settings.probe_strategy,
        budget=settings.probe_budget_bytes,
        timeout_s=settings.probe_timeout_s,
        concurrency=settings.probe_concurrency,
    )


def contents_hook(now: db.Clock, rules: Rules | None = None) -> RefreshHook:
    """The catalog model's ``contents.refresh`` with ``rules`` (None: the shipped rules),
    called inside scan/poll transactions."""
    from archive_analyzer.catalog import contents

    def refresh(conn: sqlite3.Connection, file_ids: Sequence[str]) -> None:
        contents.refresh(conn, file_ids, now=now, rules=rules)

    return refresh


def _spec(settings: Settings, source: Source) -> str:
    return settings.source or source.name


def jobs_for(rows: Iterable[repo.FileRow], spec: str) -> tuple[ProbeJob, ...]:
    """Probe jobs for catalog rows of the source named by ``spec``."""
    return tuple(ProbeJob(r.id, spec, r.path, r.size, r.mtime) for r in rows)


# --- full scan -------------------------------------------------------------------------------


def scan(
    settings: Settings,
    *,
    resume: bool = False,
    progress: Progress | None = None,
    clock: db.Clock = db.utc_now,
    probe: bool = True,
) -> ScanSummary:
    """Scan ``settings.source`` into ``settings.db``, then probe every media file pending a
    probe and store the results. ``resume`` continues an interrupted scan.

    Raises ``ConfigError`` without a source, ``SourceError`` when the listing fails (the
    checkpoint is kept for ``resume``).
    """
    if not settings.source:
        raise ConfigError("no source given: pass SOURCE or set ARCHIVE_SOURCE / source in TOML")
    rules = load_rules(settings.rules_file)  # once per scan; a bad file fails before listing
    source = source_opener(settings)(settings.source)
    conn = db.connect(settings.db)
    try:
        source.connect()
        scanner = Scanner(
            conn,
            source,
            batch_size=settings.scan_batch_size,
            rules=diff_rules(settings),
            clock=clock,
            progress=progress or for_terminal("scan"),
            refresh=contents_hook(clock, rules),
        )
        result = scanner.scan(resume=resume)
        if not probe:
            return ScanSummary(result)
        return probe_pending(conn, source, settings, result, clock=clock)
    finally:
        conn.close()
        source.close()


def probe_pending(
    conn: sqlite3.Connection,
    source: Source,
    settings: Settings,
    result: ScanResult,
    *,
    clock: db.Clock = db.utc_now,
    progress: Progress | None = None,
) -> ScanSummary:
    """Probe the source's active media files still pending a probe and store the results in
    batches (each batch one transaction)."""
    rows = repo.pending_probe(conn, source.name)
    if not rows:
        return ScanSummary(result)
    jobs = {job.path: job for job in jobs_for(rows, _spec(settings, source))}
    bar = progress or for_terminal("probe")
    bar.start(len(jobs))
    t0 = time.monotonic()
    probed = failed = dropped = 0
    batch: list[tuple[ProbeJob, ProbeResult]] = []

    def flush() -> None:
        nonlocal probed, failed, dropped
        with db.transaction(conn):
            for job, res in batch:
                if ingest(conn, job, res, now=clock):
                    probed += 1
                    failed += res.status is ProbeStatus.ERROR
                else:
                    dropped += 1
        bar.advance(len(batch), sum(job.size for job, _ in batch))
        batch.clear()

    try:
        for res in engine.probe_many(
            source, [(job.path, job.size) for job in jobs.values()], probe_options(settings)
        ):
            job = jobs.get(res.path)
            if job is None:
                continue
            batch.append((job, res))
            if len(batch) >= INGEST_BATCH:
                flush()
        if batch:
            flush()
    finally:
        bar.finish()
    elapsed = time.monotonic() - t0
    log.info("probed %d files (%d failed, %d dropped) in %.1fs", probed, failed, dropped, elapsed)
    pending = len(jobs) - probed - dropped
    return ScanSummary(result, probed, failed, dropped, pending, elapsed)


# --- watcher ---------------------------------------------------------------------------------


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
    return PollSummary(result, jobs_for(result.ready, _spec(settings, source)))


# --- change notifications --------------------------------------------------------------------


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
    return ChangesSummary(result, jobs_for(result.ready, _spec(settings, source)))


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


def export_options(settings: Settings) -> ExportOptions:
    """The export options of ``settings`` (clip encoding, cache, media root)."""
    return ExportOptions(
        clip=ClipOptions(
            exact_codec=settings.export_exact_codec,
            preset=settings.export_preset,
            crf=settings.export_crf,
            timeout_s=settings.export_timeout_s,
        ),
        cache_dir=settings.export_cache_dir or settings.data_dir / "exports",
        cache_bytes=settings.export_cache_bytes,
        media_root=settings.export_media_root or media_root_of(settings.source),
    )


def run_probe(job: ProbeJob, sources: SourcePool, options: ProbeOptions) -> ProbeResult:
    """Probe one file (on any host) with ``options``; the job's source comes from ``sources``
    (kept open for the next job on this thread). Raises ``SourceError`` when the source cannot
    be reached."""
    with sources.use(job.source) as source:
        return engine.probe_file(source, job.path, options)


def ingest(conn: sqlite3.Connection, job: ProbeJob, result: ProbeResult, *, now: db.Clock) -> bool:
    """Store a probe result (the single writer; call inside ``db.transaction``).

    Returns False and stores nothing when the file's row is gone or its size or mtime changed
    since the job was made: the result describes a version of the file that no longer exists.
    """
    row = repo.get(conn, job.file_id)
    if row is None or (row.size, row.mtime) != (job.size, job.mtime):
        log.info("dropping a stale probe result for %s", job.path)
        return False
    media.store(conn, job.file_id, result, job.size, job.mtime, now)
    state = "failed" if result.status is ProbeStatus.ERROR else "done"
    detail: dict[str, object] = {"status": result.status.value, "strategy": result.strategy}
    if result.error:
        detail["error"] = result.error
    repo.set_probe_state(conn, job.file_id, state, db.timestamp(now()), detail)
    return True


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


def probe_inline(
    conn: sqlite3.Connection,
    source: Source,
    settings: Settings,
    jobs: Sequence[ProbeJob],
    *,
    clock: db.Clock = db.utc_now,
) -> int:
    """Probe ``jobs`` through the already open ``source`` and ingest each result; returns how
    many were stored. A file that vanished or cannot be read is logged and left pending."""
    if not jobs:
        return 0
    stored = 0
    options = probe_options(settings)
    for job in jobs:
        try:
            result = engine.probe_file(source, job.path, options, size=job.size)
        except ArchiveError as exc:
            log.warning("cannot probe %s: %s", job.path, exc)
            continue
        with db.transaction(conn):
            stored += ingest(conn, job, result, now=clock)
    return stored
