"""Content hashes as background jobs: the writer hands out hash jobs, any worker host runs them.

Writer side (``HashWriter``, on the single writer thread): at every poll and after every hash
outcome it tops up the hash queue to ``hash_concurrency`` jobs in flight, in the order of
``catalog.fixity.targets`` (files without a hash of their current version newest first, then
verifications due oldest first), after first sampling duplicate candidates (size collisions:
3 MiB each). Outside ``hash_quiet_hours`` it hands out nothing. Each job is leased in
``hash_leases``; a worker's progress messages (one per finished chunk) renew the lease and are
kept in ``hash_progress``, so a job whose worker was killed is handed out again after
``hash_lease_s`` and resumes at the last finished chunk.

Worker side (``run_job``, any host): reads the file through the source pool, paced by the
throttle (``hash_max_mib_s``; ``hash_busy_mib_s`` while the web app reports viewers
streaming), stops at a chunk boundary when the quiet hours end or the worker shuts down, and
sends a ``HashOutcome``. Workers never open the catalog.

Viewers first: the web app puts the time into the queue backend's key-value store every
``BEACON_S`` seconds while any media response streams (``ViewerBeacon``); a worker treats
viewers as present while that time is less than ``VIEWERS_FRESH_S`` old.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from huey import Huey

from archive_analyzer.catalog import db, duplicates, versions
from archive_analyzer.catalog import fixity as store
from archive_analyzer.fixity.hasher import (
    HashControl,
    HashRequest,
    HashResult,
    HashStatus,
    hash_file,
    sample_hash,
)
from archive_analyzer.jobs import ledger
from archive_analyzer.jobs.messages import HashJob, HashOutcome, HashProgress
from archive_analyzer.jobs.queue import ResultsQueue
from archive_analyzer.sources.base import Source
from archive_analyzer.verification import (
    FixityOptions,
    frame_hashes,
    sample_candidates,
    throttle_for,
)

log = logging.getLogger(__name__)

VIEWERS_KEY = "viewers-streaming"
BEACON_S = 2.0
VIEWERS_FRESH_S = 6.0
SAMPLES_IN_FLIGHT = 16  # sample jobs are 3 MiB reads: many may wait in the queue at once
INGEST_BATCH = 100

Enqueue = Callable[[HashJob], None]


def failure_key(file: str) -> str:
    return f"hash:{file}"


# --- the web app's viewer beacon and the workers' view of it --------------------------------


def viewers_present(huey: Huey, *, now: Callable[[], float] = time.time) -> Callable[[], bool]:
    """A worker's question "are viewers streaming?", answered from the beacon."""

    def present() -> bool:
        stamp = huey.get(VIEWERS_KEY, peek=True)
        return stamp is not None and now() - float(stamp) < VIEWERS_FRESH_S

    return present


