"""Sync benchmark against the Firestore API emulator (npm @firestore-emulator/server).

1. Full sync of N contents (default 10,000; each plays its own probed file, so about 2N
   documents): documents/s with 500-operation WriteBatch commits, against the baseline of one
   commit per document (same plan, same emulator, same run), as a ratio.
2. Incremental sync of 10 changed contents in a catalog of M contents (default 100,000) plus
   their M files, already synced: wall time, against re-planning every row (what a sync
   without a change log would do) in the same run; plus SQLite's query plans of the queries
   the incremental path runs (none may scan a whole table).

    .venv/bin/python -m bench.sync [--contents 10000] [--rows 100000] [--changes 10]

The emulator is a single-threaded Node process that copies a collection's index on each
write; absolute documents/s are the emulator's, the ratio is the point.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.fixtures.firestore import FirestoreEmulator

from archive_analyzer.catalog import db
from archive_analyzer.sync.firestore import FirestoreSink
from archive_analyzer.sync.replicator import Replicator
from archive_analyzer.sync.sink import DocOp, MemorySink, Sink

SERIES = 100


class PerDocumentSink:
    """The baseline: every document in a commit of its own (a naive ``doc.set()`` loop)."""

    def __init__(self, inner: FirestoreSink) -> None:
        self.inner = inner
        self.commits = 0

    def commit(self, ops: Sequence[DocOp]) -> None:
        for op in ops:
            self.inner.commit([op])
            self.commits += 1

    def get(self, path: str) -> dict[str, object] | None:
        return self.inner.get(path)

    def list_ids(self, collection: str) -> list[str]:
        return self.inner.list_ids(collection)

    def close(self) -> None:
        self.inner.close()


def fill(path: Path, contents: int) -> sqlite3.Connection:
    """A catalog of ``contents`` episodes in SERIES series, each with a probed file."""
    conn = db.connect(path)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    stamp = db.timestamp(t0)
    audio = json.dumps([{"codec": "aac", "channels": 2, "sample_rate": 48000}])
    with db.transaction(conn):
        conn.execute(
            "INSERT INTO catalogs (id, title, created_at, updated_at) "
            "VALUES ('wsop', 'WSOP', ?, ?)",
            (stamp, stamp),
        )
        conn.executemany(
            "INSERT INTO series (id, catalog_id, key, title, year, created_at, updated_at) "
            "VALUES (?, 'wsop', ?, ?, ?, ?, ?)",
            [
                (f"s{i:03d}", f"wsop/s{i}", f"WSOP {2000 + i}", 2000 + i, stamp, stamp)
                for i in range(SERIES)
            ],
        )
        files = []
        media = []
        rows = []
        for n in range(contents):
            fid = f"f{n:07d}"
            at = db.timestamp(t0 + timedelta(microseconds=n))
            files.append(
                (
                    fid,
                    f"WSOP/WSOP {2000 + n % SERIES}/Event {n}.mp4",
                    f"Event {n}.mp4",
                    at,
                    at,
                    at,
                )
            )
            media.append((fid, audio, at, at))
            rows.append(
                (
                    f"c{n:07d}",
                    fid,
                    f"s{n % SERIES:03d}",
                    f"WSOP Event #{n}",
                    2000 + n % SERIES,
                    at,
                    at,
                )
            )
        conn.executemany(
            "INSERT INTO files (id, source, path, name, ext, size, mtime, status, first_seen, "
            "last_seen, updated_at) VALUES (?, 'smb://nas/ARCHIVE', ?, ?, 'mp4', 4000000000, "
            "1760000000.0, 'active', ?, ?, ?)",
            files,
        )
        conn.executemany(
            "INSERT INTO media_info (id, status, container, duration_s, video_codec, width, "
            "height, audio, strategy, browser_playable, probed_at, updated_at) VALUES "
            "(?, 'ok', 'mp4', 7200.0, 'h264', 1920, 1080, ?, 'smart', 1, ?, ?)",
            media,
        )
        conn.executemany(
            "INSERT INTO contents (id, kind, file_id, series_id, catalog_id, status, title, "
            "year, created_at, updated_at) VALUES (?, 'episode', ?, ?, 'wsop', 'active', ?, ?, "
            "?, ?)",
            rows,
        )
    return conn


def full_sync(contents: int, emulator: FirestoreEmulator, tmp: Path, rtts: Sequence[float]) -> None:
    conn = fill(tmp / "full.db", contents)
    seconds: dict[str, float] = {}
    commits: dict[str, int] = {}
    docs = 0
    for label in ("500-op WriteBatch", "1 commit per document", "memory sink (no RPC)"):
        emulator.clear()
        conn.execute("DELETE FROM sync_docs")
        inner = FirestoreSink("bench-sync", emulator_host=emulator.host)
        sink: Sink = inner
        if label.startswith("1 commit"):
            sink = PerDocumentSink(inner)
        elif label.startswith("memory"):
            sink = MemorySink()
        start = time.perf_counter()
        report = Replicator(conn, sink).run(full=True, prune=False)  # writes only: no listing
        seconds[label] = time.perf_counter() - start
        docs = report.docs_set + report.docs_deleted
        commits[label] = sink.commits if isinstance(sink, PerDocumentSink) else report.batches
        print(
            f"  {label:24s} {docs:7d} documents in {seconds[label]:7.2f} s = "
            f"{docs / seconds[label]:8.0f} docs/s ({commits[label]} commits)"
        )
        inner.close()
    batched, single = seconds["500-op WriteBatch"], seconds["1 commit per document"]
    print(f"  ratio batched / per-document (documents/s): {single / batched:.1f}x")
    extra = commits["1 commit per document"] - commits["500-op WriteBatch"]
    per_commit = (single - batched) / extra
    print(f"  cost of one extra commit on loopback: {per_commit * 1000:.2f} ms")
    for rtt in rtts:  # a model, not a measurement: the same run plus one round trip per commit
        b = batched + commits["500-op WriteBatch"] * rtt
        s1 = single + commits["1 commit per document"] * rtt
        print(
            f"  model at {rtt * 1000:.0f} ms round trip: batched {docs / b:.0f} docs/s, "
            f"per-document {docs / s1:.0f} docs/s, ratio {s1 / b:.0f}x"
        )
    conn.close()


def incremental(rows: int, changes: int, emulator: FirestoreEmulator, tmp: Path) -> None:
    conn = fill(tmp / "incr.db", rows)
    start = time.perf_counter()
    Replicator(conn, MemorySink()).run(full=True)  # the catalog as synced (record in sync_docs)
    print(
        f"  initial sync of {rows} contents + {rows} files into memory: "
        f"{time.perf_counter() - start:.1f} s (setup)"
    )
    step = max(1, rows // changes)
    later = db.timestamp(datetime(2026, 6, 1, tzinfo=UTC))
    with db.transaction(conn):
        for i in range(changes):
            conn.execute(
                "UPDATE contents SET title = title || ' (edited)', updated_at = ? WHERE id = ?",
                (later, f"c{i * step:07d}"),
            )
    emulator.clear()
    sink = FirestoreSink("bench-sync", emulator_host=emulator.host)
    sink.commit([DocOp("set", "_warmup/x", {})])  # connection set up outside the timing
    start = time.perf_counter()
    report = Replicator(conn, sink).run()
    incremental_s = time.perf_counter() - start
    print(
        f"  incremental: {changes} changes among {rows} contents ({2 * rows} rows with files): "
        f"{incremental_s * 1000:.1f} ms, {report.docs_set} documents, {report.batches} batch"
    )
    sink.close()
    # the baseline: re-plan every row against the record (no writes: nothing else changed)
    start = time.perf_counter()
    full = Replicator(conn, MemorySink()).run(dry_run=True, full=True)
    replan_s = time.perf_counter() - start
    print(
        f"  baseline, re-planning all {full.rows} rows (dry run): {replan_s:.2f} s "
        f"-> incremental is {replan_s / incremental_s:.0f}x faster"
    )
    print("  query plans of the incremental path:")
    for label, sql, params in (
        (
            "change log after watermark",
            "SELECT seq, entity, row_id FROM sync_changes WHERE seq > ? ORDER BY seq LIMIT ?",
            (0, 2000),
        ),
        (
            "contents of changed files",
            "SELECT file_id, id FROM contents WHERE file_id IN (?) AND parent_id IS NULL "
            "UNION ALL SELECT p.file_id, c.id FROM contents p JOIN contents c "
            "ON c.parent_id = p.id WHERE p.file_id IN (?) AND p.parent_id IS NULL",
            ("f0000001", "f0000001"),
        ),
        (
            "clips of changed contents",
            "SELECT parent_id, id FROM contents WHERE parent_id IN (?)",
            ("c0000001",),
        ),
        ("rows by id", "SELECT * FROM contents WHERE id IN (?)", ("c0000001",)),
        (
            "record by key",
            "SELECT row_id, path, digest FROM sync_docs WHERE entity = ? AND row_id IN (?)",
            ("content", "c0000001"),
        ),
    ):
        plan = " | ".join(r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        print(f"    {label:28s} {plan}")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contents", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=10)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.python_version()}, {platform.platform()}")
    emulator = FirestoreEmulator().start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            print(f"full sync of {args.contents} contents:")
            full_sync(args.contents, emulator, tmp, (0.02, 0.08))
            print("incremental sync:")
            incremental(args.rows, args.changes, emulator, tmp)
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
