"""Hashes and versions in Firestore (issue 18), against the real emulator: a file document
carries its xxh128 and fixity state, a content lists its versions' files with their hashes, a
joined version has no document of its own until an editor splits it off."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from archive_analyzer.catalog import db, versions
from archive_analyzer.catalog import fixity as store
from archive_analyzer.catalog.duplicates import FileFacts, groups
from archive_analyzer.fixity.hasher import HashResult, HashStatus
from archive_analyzer.sync.firestore import FirestoreSink, RetryPolicy
from archive_analyzer.sync.replicator import Replicator
from tests.fixtures.firestore import FirestoreEmulator
from tests.sync.catalog_data import TickClock, add_file, content_of, expected_documents
from tests.sync.catalog_data import without_metadata as bare

FAST = RetryPolicy(attempts=2, initial_s=0.05, max_wait_s=0.1, deadline_s=5, rpc_timeout_s=5)
MASTER = "PAD/PAD S12/Masters/PAD S12 EP05.mov"
WEB = "PAD/PAD S12/PAD S12 EP05.mp4"
FRAMES = {1.0: "c3c3c3c3c3c3c3c3", 3.0: "0f0f0f0f0f0f0f0f", 5.0: "ffff0000ffff0000"}


@pytest.fixture
def sink(firestore: FirestoreEmulator) -> Iterator[FirestoreSink]:
    s = FirestoreSink("demo-archive", emulator_host=firestore.host, retry=FAST)
    try:
        yield s
    finally:
        s.close()


def _hash(conn: sqlite3.Connection, fid: str, value: str, clock: TickClock) -> None:
    size, mtime, path = conn.execute(
        "SELECT size, mtime, path FROM files WHERE id = ?", (fid,)
    ).fetchone()
    done = HashResult(HashStatus.DONE, xxh128=value, chunks=(value,), chunk_bytes=size)
    with db.transaction(conn):
        store.record(conn, fid, path, size, mtime, done, now=clock())


def test_hashes_and_versions_are_published(
    catalog: sqlite3.Connection, firestore: FirestoreEmulator, sink: FirestoreSink
) -> None:
    clock = TickClock()
    master, web = add_file(catalog, MASTER, clock), add_file(catalog, WEB, clock)
    catalog.execute("UPDATE media_info SET browser_playable = 0 WHERE id = ?", (master,))
    _hash(catalog, master, "a" * 32, clock)
    _hash(catalog, web, "b" * 32, clock)
    replicator = Replicator(catalog, sink, clock=clock)
    replicator.run()
    dump = bare(firestore.dump())
    assert dump == expected_documents(catalog)
    assert dump[f"files/{master}"]["xxh128"] == "a" * 32
    assert dump[f"files/{master}"]["fixity"] == "ok"

    c_master, c_web = content_of(catalog, master)["id"], content_of(catalog, web)["id"]
    facts = [
        FileFacts(master, MASTER, 9, duration_s=3600.5, frames=FRAMES, content_id=c_master),
        FileFacts(web, WEB, 1, duration_s=3600.4, frames=FRAMES, content_id=c_web),
    ]
    with db.transaction(catalog):
        versions.reconcile(catalog, groups(facts), clock())
    replicator.run()
    dump = bare(firestore.dump())
    assert dump == expected_documents(catalog)
    joined = [p for p in dump if p.endswith(c_master) or p.endswith(c_web)]
    assert len(joined) == 1  # one content for the programme
    doc = dump[joined[0]]
    assert doc["file_id"] == web  # plays the browser-playable version
    assert [(v["file_id"], v["kind"], v["xxh128"]) for v in doc["version_files"]] == [
        (master, "own", "a" * 32),
        (web, "same_programme", "b" * 32),
    ]

    with db.transaction(catalog):
        versions.split(catalog, c_web, user="editor", now=clock())
    replicator.run()
    dump = bare(firestore.dump())
    assert dump == expected_documents(catalog)
    assert len([p for p in dump if p.endswith(c_master) or p.endswith(c_web)]) == 2