class ViewerBeacon:
    """A daemon thread of the web app: while ``streaming()`` is true, stamp the time into the
    queue store every ``BEACON_S`` s, and at once when ``poke()``d (a stream just started).
    Queue errors are logged (at most once a minute), never raised: a missing beacon only
    means hashing is not slowed."""

    def __init__(
        self,
        streaming: Callable[[], bool],
        put: Callable[[str, float], object],
        *,
        interval_s: float = BEACON_S,
    ) -> None:
        self._streaming = streaming
        self._put = put
        self._interval = interval_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._warned = 0.0
        self._thread = threading.Thread(target=self._run, name="viewer-beacon", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def poke(self) -> None:
        """A stream started: stamp now rather than at the next tick (never blocks)."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stop.is_set() or not self._streaming():
                continue
            try:
                self._put(VIEWERS_KEY, time.time())
            except Exception as exc:  # the queue backend is down: hashing just is not slowed
                if time.monotonic() - self._warned > 60:
                    self._warned = time.monotonic()
                    log.warning("cannot signal viewers to the hash workers: %s", exc)


# --- worker side -----------------------------------------------------------------------------


def run_job(
    job: HashJob,
    source: Source,
    options: FixityOptions,
    *,
    viewers: Callable[[], bool],
    should_stop: Callable[[], bool],
    clock: db.Clock,
    on_progress: Callable[[HashProgress], None],
    worker: str,
) -> HashOutcome:
    """Run one hash job through ``source`` (a connected ``Source``); never raises for the
    file's sake (the outcome says what happened)."""
    if job.kind == "sample":
        try:
            info = source.stat(job.path)
            if (info.size, info.mtime) != (job.size, job.mtime):
                return HashOutcome(job, HashResult(HashStatus.CHANGED), worker=worker)
            value = sample_hash(source, job.path, job.size)
        except Exception as exc:
            return HashOutcome(job, None, error=_describe(exc), worker=worker)
        return HashOutcome(job, HashResult(HashStatus.DONE), sample=value, worker=worker)
    request = HashRequest(
        job.path, job.size, job.mtime, job.chunk_bytes, expected=job.expected, resume=job.resume
    )
    throttle = throttle_for(options, viewers=viewers, should_stop=should_stop)
    control = HashControl(quiet_hours=options.quiet_hours, clock=clock, should_stop=should_stop)
    result = hash_file(
        source,
        request,
        throttle=throttle,
        control=control,
        on_checkpoint=lambda point: on_progress(HashProgress(job, point)),
    )
    outcome = HashOutcome(job, result, worker=worker)
    if result.status is not HashStatus.DONE:
        return outcome
    if job.expected is not None and result.differing and job.duration_s:
        from archive_analyzer.fixity.locate import time_range

        start = result.differing[0] * job.chunk_bytes
        found = time_range(source, job.path, start, min(job.size, start + job.chunk_bytes),
                           size=job.size, duration_s=job.duration_s)  # fmt: skip
        if found is not None:
            outcome = replace(outcome, time_from=found.start_s, time_to=found.end_s,
                              time_method=found.method)  # fmt: skip
    if job.frames and job.expected is None and job.duration_s:
        frames, error = frame_hashes(source, job.path, job.duration_s)
        outcome = replace(outcome, frames=frames, frames_error=error)
    return outcome


def _describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- writer side -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HashLease:
    file: str
    source: str
    path: str
    size: int
    mtime: float
    kind: str
    attempts: int
    dispatched_at: str


class HashWriter:
    """The writer's half of hashing (see the module doc). Every method runs on the writer
    thread with the writer's connection."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        source_name: str,
        source_spec: str,
        options: FixityOptions,
        concurrency: int,
        lease_s: float,
        max_dispatches: int,
        results: ResultsQueue,
        clock: db.Clock,
        enqueue: Enqueue,
        on_change: Callable[[], None],
    ) -> None:
        self.conn = conn
        self.source_name = source_name
        self.source_spec = source_spec
        self.options = options
        self.concurrency = concurrency
        self.lease_s = lease_s
        self.max_dispatches = max_dispatches
        self.results = results
        self.clock = clock
        self.enqueue = enqueue
        self.on_change = on_change  # the debounced sync request

    # --- dispatch ----------------------------------------------------------------------------

    def in_hours(self, now: datetime) -> bool:
        hours = self.options.quiet_hours
        return hours is None or hours.contains(now)

    def dispatch(self) -> int:
        """Top up the hash queue; returns how many jobs were handed out."""
        if self.concurrency <= 0:
            return 0
        now = self.clock()
        if not self.in_hours(now):
            return 0
        held = self._leases()
        jobs: list[HashJob] = []
        sampling = sum(1 for lease in held.values() if lease.kind == "sample")
        for file, path, size, mtime in sample_candidates(self.conn, self.source_name):
            if sampling >= SAMPLES_IN_FLIGHT:
                break
            if file in held:
                continue
            jobs.append(HashJob(file, self.source_spec, path, size, mtime, "sample", 0))
            sampling += 1
        running = sum(1 for lease in held.values() if lease.kind != "sample")
        slots = self.concurrency - running
        if slots > 0:
            for target in store.targets(
                self.conn, self.source_name, now=now, interval_days=self.options.interval_days,
                limit=slots, exclude=list(held) + [job.file_id for job in jobs],
            ):  # fmt: skip
                jobs.append(self._job_for(target))
        if not jobs:
            return 0
        with db.transaction(self.conn):
            for job in jobs:
                self._lease(job, now)
        self._enqueue(jobs)
        return len(jobs)

    def _job_for(self, target: store.Target) -> HashJob:
        from archive_analyzer.verification import plan

        the_plan = plan(self.conn, target, self.options)
        request = the_plan.request
        return HashJob(
            target.file,
            self.source_spec,
            target.path,
            target.size,
            target.mtime,
            "verify" if request.expected is not None else "hash",
            request.chunk_bytes,
            expected=request.expected,
            resume=request.resume,
            duration_s=target.duration_s,
            frames=self.options.frames,
        )

    def _enqueue(self, jobs: list[HashJob]) -> None:
        for n, job in enumerate(jobs):
            try:
                self.enqueue(job)
            except Exception as exc:  # queue backend down: the leases bring them back
                log.warning("could not enqueue %d hash job(s): %s", len(jobs) - n, exc)
                return

    def _leases(self) -> dict[str, HashLease]:
        rows = self.conn.execute(
            "SELECT file, source, path, size, mtime, kind, attempts, dispatched_at FROM hash_leases"
        )
        return {row[0]: HashLease(*row) for row in rows}

    def _lease(self, job: HashJob, now: datetime) -> None:
        stamp = db.timestamp(now)
        row = self.conn.execute(
            "SELECT size, mtime, kind, attempts FROM hash_leases WHERE file = ?", (job.file_id,)
        ).fetchone()
        same = row is not None and (row[0], row[1], row[2]) == (job.size, job.mtime, job.kind)
        attempts = int(row[3]) + 1 if same else 1
        self.conn.execute(
            "INSERT INTO hash_leases (file, source, path, size, mtime, kind, attempts, "
            "dispatched_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (file) "
            "DO UPDATE SET source = excluded.source, path = excluded.path, size = excluded.size, "
            "mtime = excluded.mtime, kind = excluded.kind, attempts = excluded.attempts, "
            "dispatched_at = excluded.dispatched_at, updated_at = excluded.updated_at",
            (job.file_id, job.source, job.path, job.size, job.mtime, job.kind, attempts, stamp,
             stamp),
        )  # fmt: skip

    def _release(self, job: HashJob) -> None:
        self.conn.execute(
            "DELETE FROM hash_leases WHERE file = ? AND size = ? AND mtime = ? AND kind = ?",
            (job.file_id, job.size, job.mtime, job.kind),
        )

    # --- leases ------------------------------------------------------------------------------

    def check_leases(self) -> int:
        """Hand out again the jobs whose lease was not renewed for ``lease_s`` (lost: a worker
        killed, a queue lost); they resume from the kept progress. After ``max_dispatches``
        losses the file goes to the failure list instead. Returns how many were lost."""
        now = self.clock()
        deadline = db.timestamp(now - timedelta(seconds=self.lease_s))
        lost = [lease for lease in self._leases().values() if lease.dispatched_at <= deadline]
        if not lost:
            return 0
        again: list[HashJob] = []
        with db.transaction(self.conn):
            for lease in lost:
                job = self._job_for_lease(lease)
                if job is not None and lease.attempts < self.max_dispatches:
                    self._lease(job, now)
                    again.append(job)
                    continue
                self.conn.execute("DELETE FROM hash_leases WHERE file = ?", (lease.file,))
                if job is not None:
                    log.error("giving up hashing %s: its job was lost %d times", lease.path,
                              lease.attempts)  # fmt: skip
                    ledger.record_failure(
                        self.conn, key=failure_key(lease.file), task="hash",
                        error=f"hash job lost {lease.attempts} times", attempts=lease.attempts,
                        now=now, file=lease.file, path=lease.path,
                    )  # fmt: skip
        if again:
            log.warning("%d hash job(s) lost; handing them out again", len(again))
            self._enqueue(again)
        return len(lost)

    def _job_for_lease(self, lease: HashLease) -> HashJob | None:
        """The job to hand out again for a lost lease (None: the file changed or left)."""
        if lease.kind == "sample":
            return HashJob(lease.file, lease.source, lease.path, lease.size, lease.mtime,
                           "sample", 0)  # fmt: skip
        target = store.target(self.conn, lease.file)
        if target is None or (target.size, target.mtime) != (lease.size, lease.mtime):
            return None
        return self._job_for(target)

    # --- ingest ------------------------------------------------------------------------------

    def ingest_all(self) -> int:
        """Drain the hash results; returns how many messages were handled."""
        handled = 0
        changed = False
        while True:
            try:
                batch: list[HashProgress | HashOutcome] = self.results.take(INGEST_BATCH)
            except Exception as exc:  # backend down: the leases recover what is lost
                log.warning("cannot read hash results: %s", exc)
                break
            if not batch:
                break
            for message in batch:
                try:
                    with db.transaction(self.conn):
                        changed |= self._ingest_one(message)
                except Exception as exc:
                    log.error("cannot store a hash result for %s: %s", message.job.path, exc)
            handled += len(batch)
        if changed:
            self.refresh_versions()
            self.on_change()
        if handled:
            self.dispatch()
        return handled

    def refresh_versions(self) -> int:
        """Join the contents the hashes found to be one programme (``catalog.versions``)."""
        try:
            with db.transaction(self.conn):
                return versions.reconcile(
                    self.conn, duplicates.report(self.conn, self.source_name), self.clock()
                )
        except Exception as exc:  # a bug here must not stop hashing; the next outcome retries
            log.error("cannot update versions: %s", exc)
            return 0

    def _ingest_one(self, message: HashProgress | HashOutcome) -> bool:
        job = message.job
        now = self.clock()
        current = self.conn.execute(
            "SELECT size, mtime FROM files WHERE id = ?", (job.file_id,)
        ).fetchone()
        if isinstance(message, HashProgress):
            if current is not None and (current[0], current[1]) == (job.size, job.mtime):
                store.save_progress(
                    self.conn, job.file_id, job.size, job.mtime, message.checkpoint, now
                )
                self.conn.execute(
                    "UPDATE hash_leases SET dispatched_at = ?, updated_at = ? WHERE file = ?",
                    (db.timestamp(now), db.timestamp(now), job.file_id),
                )
            return False
        self._release(job)
        if message.result is None:
            log.error("hashing %s failed for good: %s", job.path, message.error)
            ledger.record_failure(
                self.conn, key=failure_key(job.file_id), task="hash",
                error=message.error or "hash failed", attempts=1, now=now, file=job.file_id,
                path=job.path,
            )  # fmt: skip
            return False
        if job.kind == "sample":
            if message.sample is not None:
                store.store_sample(self.conn, job.file_id, job.size, job.mtime, message.sample,
                                   now)  # fmt: skip
                return True
            return False
        if current is None:
            return False
        location = None
        if message.time_from is not None:
            location = store.Location(message.time_from, message.time_to, message.time_method)
        verdict = store.record(
            self.conn, job.file_id, job.path, job.size, job.mtime, message.result, now=now,
            location=location,
        )  # fmt: skip
        result = message.result
        if result.status is HashStatus.ERROR:
            ledger.record_failure(
                self.conn, key=failure_key(job.file_id), task="hash",
                error=result.error or "read failed", attempts=1, now=now, file=job.file_id,
                path=job.path,
            )  # fmt: skip
            return False
        if result.status is HashStatus.DONE:
            ledger.resolve_failure(self.conn, failure_key(job.file_id), now=now)
        if message.frames is not None:
            store.store_frames(self.conn, job.file_id, job.size, job.mtime, job.duration_s,
                               message.frames, message.frames_error, now)  # fmt: skip
        log.info("hash of %s: %s%s", job.path, verdict.status,
                 f" ({result.seconds:.1f} s)" if result.seconds else "")  # fmt: skip
        return verdict.status in (store.NEW, store.CHANGED, store.MISMATCH, store.OK)
