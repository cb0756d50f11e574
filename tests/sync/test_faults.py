"""Faults against the real emulator: killed or hung mid-sync, the run fails cleanly with one
line, and the next run completes; nothing is lost and nothing is written twice.

The emulator keeps data in memory, so a killed one restarts EMPTY. The kill test therefore
proves resumption by accounting: the documents committed before the kill (dumped just before
it) and those written by the next run are disjoint and together are exactly the catalog; a
``--full`` run then restores the emptied database completely. The hang test (SIGSTOP/SIGCONT)
keeps the data, so after the outage the next run must leave a dump equal to the catalog.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from archive_analyzer.errors import SyncError
from archive_analyzer.sync.firestore import FirestoreSink, RetryPolicy
from archive_analyzer.sync.plan import METADATA_PATH
from archive_analyzer.sync.replicator import Replicator
from archive_analyzer.sync.sink import DocOp
from archive_analyzer.sync.state import watermark
from tests.fixtures.firestore import FirestoreEmulator
from tests.sync.catalog_data import TickClock, add_file, expected_documents, without_metadata

FAST = RetryPolicy(attempts=3, initial_s=0.05, max_wait_s=0.2, deadline_s=4, rpc_timeout_s=1.5)
# After an outage gRPC waits (reconnect backoff, ~1 s and growing) before it dials again, on a
# subchannel shared by every client of that address: the next run needs a longer budget.
PATIENT = RetryPolicy(attempts=10, initial_s=0.2, max_wait_s=1.0, deadline_s=20, rpc_timeout_s=5)


class FaultAfter:
    """A Firestore sink that runs ``fault`` after its ``n``-th successful commit."""

    def __init__(self, inner: FirestoreSink, n: int, fault: Callable[[], None]) -> None:
        self.inner = inner
        self.n = n
        self.fault = fault
        self.commits = 0

    def commit(self, ops: Sequence[DocOp]) -> None:
        self.inner.commit(ops)
        self.commits += 1
        if self.commits == self.n:
            self.fault()

    def get(self, path: str) -> dict[str, Any] | None:
        return self.inner.get(path)

    def list_ids(self, collection: str) -> list[str]:
        return self.inner.list_ids(collection)

    def close(self) -> None:
        self.inner.close()


def build(conn: sqlite3.Connection, clock: TickClock, n: int = 30) -> None:
    for i in range(n):
        add_file(conn, f"HCL/2025/202506{i % 28 + 1:02d} - Player {i}, Other {i}.mp4", clock)


def last_run(conn: sqlite3.Connection) -> sqlite3.Row:
    row: sqlite3.Row = conn.execute("SELECT * FROM sync_runs ORDER BY id DESC LIMIT 1").fetchone()
    return row


def test_killed_mid_sync_then_next_run_continues(
    catalog: sqlite3.Connection, firestore_factory: Callable[[], FirestoreEmulator]
) -> None:
    emulator = firestore_factory()
    clock = TickClock()
    build(catalog, clock)
    before_kill: dict[str, dict[str, Any]] = {}

    def kill() -> None:
        before_kill.update(emulator.dump())
        emulator.kill()

    sink = FaultAfter(FirestoreSink("demo-fault", emulator_host=emulator.host, retry=FAST), 3, kill)
    with pytest.raises(SyncError) as failure:
        Replicator(catalog, sink, clock=clock, batch_size=10).run()
    message = str(failure.value)
    assert "\n" not in message and "unreachable" in message
    assert last_run(catalog)["status"] == "failed"
    committed = without_metadata(before_kill)
    assert len(committed) == 27  # three batches of 9 documents (+ the metadata mirror each)
    # the record of what is synced is exactly what had committed; the mirror agrees
    recorded = {
        r[0] for r in catalog.execute("SELECT path FROM sync_docs WHERE entity NOT LIKE '%~%'")
    }
    assert recorded == set(committed)
    # the failed batch left intents: the paths it may have written (here: it did not)
    intents = {r[0] for r in catalog.execute("SELECT path FROM sync_docs WHERE entity LIKE '%~%'")}
    assert len(intents) == 9 and intents.isdisjoint(committed)
    assert before_kill[METADATA_PATH]["watermark"] == watermark(catalog) > 0
    sink.close()

    emulator.start()  # same address, empty (in-memory)
    resumed_sink = FirestoreSink("demo-fault", emulator_host=emulator.host, retry=PATIENT)
    replicator = Replicator(catalog, resumed_sink, clock=clock, batch_size=10)
    replicator.run()
    written_after = without_metadata(emulator.dump())
    expected = expected_documents(catalog)
    assert set(written_after).isdisjoint(committed)  # nothing committed is written again
    assert {**committed, **written_after} == expected  # nothing missing
    replicator.run(full=True)  # the way back for a database that lost its data
    assert without_metadata(emulator.dump()) == expected
    resumed_sink.close()


def test_hung_service_mid_sync_then_next_run_matches(
    catalog: sqlite3.Connection, firestore_factory: Callable[[], FirestoreEmulator]
) -> None:
    emulator = firestore_factory()
    clock = TickClock()
    build(catalog, clock, n=20)
    sink = FaultAfter(
        FirestoreSink("demo-hang", emulator_host=emulator.host, retry=FAST), 2, emulator.pause
    )
    try:
        with pytest.raises(SyncError) as failure:
            Replicator(catalog, sink, clock=clock, batch_size=10).run()
        assert "\n" not in str(failure.value)
    finally:
        emulator.resume()
    mark = watermark(catalog)
    # a batch whose commit timed out may still have been applied after the resume: the next
    # run sends it again (sets of whole documents with stable ids: no duplicate can appear)
    patient = FirestoreSink("demo-hang", emulator_host=emulator.host, retry=PATIENT)
    report = Replicator(catalog, patient, clock=clock, batch_size=10).run()
    assert report.docs_set > 0 and watermark(catalog) > mark
    assert without_metadata(emulator.dump()) == expected_documents(catalog)
    assert emulator.dump()[METADATA_PATH]["watermark"] == watermark(catalog)
    sink.close()
    patient.close()
