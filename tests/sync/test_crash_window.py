"""A crash between a Firestore commit and its local record (unit test on the memory sink):
the next run must neither lose the write nor leave a copy at a path only that batch knew."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import pytest

from archive_analyzer.sync.replicator import Replicator
from archive_analyzer.sync.sink import DocOp, MemorySink
from tests.sync.catalog_data import (
    PATHS,
    TickClock,
    add_clip,
    add_file,
    content_of,
    expected_documents,
    move_file,
)


class CrashAfterCommit(MemorySink):
    """Applies the batch, then the process 'dies' before the replicator records it."""

    def __init__(self, shared: MemorySink) -> None:
        super().__init__()
        self.documents = shared.documents
        self.shared = shared

    def commit(self, ops: Sequence[DocOp]) -> None:
        self.shared.commit(ops)
        raise KeyboardInterrupt("killed right after the commit")


def test_move_committed_but_unrecorded_then_moved_again(catalog: sqlite3.Connection) -> None:
    clock = TickClock()
    fid = add_file(catalog, PATHS[1], clock)
    add_clip(catalog, content_of(catalog, fid)["id"], clock, start=1, end=2, title="hand")
    cloud = MemorySink()
    Replicator(catalog, cloud, clock=clock).run()
    assert cloud.documents == {**expected_documents(catalog), **_meta(cloud)}

    move_file(catalog, fid, "PAD/PAD S13/PAD S13 EP01.mp4", clock)
    with pytest.raises(KeyboardInterrupt):
        Replicator(catalog, CrashAfterCommit(cloud), clock=clock).run()
    move_file(catalog, fid, "HCL/2025/20250101 - Someone.mp4", clock)
    Replicator(catalog, cloud, clock=clock).run()
    assert _content(cloud) == _content_expected(catalog)
    assert {k: v for k, v in cloud.documents.items() if "/" in k and "_sync" not in k} == (
        expected_documents(catalog)
    )


def _meta(sink: MemorySink) -> dict[str, dict[str, object]]:
    return {k: v for k, v in sink.documents.items() if k.startswith("_sync_metadata/")}


def _content(sink: MemorySink) -> list[str]:
    return sorted(k for k in sink.documents if "/contents/" in k)


def _content_expected(conn: sqlite3.Connection) -> list[str]:
    return sorted(k for k in expected_documents(conn) if "/contents/" in k)
