"""The fixity rules of the catalog: baselines, verdicts, failures never overwritten, targets."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from archive_analyzer.catalog import db
from archive_analyzer.catalog import fixity as store
from archive_analyzer.fixity.hasher import Checkpoint, HashResult, HashStatus
from tests.catalog.catalog_rows import T0, add_file


def _done(whole: str, chunks: tuple[str, ...], differing: tuple[int, ...] = ()) -> HashResult:
    return HashResult(
        HashStatus.DONE, xxh128=whole, chunks=chunks, sample="s", differing=differing,
        chunk_bytes=10,
    )  # fmt: skip


def _record(conn: sqlite3.Connection, fid: str, result: HashResult, **kw: object) -> store.Verdict:
    with db.transaction(conn):
        return store.record(conn, fid, "a/f.bin", 1, 0.0, result, now=T0, **kw)  # type: ignore[arg-type]


def test_new_then_ok_then_mismatch_keeps_the_baseline(catalog: sqlite3.Connection) -> None:
    fid = add_file(catalog, "a/f.bin", is_media=0)
    assert _record(catalog, fid, _done("aa", ("c0", "c1"))).status == store.NEW
    assert _record(catalog, fid, _done("aa", ("c0", "c1"))).status == store.OK
    verdict = _record(
        catalog, fid, _done("bb", ("c0", "XX"), differing=(1,)),
        location=store.Location(5.0, 9.5, "timestamps"),
    )  # fmt: skip
    assert (verdict.status, verdict.chunk, verdict.previous) == (store.MISMATCH, 1, "aa")
    base = store.baseline(catalog, fid)
    assert base is not None and base.xxh128 == "aa" and base.chunks == ("c0", "c1")
    assert base.status == "mismatch"
    # the same bad bytes again: one failure row, seen again
    _record(catalog, fid, _done("bb", ("c0", "XX"), differing=(1,)))
    rows = catalog.execute(
        "SELECT first_chunk, byte_from, byte_to, time_from, time_to, expected, actual "
        "FROM fixity_failures"
    ).fetchall()
    assert [tuple(r) for r in rows] == [(1, 10, 1, 5.0, 9.5, "aa", "bb")]
    # good bytes again: resolved, still recorded
    assert _record(catalog, fid, _done("aa", ("c0", "c1"))).status == store.OK
    assert catalog.execute("SELECT resolution FROM fixity_failures").fetchone()[0] == "verified"
    kinds = [r[0] for r in catalog.execute("SELECT kind FROM file_events ORDER BY id")]
    assert kinds == ["hashed", "verified", "fixity_failed", "fixity_failed", "verified"]


def test_new_version_replaces_the_baseline_history_in_events(catalog: sqlite3.Connection) -> None:
    fid = add_file(catalog, "a/f.bin", is_media=0)
    _record(catalog, fid, _done("aa", ("c0",)))
    catalog.execute("UPDATE files SET size = 2, mtime = 5 WHERE id = ?", (fid,))
    with db.transaction(catalog):
        verdict = store.record(catalog, fid, "a/f.bin", 2, 5.0, _done("cc", ("d0",)), now=T0)
    assert (verdict.status, verdict.previous) == (store.CHANGED, "aa")
    detail = catalog.execute(
        "SELECT detail FROM file_events WHERE kind = 'hashed' ORDER BY id DESC"
    ).fetchone()[0]
    assert '"previous": {"xxh128": "aa"' in detail


def test_paused_keeps_the_checkpoint(catalog: sqlite3.Connection) -> None:
    fid = add_file(catalog, "a/f.bin", is_media=0)
    point = Checkpoint(10, ("c0", "c1"), b"state")
    _record(catalog, fid, HashResult(HashStatus.PAUSED, checkpoint=point))
    assert store.load_progress(catalog, fid, 1, 0.0) == point
    assert store.load_progress(catalog, fid, 2, 0.0) is None  # another version
    _record(catalog, fid, _done("aa", ("c0", "c1")))
    assert store.load_progress(catalog, fid, 1, 0.0) is None


def test_targets_new_newest_first_then_due_oldest_first(catalog: sqlite3.Connection) -> None:
    old = add_file(catalog, "old.bin", is_media=0)
    new = add_file(catalog, "new.bin", is_media=0)
    pending = add_file(catalog, "pending.mp4")  # media not probed yet: not a target
    catalog.execute("UPDATE files SET first_seen = '2026-02-01' WHERE id = ?", (new,))
    names = [t.path for t in store.targets(catalog, "nas", now=T0, interval_days=30)]
    assert names == ["new.bin", "old.bin"]
    for fid in (old, new):
        with db.transaction(catalog):
            store.record(catalog, fid, "x", 1, 0.0, _done("h" + fid[:3], ("c",)), now=T0)
    catalog.execute("UPDATE file_hashes SET verified_at = ? WHERE file = ?",
                    (db.timestamp(T0 - timedelta(days=60)), new))  # fmt: skip
    catalog.execute("UPDATE file_hashes SET verified_at = ? WHERE file = ?",
                    (db.timestamp(T0 - timedelta(days=40)), old))  # fmt: skip
    due = store.targets(catalog, "nas", now=T0, interval_days=30)
    assert [(t.path, t.reason) for t in due] == [("new.bin", "due"), ("old.bin", "due")]
    assert store.targets(catalog, "nas", now=T0, interval_days=0) == []
    every = store.targets(catalog, "nas", now=T0, interval_days=0, everything=True)
    assert len(every) == 2 and pending not in {t.file for t in every}
