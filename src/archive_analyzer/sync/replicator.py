"""The replicator: catalog changes -> planned document operations -> atomic batches in a sink.

Incremental runs read the change log (``sync_changes``, fed by triggers; see docs/sync.md) after
the watermark, a window at a time, in sequence order. Each window is planned against
``sync_docs`` (what was last written per row) and cut into batches of at most 500 operations;
after a batch commits, its rows' ``sync_docs`` entries and the watermark move forward in one
SQLite transaction. A crash or an outage loses nothing: uncommitted batches are planned again
by the next run, committed ones are not rewritten (their digests match). Changes made while a
run is going are left to the next run (the run stops at the log's head as it was at the start).

``--full`` replans every row, rewrites every document, deletes documents whose rows are gone
and prunes documents in the synced collections that the catalog does not know. A prune from a
catalog with no rows, or one that would delete more than ``prune_max_share`` of the documents
it lists (and at least ``prune_min_docs``; settings ``sync_prune_*``), is refused unless
``allow_mass_delete``: a mistyped ``--db`` or a catalog restored from the wrong backup must not
empty the published archive.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from archive_analyzer.catalog.db import Clock, timestamp, transaction, utc_now
from archive_analyzer.errors import SyncError
from archive_analyzer.sync import load, state
from archive_analyzer.sync.plan import (
    METADATA_PATH,
    UNSORTED_SERIES,
    Batch,
    RowPlan,
    Target,
    batches,
    plan,
)
from archive_analyzer.sync.rows import Entity
from archive_analyzer.sync.sink import MAX_BATCH_OPS, DocOp, Sink

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (rows done, rows total)
SCHEMA_VERSION = 1
MASS_DELETE_HINT = "check --db, or pass --allow-mass-delete if that is intended"


@dataclass(frozen=True)
class SyncReport:
    """What a run did (or, for a dry run, would do)."""

    kind: str
    dry_run: bool
    rows: int  # rows planned (changed rows and their dependents; every row for --full)
    docs_set: int
    docs_deleted: int
    unchanged: int  # rows whose document already matched
    batches: int
    watermark: int


@dataclass
class _Tally:
    rows: int = 0
    docs_set: int = 0
    docs_deleted: int = 0
    unchanged: int = 0
    batches: int = 0

    def count(self, rows: Sequence[RowPlan]) -> None:
        self.rows += len(rows)
        for row in rows:
            if not row.ops:
                self.unchanged += 1
            for op in row.ops:
                if op.kind == "set":
                    self.docs_set += 1
                else:
                    self.docs_deleted += 1


class Replicator:
    """Replicates one catalog connection into one sink."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        sink: Sink,
        *,
        clock: Clock = utc_now,
        batch_size: int = MAX_BATCH_OPS,
        window: int = 2000,
        progress: Progress | None = None,
        allow_mass_delete: bool = False,
        prune_max_share: float = 0.2,
        prune_min_docs: int = 10,
    ) -> None:
        """``prune_max_share``/``prune_min_docs``: the mass-delete guard of full runs (same
        shape as the watcher's vanish threshold): below ``prune_min_docs`` deletions the share
        check does not apply, so a few strays are always pruned."""
        if not 3 <= batch_size <= MAX_BATCH_OPS:  # a move (2 writes) + the metadata mirror
            raise SyncError(f"sync batch size must be between 3 and {MAX_BATCH_OPS}")
        if not 0 <= prune_max_share <= 1 or prune_min_docs < 0:
            raise SyncError("sync prune guard: share must be in [0, 1], minimum at least 0")
        self._conn = conn
        self._sink = sink
        self._clock = clock
        self._max_ops = batch_size - 1  # one slot for the _sync_metadata mirror
        self._window = window
        self._progress = progress
        self._allow_mass_delete = allow_mass_delete
        self._prune_max_share = prune_max_share
        self._prune_min_docs = prune_min_docs

    # --- entry points ----------------------------------------------------------------------

    def run(self, *, full: bool = False, dry_run: bool = False, prune: bool = True) -> SyncReport:
        """One sync run; raises ``SyncError`` (after recording it) when the sink fails.

        ``prune`` (full runs) also deletes documents the catalog does not account for, which
        costs a listing of every synced collection. Without ``allow_mass_delete`` the prune
        raises ``SyncError`` (deleting nothing) when the catalog has no rows or when it would
        delete more than ``prune_max_share`` of the listed documents; a dry run only warns.
        """
        kind = "full" if full else "incremental"
        # sync_state, not sync_changes: migration 0009 gives even such a catalog a change log
        has_tables = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sync_state'"
        ).fetchone()
        if has_tables is None:
            raise SyncError(
                "the catalog has no sync tables (migration 0005): it was created before that "
                "migration existed; recreate it with a fresh scan"
            )
        tally = _Tally()
        run_id = 0 if dry_run else state.start_run(self._conn, kind, self._now())
        try:
            if full:
                self._full(tally, dry_run, prune=prune)
            else:
                self._incremental(tally, dry_run)
        except SyncError as exc:
            if not dry_run:
                self._finish(run_id, "failed", tally, str(exc))
            raise
        if not dry_run:
            self._finish(run_id, "completed", tally, None)
        return SyncReport(
            kind=kind,
            dry_run=dry_run,
            rows=tally.rows,
            docs_set=tally.docs_set,
            docs_deleted=tally.docs_deleted,
            unchanged=tally.unchanged,
            batches=tally.batches,
            watermark=state.watermark(self._conn),
        )

    def pending_changes(self) -> int:
        """How many logged changes are not synced yet."""
        row = self._conn.execute(
            "SELECT count(*) FROM sync_changes WHERE seq > ?", (state.watermark(self._conn),)
        ).fetchone()
        return int(row[0])

    # --- incremental -----------------------------------------------------------------------

    def _incremental(self, tally: _Tally, dry_run: bool) -> None:
        mark = state.watermark(self._conn)
        stop = load.head(self._conn)
        total = self.pending_changes()
        done = 0
        while mark < stop:
            self._conn.execute("BEGIN")  # one consistent snapshot per window
            try:
                changes = [c for c in load.pending(self._conn, mark, self._window) if c[0] <= stop]
                if not changes:
                    break
                targets = self._targets(changes)
                keys = [(t.entity, t.row_id) for t in targets]
                previous = state.synced(self._conn, keys)
                pending = state.intents(self._conn, keys)
            finally:
                self._conn.execute("COMMIT")
            rows = plan(targets, previous, intents=pending)
            window_end = changes[-1][0]
            cut = batches(rows, self._max_ops)
            self._send(
                cut,
                tally,
                dry_run,
                final_mark=window_end,
                on_batch=self._interpolate(done, len(changes), len(cut), total),
            )
            done += len(changes)
            mark = window_end
            self._report(done, total)

    def _targets(self, changes: Sequence[tuple[int, str, str]]) -> list[Target]:
        """Changed rows (once each, at their latest seq) and their dependents, in seq order."""
        latest: dict[tuple[str, str], int] = {}
        for seq, entity, row_id in changes:
            latest[(entity, row_id)] = seq
        ordered = sorted(latest.items(), key=lambda item: item[1])
        by_entity: dict[str, list[str]] = {}
        for (entity, row_id), _ in ordered:
            by_entity.setdefault(entity, []).append(row_id)
        deps: dict[tuple[str, str], list[str]] = {}
        for entity, ids in by_entity.items():
            for cause, dep in load.dependents(self._conn, entity, ids):
                deps.setdefault((entity, cause), []).append(dep)
        keyed: dict[tuple[str, str], int] = {}
        for (entity, row_id), seq in ordered:
            if entity != "tag":
                keyed.setdefault((entity, row_id), seq)
            for dep in deps.get((entity, row_id), []):
                keyed.setdefault(("content", dep), seq)
        rows = load.load_rows(self._conn, [(cast(Entity, e), i) for e, i in keyed])
        return [
            Target(cast(Entity, e), i, rows.get((cast(Entity, e), i)), seq)
            for (e, i), seq in sorted(keyed.items(), key=lambda item: item[1])
        ]

    # --- full ------------------------------------------------------------------------------

    def _full(self, tally: _Tally, dry_run: bool, *, prune: bool) -> None:
        self._conn.execute("BEGIN")
        try:
            stop = load.head(self._conn)
            keys: list[tuple[str, str]] = list(load.all_keys(self._conn))
            known = set(keys)
            keys.extend(k for k in state.all_synced_keys(self._conn) if k not in known)
        finally:
            self._conn.execute("COMMIT")
        empty = not known
        if prune and empty and keys:
            # before anything is written: the plan would delete the documents of the rows it
            # once synced (all of them gone) ahead of the prune
            self._refuse_empty(len(keys), dry_run)
        total = len(keys)
        wanted_paths: set[str] = set()
        for start in range(0, total, self._window):
            part = keys[start : start + self._window]
            self._conn.execute("BEGIN")
            try:
                typed = [(cast(Entity, e), i) for e, i in part]
                rows = load.load_rows(self._conn, typed)
                previous = state.synced(self._conn, part)
                pending = state.intents(self._conn, part)
            finally:
                self._conn.execute("COMMIT")
            targets = [Target(e, i, rows.get((e, i)), 0) for e, i in typed]
            planned = plan(targets, previous, intents=pending, force=True)
            wanted_paths.update(r.synced.path for r in planned if r.synced is not None)
            cut = batches(planned, self._max_ops)
            self._send(
                cut,
                tally,
                dry_run,
                final_mark=None,
                on_batch=self._interpolate(start, len(part), len(cut), total),
            )
            self._report(min(start + len(part), total), total)
        if prune:
            self._prune(wanted_paths, tally, dry_run, empty=empty)
        if not dry_run:
            now = self._now()
            self._commit_ops([self._metadata_op(stop, "full")], tally)
            with transaction(self._conn):
                state.set_watermark(self._conn, stop, now)

    def _refuse_empty(self, deletes: int, dry_run: bool) -> None:
        """The mass-delete guard for a catalog with no rows (it accounts for no document)."""
        message = f"the catalog has no rows: sync --full would delete {deletes} documents"
        if dry_run:
            log.warning("%s; a real run would refuse", message)
        elif not self._allow_mass_delete:
            raise SyncError(f"refusing: {message} in Firestore; {MASS_DELETE_HINT}")

    def _prune(self, wanted: set[str], tally: _Tally, dry_run: bool, *, empty: bool) -> None:
        """Delete documents in the synced collections that no catalog row accounts for.

        Collection-group queries are avoided (the test emulator lacks them): the walk lists
        each catalog's series and each series' contents, including parents known only from
        the documents the catalog wants (a parent document need not exist in Firestore).
        """
        listed_catalogs = self._sink.list_ids("catalogs")
        found = [f"catalogs/{c}" for c in listed_catalogs]
        catalogs = set(listed_catalogs)
        series: set[tuple[str, str]] = set()
        for path in wanted:
            parts = path.split("/")
            if parts[0] == "catalogs" and len(parts) >= 4:
                catalogs.add(parts[1])
                series.add((parts[1], parts[3]))
        for catalog in sorted(catalogs):
            listed = self._sink.list_ids(f"catalogs/{catalog}/series")
            found += [f"catalogs/{catalog}/series/{s}" for s in listed]
            series.update((catalog, s) for s in [*listed, UNSORTED_SERIES])
        for catalog, serie in sorted(series):
            base = f"catalogs/{catalog}/series/{serie}/contents"
            found += [f"{base}/{i}" for i in self._sink.list_ids(base)]
        for collection in ("files", "players"):
            found += [f"{collection}/{i}" for i in self._sink.list_ids(collection)]
        ops = [DocOp("delete", p) for p in sorted(set(found) - wanted)]
        remote = len(set(found))
        if empty and ops:
            self._refuse_empty(len(ops), dry_run)
        elif len(ops) >= self._prune_min_docs and len(ops) > self._prune_max_share * remote:
            message = (
                f"sync --full would prune {len(ops)} of {remote} documents in Firestore "
                f"(more than {self._prune_max_share:.0%}) that the catalog does not know"
            )
            if dry_run:
                log.warning("%s; a real run would refuse", message)
            elif not self._allow_mass_delete:
                raise SyncError(f"refusing: {message}; {MASS_DELETE_HINT}")
        if ops:
            log.info("pruning %d documents the catalog does not know", len(ops))
        tally.docs_deleted += len(ops)
        if dry_run:
            return
        for start in range(0, len(ops), self._max_ops):
            self._commit_ops(ops[start : start + self._max_ops], tally)

    # --- sending ---------------------------------------------------------------------------

    def _interpolate(self, before: int, size: int, count: int, total: int) -> Callable[[int], None]:
        """Progress inside a window: ``before`` + the share of its ``count`` batches done."""

        def report(index: int) -> None:
            if count > 1:
                self._report(before + size * (index + 1) // count, total)

        return report

    def _send(
        self,
        cut: Sequence[Batch],
        tally: _Tally,
        dry_run: bool,
        *,
        final_mark: int | None,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        """Commit the batches in order, recording each as it lands.

        ``final_mark`` (incremental runs) is the window's last change: once the window's last
        batch is in, every change of the window is, whatever seq its rows were planned under
        (a row changed twice in a window is planned once, under its earliest cause).
        """
        for index, batch in enumerate(cut):
            tally.count(batch.rows)
            if dry_run:
                tally.batches += 1 if batch.ops else 0
                continue
            mark = batch.watermark if final_mark is not None else None
            if final_mark is not None and index == len(cut) - 1:
                mark = final_mark
            if batch.ops:
                state.record_intents(self._conn, batch.rows, self._now())
                mirror = mark if mark is not None else state.watermark(self._conn)
                kind = "incremental" if final_mark is not None else "full"
                self._commit_ops([*batch.ops, self._metadata_op(mirror, kind)], tally)
            state.record_committed(self._conn, batch.rows, mark, self._now())
            if on_batch is not None:
                on_batch(index)
        if not cut and final_mark is not None and not dry_run:
            state.record_committed(self._conn, [], final_mark, self._now())

    def _commit_ops(self, ops: Sequence[DocOp], tally: _Tally) -> None:
        self._sink.commit(ops)
        tally.batches += 1

    def _metadata_op(self, mark: int, kind: str) -> DocOp:
        data: dict[str, Any] = {
            "watermark": mark,
            "updated_at": self._now(),
            "kind": kind,
            "schema": SCHEMA_VERSION,
        }
        return DocOp("set", METADATA_PATH, data)

    # --- helpers ---------------------------------------------------------------------------

    def _now(self) -> str:
        return timestamp(self._clock())

    def _report(self, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress(done, total)

    def _finish(self, run_id: int, status: str, tally: _Tally, error: str | None) -> None:
        state.finish_run(
            self._conn,
            run_id,
            status=status,
            now=self._now(),
            changes=tally.rows,
            docs_set=tally.docs_set,
            docs_deleted=tally.docs_deleted,
            batches=tally.batches,
            error=error,
        )
