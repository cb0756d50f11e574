"""One contract, every sink: the in-memory sink and Firestore (against the real emulator)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from archive_analyzer.errors import SyncError
from archive_analyzer.sync.firestore import FirestoreSink, RetryPolicy
from archive_analyzer.sync.sink import MAX_BATCH_OPS, DocOp, MemorySink, Sink
from tests.fixtures.firestore import FirestoreEmulator

FAST = RetryPolicy(attempts=2, initial_s=0.05, max_wait_s=0.1, deadline_s=5, rpc_timeout_s=5)


@pytest.fixture(params=["memory", "firestore"])
def sink(request: pytest.FixtureRequest) -> Iterator[Sink]:
    if request.param == "memory":
        yield MemorySink()
        return
    emulator: FirestoreEmulator = request.getfixturevalue("firestore")
    firestore_sink = FirestoreSink("demo-contract", emulator_host=emulator.host, retry=FAST)
    try:
        yield firestore_sink
    finally:
        firestore_sink.close()


def test_set_replaces_whole_document_and_get_reads_it(sink: Sink) -> None:
    sink.commit([DocOp("set", "catalogs/wsop", {"title": "WSOP", "old": 1})])
    sink.commit([DocOp("set", "catalogs/wsop", {"title": "WSOP", "n": [1, 2], "m": {"a": None}})])
    assert sink.get("catalogs/wsop") == {"title": "WSOP", "n": [1, 2], "m": {"a": None}}
    assert sink.get("catalogs/none") is None


def test_delete_removes_and_deleting_missing_is_fine(sink: Sink) -> None:
    sink.commit([DocOp("set", "files/a", {"x": 1}), DocOp("set", "files/b", {"x": 2})])
    sink.commit([DocOp("delete", "files/a"), DocOp("delete", "files/never")])
    assert sink.get("files/a") is None
    assert sink.list_ids("files") == ["b"]


def test_list_ids_lists_one_collection_only(sink: Sink) -> None:
    sink.commit(
        [
            DocOp("set", "catalogs/c1", {"t": 1}),
            DocOp("set", "catalogs/c1/series/s1", {"t": 2}),
            DocOp("set", "catalogs/c1/series/s2/contents/x", {"t": 3}),
        ]
    )
    assert sink.list_ids("catalogs") == ["c1"]
    assert sink.list_ids("catalogs/c1/series") == ["s1"]  # s2 exists only as a parent path
    assert sink.list_ids("catalogs/c1/series/s2/contents") == ["x"]
    assert sink.list_ids("players") == []


def test_a_batch_of_500_commits_and_501_is_refused(sink: Sink) -> None:
    ops = [DocOp("set", f"players/p{i:03d}", {"i": i}) for i in range(MAX_BATCH_OPS)]
    sink.commit(ops)
    assert len(sink.list_ids("players")) == MAX_BATCH_OPS
    with pytest.raises(SyncError):
        sink.commit([*ops, DocOp("set", "players/extra", {})])
    assert sink.get("players/extra") is None


def test_korean_text_round_trips(sink: Sink) -> None:
    sink.commit([DocOp("set", "players/kr", {"name_kr": "홍길동", "folder": "WSOP 2003 - 복사본"})])
    assert sink.get("players/kr") == {"name_kr": "홍길동", "folder": "WSOP 2003 - 복사본"}
