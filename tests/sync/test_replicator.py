"""The replicator against the real emulator: full and incremental syncs converge to exactly what
the catalog says (whole dumps compared), moves leave no stale copy, syncs are idempotent."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from archive_analyzer.catalog import db
from archive_analyzer.sync.firestore import FirestoreSink, RetryPolicy
from archive_analyzer.sync.plan import METADATA_PATH
from archive_analyzer.sync.replicator import Replicator
from archive_analyzer.sync.sink import DocOp
from archive_analyzer.sync.state import watermark
from tests.fixtures.firestore import FirestoreEmulator
from tests.sync.catalog_data import (
    PATHS,
    SECRET_MARKERS,
    TickClock,
    add_clip,
    add_file,
    content_of,
    expected_documents,
    move_file,
    set_file_status,
    without_metadata,
)

FAST = RetryPolicy(attempts=2, initial_s=0.05, max_wait_s=0.1, deadline_s=5, rpc_timeout_s=5)


@pytest.fixture
def sink(firestore: FirestoreEmulator) -> Iterator[FirestoreSink]:
    s = FirestoreSink("demo-archive", emulator_host=firestore.host, retry=FAST)
    try:
        yield s
    finally:
        s.close()


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def assert_no_secrets(dump: dict[str, dict[str, Any]]) -> None:
    for path, doc in dump.items():
        assert "source" not in doc, path
        for text in _strings(doc):
            for marker in SECRET_MARKERS:
                assert marker not in text, f"{path} leaks {marker!r}"


def assert_matches(firestore: FirestoreEmulator, conn: sqlite3.Connection) -> dict[str, Any]:
    dump = firestore.dump()
    assert without_metadata(dump) == expected_documents(conn)
    assert dump[METADATA_PATH]["watermark"] == watermark(conn)
    assert_no_secrets(dump)
    return dump


def build(conn: sqlite3.Connection, clock: TickClock) -> dict[str, str]:
    ids = {path: add_file(conn, path, clock) for path in PATHS}
    add_file(conn, "HCL/2025/upload.mp4.part", clock, is_media=False)
    episode = content_of(conn, ids[PATHS[0]])["id"]
    ids["clip1"] = add_clip(
        conn, episode, clock, start=60, end=95.5, title="AA vs KK", tag="cooler"
    )
    ids["clip2"] = add_clip(conn, episode, clock, start=200, end=260, title="Hero call")
    return ids


def test_full_then_incremental_edits_moves_deletes(
    catalog: sqlite3.Connection, firestore: FirestoreEmulator, sink: FirestoreSink
) -> None:
    conn = catalog
    clock = TickClock()
    ids = build(conn, clock)
    replicator = Replicator(conn, sink, clock=clock)

    first = replicator.run()
    assert first.docs_set > 0 and first.docs_deleted == 0
    dump = assert_matches(firestore, conn)
    contents = [p for p in dump if "/contents/" in p]
    assert len(contents) == len(PATHS) + 2  # episodes and the two clips; junk has none
    clip_doc = next(d for p, d in dump.items() if p.endswith(ids["clip1"]))
    assert clip_doc["clip"] == {"start_sec": 60, "end_sec": 95.5}
    assert clip_doc["duration_s"] == 35.5 and clip_doc["tag_ids"] == ["cooler"]

    # edits: a title edited by hand, a player renamed, a tag renamed, a file going missing
    hcl = content_of(conn, ids[PATHS[2]])
    stamp = db.timestamp(clock())
    with db.transaction(conn):
        conn.execute(
            "UPDATE contents SET title = 'HCL special', updated_at = ? WHERE id = ?",
            (stamp, hcl["id"]),
        )
        conn.execute(
            "UPDATE players SET name_kr = '샤시미', updated_at = ? WHERE name = 'Sashimi'",
            (stamp,),
        )
        conn.execute(
            "UPDATE tags SET name = 'Cooler!', updated_at = ? WHERE id = 'cooler'", (stamp,)
        )
    set_file_status(conn, ids[PATHS[3]], "missing", clock)
    # a move to another series (reclassified from its new folder), taking its clips along
    old_path = next(p for p in dump if p.endswith(content_of(conn, ids[PATHS[0]])["id"]))
    move_file(
        conn,
        ids[PATHS[0]],
        "WSOP/WSOP-BR/WSOP-PARADISE/2024 WSOP-PARADISE SUPER MAIN "
        "EVENT/Day 4/WSOP 2024 Paradise Day 4.mp4",
        clock,
    )
    # deletes: a file soft-deleted (its content goes), a clip removed outright
    set_file_status(conn, ids[PATHS[4]], "deleted", clock)
    with db.transaction(conn):
        conn.execute("DELETE FROM contents WHERE id = ?", (ids["clip2"],))

    second = replicator.run()
    assert second.docs_deleted >= 3
    dump = assert_matches(firestore, conn)
    assert old_path not in dump
    moved = content_of(conn, ids[PATHS[0]])
    new_path = f"catalogs/{moved['catalog_id']}/series/{moved['series_id']}/contents/{moved['id']}"
    assert new_path in dump and new_path != old_path
    clip_paths = [p for p in dump if p.endswith(ids["clip1"])]
    assert len(clip_paths) == 1 and f"/series/{moved['series_id']}/" in clip_paths[0]
    assert dump[clip_paths[0]]["tags"][0]["name"] == "Cooler!"
    assert f"files/{ids[PATHS[4]]}" not in dump
    assert not any(p.endswith(ids["clip2"]) for p in dump)
    assert dump[f"files/{ids[PATHS[3]]}"]["available"] is False
    hcl_doc = next(d for p, d in dump.items() if p.endswith(hcl["id"]))
    assert hcl_doc["title"] == "HCL special"
    assert "샤시미" in [p["name_kr"] for p in hcl_doc["players"]]

    # the parent episode deleted: its clip disappears too; a restored file comes back
    set_file_status(conn, ids[PATHS[0]], "deleted", clock)
    set_file_status(conn, ids[PATHS[4]], "active", clock)
    replicator.run()
    dump = assert_matches(firestore, conn)
    assert not any(p.endswith(ids["clip1"]) for p in dump)
    assert f"files/{ids[PATHS[4]]}" in dump


def test_second_sync_writes_nothing(
    catalog: sqlite3.Connection, firestore: FirestoreEmulator, sink: FirestoreSink
) -> None:
    clock = TickClock()
    build(catalog, clock)
    replicator = Replicator(catalog, sink, clock=clock)
    replicator.run()
    before = firestore.dump()
    again = replicator.run()
    assert (again.docs_set, again.docs_deleted, again.batches) == (0, 0, 0)
    assert firestore.dump() == before  # not even the metadata mirror was rewritten
    # a change that does not alter any document (a poll touching last_seen) writes nothing
    with db.transaction(catalog):
        catalog.execute(
            "UPDATE files SET last_seen = 'x', updated_at = ?", (db.timestamp(clock()),)
        )
    assert replicator.run().batches == 0
    assert firestore.dump() == before


def test_small_batches_and_full_resync_prunes_strays(
    catalog: sqlite3.Connection, firestore: FirestoreEmulator, sink: FirestoreSink
) -> None:
    clock = TickClock()
    build(catalog, clock)
    replicator = Replicator(catalog, sink, clock=clock, batch_size=3)
    report = replicator.run()
    assert report.batches >= report.docs_set // 3
    series = next(p for p in assert_matches(firestore, catalog) if p.count("/") == 3)

    # documents nobody accounts for (a stray write, a copy left by an older layout). Only
    # parents that exist or that the catalog knows are walked (no collection-group query).
    stray = [
        DocOp("set", f"{series}/contents/x", {"title": "stale"}),
        DocOp("set", "catalogs/hcl/series/_unsorted/contents/y", {"title": "stale"}),
        DocOp("set", "players/nobody", {"name": "stale"}),
        DocOp("set", "catalogs/ghost", {"title": "stale"}),
    ]
    sink.commit(stray)
    full = replicator.run(full=True)
    assert full.docs_deleted == len(stray)
    assert_matches(firestore, catalog)


def test_full_restores_an_emptied_database(
    catalog: sqlite3.Connection, firestore: FirestoreEmulator, sink: FirestoreSink
) -> None:
    clock = TickClock()
    build(catalog, clock)
    replicator = Replicator(catalog, sink, clock=clock)
    replicator.run()
    firestore.clear()
    assert replicator.run().docs_set == 0  # incremental trusts its record: nothing pending
    assert without_metadata(firestore.dump()) == {}
    replicator.run(full=True)
    assert_matches(firestore, catalog)


def test_dry_run_counts_without_writing(
    catalog: sqlite3.Connection, firestore: FirestoreEmulator, sink: FirestoreSink
) -> None:
    clock = TickClock()
    build(catalog, clock)
    replicator = Replicator(catalog, sink, clock=clock)
    planned = replicator.run(dry_run=True)
    assert planned.docs_set == len(expected_documents(catalog))
    assert firestore.dump() == {}
    assert watermark(catalog) == 0
    done = replicator.run()
    assert done.docs_set == planned.docs_set


class EditDuringCommit:
    """A sink that, after its first commit, lets another writer change the catalog."""

    def __init__(self, inner: FirestoreSink, edit: Callable[[], None]) -> None:
        self.inner = inner
        self.edit = edit
        self.commits = 0

    def commit(self, ops: Sequence[DocOp]) -> None:
        self.inner.commit(ops)
        self.commits += 1
        if self.commits == 1:
            self.edit()

    def get(self, path: str) -> dict[str, Any] | None:
        return self.inner.get(path)

    def list_ids(self, collection: str) -> list[str]:
        return self.inner.list_ids(collection)

    def close(self) -> None:
        self.inner.close()


def test_changes_during_a_run_and_late_timestamps_are_not_lost(
    catalog: sqlite3.Connection, db_path: Path, firestore: FirestoreEmulator, sink: FirestoreSink
) -> None:
    clock = TickClock()
    ids = build(catalog, clock)
    Replicator(catalog, sink, clock=clock).run()
    target = content_of(catalog, ids[PATHS[1]])["id"]
    other = db.connect(db_path)  # a second writer (the scanner, an import ...)

    def edit() -> None:
        with db.transaction(other):
            # stamped far in the past: an updated_at watermark would never see this row again
            other.execute(
                "UPDATE contents SET title = 'edited mid-sync', "
                "updated_at = '2000-01-01T00:00:00.000000Z' WHERE id = ?",
                (target,),
            )

    stamp = db.timestamp(clock())
    with db.transaction(catalog):
        catalog.execute(
            "UPDATE catalogs SET title = title || '!', updated_at = ?", (stamp,)
        )  # something to sync, so the run commits at least once
    Replicator(catalog, EditDuringCommit(sink, edit), clock=clock, batch_size=3).run()
    pending = catalog.execute("SELECT count(*) FROM sync_changes").fetchone()[0]
    assert pending >= 1  # logged after the run's head: left for the next run
    Replicator(catalog, sink, clock=clock).run()
    dump = assert_matches(firestore, catalog)
    assert next(d for p, d in dump.items() if p.endswith(target))["title"] == "edited mid-sync"
    other.close()


def test_poster_frames_are_published_for_the_current_file_version(
    catalog: sqlite3.Connection, firestore: FirestoreEmulator, sink: FirestoreSink
) -> None:
    clock = TickClock()
    ids = build(catalog, clock)
    replicator = Replicator(catalog, sink, clock=clock)
    replicator.run()
    fid = ids[PATHS[2]]
    cid = content_of(catalog, fid)["id"]
    stamp = db.timestamp(clock())
    with db.transaction(catalog):
        catalog.execute(
            "INSERT INTO thumbnails (file, size, mtime, position_s, made_at, updated_at) "
            "SELECT id, size, mtime, 360.05, ?, ? FROM files WHERE id = ?",
            (stamp, stamp, fid),
        )
    replicator.run()
    dump = assert_matches(firestore, catalog)
    doc = next(d for p, d in dump.items() if p.endswith(cid))
    assert doc["thumbnail"] == {"path": f"/thumb/{cid}", "position_s": 360.05}
    # a new version of the file: the old frame no longer describes it
    with db.transaction(catalog):
        catalog.execute(
            "UPDATE files SET size = size + 1, updated_at = ? WHERE id = ?",
            (db.timestamp(clock()), fid),
        )
    replicator.run()
    dump = assert_matches(firestore, catalog)
    assert next(d for p, d in dump.items() if p.endswith(cid))["thumbnail"] is None


def test_reclassification_with_new_rules_moves_contents_and_clips(
    catalog: sqlite3.Connection,
    firestore: FirestoreEmulator,
    sink: FirestoreSink,
    tmp_path: Path,
) -> None:
    from archive_analyzer.catalog import contents
    from archive_analyzer.catalog.rules import load_rules

    clock = TickClock()
    eu = "WSOP/WSOP-BR/WSOP-EUROPE/2025 WSOP-Europe/2025 WSOP-EUROPE MAIN EVENT"
    a = add_file(catalog, f"{eu}/Day 1 A/Main Event Day 1A.mp4", clock)
    add_file(catalog, f"{eu}/Day 2/Main Event Day 2.mp4", clock)
    clip = add_clip(catalog, content_of(catalog, a)["id"], clock, start=600, end=720, title="h1")
    replicator = Replicator(catalog, sink, clock=clock)
    replicator.run()
    before = assert_matches(firestore, catalog)

    rules_file = tmp_path / "rules.toml"
    rules_file.write_text("[structure]\ncontainers = ['main event$']\n", encoding="utf-8")
    with db.transaction(catalog):
        report = contents.reclassify(catalog, now=clock, rules=load_rules(rules_file))
    assert report.moved >= 1
    replicator.run()
    after = assert_matches(firestore, catalog)
    moved = [p for p in before if "/contents/" in p and p not in after]
    assert moved  # old locations are gone, not left as stale copies
    assert len([p for p in after if p.endswith(clip)]) == 1
