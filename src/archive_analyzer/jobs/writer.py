"""The single writer: the one thread of one process that writes the catalog for the jobs.

It owns the catalog connection, the source and the watcher state. It polls, hands probe jobs to
the probe queue (recording a lease for each), ingests the outcomes that workers push to the
results queue in batches, and dispatches again the jobs whose lease expired (the queue lost
them: a worker died mid-job, Redis restarted). Probe workers never touch the catalog, and
neither does the web app: an admin's re-probe is a request to the writer (``reprobe``), which
dispatches it like any other probe job.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from archive_analyzer import pipeline
from archive_analyzer.catalog import db, search_index
from archive_analyzer.catalog import files as repo
from archive_analyzer.config import Settings
from archive_analyzer.jobs import ledger
from archive_analyzer.jobs.messages import ProbeOutcome
from archive_analyzer.jobs.queue import Queues
from archive_analyzer.pipeline import ProbeJob
from archive_analyzer.probe.result import ProbeResult, ProbeStatus
from archive_analyzer.scan.feed import ChangeFeed
from archive_analyzer.scan.progress import LogProgress
from archive_analyzer.scan.watcher import WatchState
from archive_analyzer.sources import Source
from archive_analyzer.sources.changes import ChangeWatch

log = logging.getLogger(__name__)

INGEST_BATCH = 200

EnqueueProbe = Callable[[ProbeJob], None]


@dataclass(frozen=True, slots=True)
class PollReport:
    """What one writer poll did (for logs and tests)."""

    changes: int
    dispatched: int
    ingested: int
    redispatched: int
    poisoned: int


@dataclass(frozen=True, slots=True)
class ChangesReport:
    """What one round of change notifications did (for logs and tests)."""

    changes: int
    dispatched: int
    poll_reason: str | None


def error_result(job: ProbeJob, error: str, strategy: str) -> ProbeResult:
    """The probe result recorded for a job that failed for good."""
    return ProbeResult(path=job.path, status=ProbeStatus.ERROR, strategy=strategy, error=error)


class Writer:
    """The writer side of the jobs; every method runs on the one writer thread.

    ``enqueue_probe`` puts a job on the probe queue (``ProbeTask.enqueue``); ``on_change`` is
    called after a poll that changed the catalog (a debounced sync request). ``settings`` are
    the deployment's, passed on to the pipeline's poll and scan.
    """

    def __init__(
        self,
        settings: Settings,
        queues: Queues,
        *,
        enqueue_probe: EnqueueProbe,
        on_change: Callable[[], None] = lambda: None,
        clock: db.Clock = db.utc_now,
        source: Source | None = None,
    ) -> None:
        if not settings.source:
            raise ValueError("the writer needs a source")
        self.settings = settings
        self.spec = settings.source
        self.queues = queues
        self.clock = clock
        self.enqueue_probe = enqueue_probe
        self.on_change = on_change
        self.conn: sqlite3.Connection = db.connect(settings.db)
        with db.transaction(self.conn):  # documents an older version left to its web app
            search_index.catch_up(self.conn)
        self.source: Source = source or pipeline.source_opener(settings)(settings.source)
        self.state = WatchState()
        # When each file's job was last seen waiting in the probe queue (see check_leases).
        self._seen_queued: dict[str, datetime] = {}
        # This writer's change notifications (``start_watching``) and the token its round
        # tasks carry: a round task only means something to the process whose feed it drains.
        self.token = uuid.uuid4().hex
        self._watching: tuple[ChangeFeed, ChangeWatch] | None = None
        self._watch_recorded = False
        self._watched = False

    def close(self) -> None:
        """Stop watching (recording it), release the catalog connection and the source."""
        try:
            self.stop_watching()
            if self._watched:
                pipeline.record_watch_off(self.conn, self.source, self.settings, now=self.clock)
        except Exception as exc:  # the catalog may be gone at shutdown; the log says it
            log.warning("cannot record that notifications stopped: %s", exc)
        finally:
            try:
                self.source.close()
            finally:
                self.conn.close()

    # --- change notifications ------------------------------------------------------------

    @property
    def feed(self) -> ChangeFeed | None:
        """The change feed of the running watch (None when not watching)."""
        return self._watching[0] if self._watching is not None else None

    def start_watching(self, on_due: Callable[[], object]) -> bool:
        """Start the source's change notifications (no catalog writes here: this may run on
        another thread); ``on_due`` asks for a round on the writer thread. False when
        notifications are off or the source cannot notify."""
        self._watching = pipeline.start_watch(self.source, self.settings, on_due, clock=self.clock)
        self._watched = self._watching is not None
        return self._watched

    def stop_watching(self) -> None:
        """Stop the notifications' threads (no catalog writes: ``close`` records it)."""
        watching, self._watching = self._watching, None
        if watching is not None:
            pipeline.stop_watch(watching)

    def apply_changes(self) -> ChangesReport | None:
        """Run the due round of change notifications (None when none is), dispatch its probe
        jobs and ask for a sync when it changed something."""
        feed = self.feed
        if feed is None:
            return None
        summary = pipeline.apply_changes(
            self.conn, self.source, self.settings, self.state, feed, now=self.clock
        )
        if summary is None:
            return None
        dispatched = self.dispatch(summary.jobs)
        changes = summary.round.changes
        if changes:
            self.on_change()
        return ChangesReport(changes, dispatched, summary.poll_reason)

    # --- polling -------------------------------------------------------------------------

    def poll(self) -> PollReport:
        """One watcher poll, then dispatch, ingest and lease checks. Raises ``ArchiveError``
        when the poll itself fails (the caller logs and retries at the next tick)."""
        if not self._watch_recorded and self._watching is None:
            pipeline.record_watch_off(self.conn, self.source, self.settings, now=self.clock)
        self._watch_recorded = True
        summary = pipeline.poll_once(
            self.conn, self.source, self.settings, self.state, now=self.clock, feed=self.feed
        )
        dispatched = self.dispatch(summary.jobs)
        ingested = self.ingest_all()
        redispatched, poisoned = self.check_leases()
        changes = summary.changes
        if changes or ingested:
            self.on_change()
        return PollReport(changes, dispatched, ingested, redispatched, poisoned)

    def reset_watch_state(self) -> None:
        """Forget the watcher state, so the next poll offers every file pending a probe."""
        self.state = WatchState()

    # --- dispatch ------------------------------------------------------------------------

    def dispatch(self, jobs: Iterable[ProbeJob]) -> int:
        """Lease and enqueue the jobs that have no open lease for the same file version."""
        open_leases = {item.file: item for item in ledger.leases(self.conn)}
        fresh: list[ProbeJob] = []
        for job in jobs:
            held = open_leases.get(job.file_id)
            if held is not None and (held.size, held.mtime) == (job.size, job.mtime):
                continue
            fresh.append(job)
        if not fresh:
            return 0
        now = self.clock()
        with db.transaction(self.conn):
            for job in fresh:
                ledger.lease(
                    self.conn,
                    file=job.file_id,
                    source=job.source,
                    path=job.path,
                    size=job.size,
                    mtime=job.mtime,
                    now=now,
                )
        self._enqueue(fresh)
        return len(fresh)

    def reprobe(self, file_id: str) -> bool:
        """Dispatch a probe job for catalogued file ``file_id`` as it is now (an admin's
        re-probe); its outcome is ingested like any other. False when it is not a catalogued
        media file of this writer's source (unknown, deleted, another source)."""
        row = repo.get(self.conn, file_id)
        if row is None or row.status == "deleted" or not row.is_media:
            return False
        if row.source != self.source.name:
            return False
        self.dispatch(pipeline.jobs_for([row], self.spec))
        return True

    def _enqueue(self, jobs: list[ProbeJob]) -> None:
        for n, job in enumerate(jobs):
            try:
                self.enqueue_probe(job)
            except Exception as exc:  # queue backend down: the leases bring them back later
                log.warning(
                    "could not enqueue %d probe job(s), retried after the lease expires: %s",
                    len(jobs) - n,
                    exc,
                )
                return

    # --- ingest --------------------------------------------------------------------------

    def ingest_all(self) -> int:
        """Drain the results queue in batches of ``INGEST_BATCH`` (one transaction each).

        Returns the number of outcomes handled. A batch that fails is retried one outcome at a
        time, so one bad outcome cannot sink the others.
        """
        handled = 0
        while True:
            try:
                batch: list[ProbeOutcome] = self.queues.results.take(INGEST_BATCH)
            except Exception as exc:  # backend down: results stay queued or leases recover
                log.warning("cannot read probe results: %s", exc)
                return handled
            if not batch:
                return handled
            try:
                with db.transaction(self.conn):
                    for outcome in batch:
                        self._ingest_one(outcome)
            except Exception as exc:
                log.warning("ingest batch failed (%s); retrying one at a time", exc)
                for outcome in batch:
                    self._ingest_alone(outcome)
            handled += len(batch)

    def _ingest_alone(self, outcome: ProbeOutcome) -> None:
        try:
            with db.transaction(self.conn):
                self._ingest_one(outcome)
        except Exception as exc:
            log.error("cannot ingest the probe of %s: %s", outcome.job.path, exc)
            try:
                with db.transaction(self.conn):
                    self._fail(outcome.job, f"ingest failed: {exc}", outcome.attempts)
            except Exception as again:  # the lease brings the job back later
                log.error("cannot record the failure of %s either: %s", outcome.job.path, again)

    def _ingest_one(self, outcome: ProbeOutcome) -> None:
        job = outcome.job
        now = self.clock()
        if outcome.result is None:
            error = outcome.error or "probe failed"
            self._fail(job, error, outcome.attempts)
            return
        stored = pipeline.ingest(self.conn, job, outcome.result, now=self.clock)
        key = ledger.probe_failure_key(job.file_id)
        if stored and outcome.result.status is ProbeStatus.ERROR:
            ledger.record_failure(
                self.conn,
                key=key,
                task="probe",
                error=outcome.result.error or "probe error",
                attempts=outcome.attempts,
                now=now,
                file=job.file_id,
                path=job.path,
            )
        elif stored:
            ledger.resolve_failure(self.conn, key, now=now)
        self._release(job)

    def _fail(self, job: ProbeJob, error: str, attempts: int) -> None:
        """Record a job that failed for good: an error result (so the file is not offered again
        until it changes) and a row on the failure list."""
        result = error_result(job, error, self.settings.probe_strategy)
        stored = pipeline.ingest(self.conn, job, result, now=self.clock)
        if stored:
            ledger.record_failure(
                self.conn,
                key=ledger.probe_failure_key(job.file_id),
                task="probe",
                error=error,
                attempts=attempts,
                now=self.clock(),
                file=job.file_id,
                path=job.path,
            )
        self._release(job)

    def _release(self, job: ProbeJob) -> None:
        row = self.conn.execute(
            "SELECT size, mtime FROM probe_leases WHERE file = ?", (job.file_id,)
        ).fetchone()
        # A lease for a newer version of the file stays: its own job is on the way.
        if row is not None and (row["size"], row["mtime"]) == (job.size, job.mtime):
            ledger.release(self.conn, job.file_id)
            self._seen_queued.pop(job.file_id, None)

    # --- leases --------------------------------------------------------------------------

    def queued_probe_files(self) -> set[str]:
        """Ids of files whose probe job waits in the probe queue or its retry schedule."""
        queued: set[str] = set()
        for task in [*self.queues.probe.pending(), *self.queues.probe.scheduled()]:
            if task.args:
                queued.add(str(task.args[0]))
        return queued

    def check_leases(self) -> tuple[int, int]:
        """Dispatch again the jobs whose lease expired; after ``probe_max_dispatches`` the file
        goes to the failure list instead (a poison file must not circulate forever).

        Returns (dispatched again, given up).
        """
        open_leases = ledger.leases(self.conn)
        if not open_leases:
            return 0, 0
        try:
            queued = self.queued_probe_files()
        except Exception as exc:  # backend down: try again at the next poll
            log.warning("cannot inspect the probe queue: %s", exc)
            return 0, 0
        now = self.clock()
        for file in queued:
            self._seen_queued[file] = now
        lost = ledger.expired(
            [self._last_seen(item) for item in open_leases],
            now=now,
            lease_s=self.settings.probe_lease_s,
            queued=queued,
        )
        if not lost:
            return 0, 0
        again: list[ProbeJob] = []
        poisoned = 0
        with db.transaction(self.conn):
            for item in lost:
                job = ProbeJob(item.file, item.source, item.path, item.size, item.mtime)
                if item.attempts >= self.settings.probe_max_dispatches:
                    log.error(
                        "giving up on %s: its probe job was lost %d times", item.path, item.attempts
                    )
                    self._fail(
                        job,
                        f"probe job lost {item.attempts} times (worker died or queue lost it)",
                        item.attempts,
                    )
                    poisoned += 1
                    continue
                ledger.lease(
                    self.conn,
                    file=item.file,
                    source=item.source,
                    path=item.path,
                    size=item.size,
                    mtime=item.mtime,
                    now=now,
                )
                again.append(job)
        if again:
            log.warning("dispatching %d lost probe job(s) again", len(again))
            self._enqueue(again)
        return len(again), poisoned

    def _last_seen(self, item: ledger.Lease) -> ledger.Lease:
        """The lease as of the last time its job was seen waiting in the queue: a job taken by
        a worker since then is running (bounded by ``probe_timeout_s``), not lost."""
        seen = self._seen_queued.get(item.file)
        if seen is None:
            return item
        stamp = max(item.dispatched_at, db.timestamp(seen))
        return dataclasses.replace(item, dispatched_at=stamp)

    # --- reconcile -----------------------------------------------------------------------

    def needs_initial_scan(self) -> bool:
        """True until a full scan of this source has completed in this catalog."""
        row = self.conn.execute(
            "SELECT 1 FROM scans WHERE source = ? AND kind = 'full' AND status = 'completed' "
            "LIMIT 1",
            (self.source.name,),
        ).fetchone()
        return row is None

    def reconcile(self) -> None:
        """A full scan (the first one, and nightly); the probing is left to the workers: the
        next poll offers every file still pending a probe."""
        pipeline.scan(self.settings, probe=False, progress=LogProgress("scan"), clock=self.clock)
        self.reset_watch_state()
