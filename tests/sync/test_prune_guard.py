"""The --full mass-delete guard's thresholds are parameters (settings sync_prune_*), unit-tested
on the memory sink; tests/sync/test_cli.py covers them end to end."""

from __future__ import annotations

import sqlite3

import pytest

from archive_analyzer.errors import SyncError
from archive_analyzer.sync.replicator import Replicator
from archive_analyzer.sync.sink import MemorySink
from tests.sync.catalog_data import PATHS, TickClock, add_file, expected_documents


def with_strays(catalog: sqlite3.Connection, strays: int) -> MemorySink:
    """A sink holding the catalog's documents plus ``strays`` files it does not know."""
    clock = TickClock()
    for path in PATHS[:2]:
        add_file(catalog, path, clock)
    sink = MemorySink()
    Replicator(catalog, sink, clock=clock).run()
    for n in range(strays):
        sink.documents[f"files/stray{n:02d}"] = {"name": f"stray{n}"}
    return sink


@pytest.mark.parametrize(
    ("share", "min_docs", "refused"),
    [
        (0.2, 10, True),  # the defaults: 12 strays of ~20 documents
        (0.2, 13, False),  # fewer deletions than the minimum: the share does not apply
        (0.7, 10, False),  # under the share
        (0.0, 0, True),  # any deletion is refused
    ],
)
def test_thresholds(
    catalog: sqlite3.Connection, share: float, min_docs: int, refused: bool
) -> None:
    sink = with_strays(catalog, 12)
    replicator = Replicator(catalog, sink, prune_max_share=share, prune_min_docs=min_docs)
    if refused:
        with pytest.raises(SyncError, match="refusing: sync --full would prune 12 of"):
            replicator.run(full=True)
        assert sum(p.startswith("files/stray") for p in sink.documents) == 12
    else:
        replicator.run(full=True)
        published = {k: v for k, v in sink.documents.items() if not k.startswith("_sync")}
        assert published == expected_documents(catalog)


def test_out_of_range_thresholds_are_refused(catalog: sqlite3.Connection) -> None:
    for share, min_docs in ((1.5, 10), (-0.1, 10), (0.2, -1)):
        with pytest.raises(SyncError, match="prune guard"):
            Replicator(catalog, MemorySink(), prune_max_share=share, prune_min_docs=min_docs)
