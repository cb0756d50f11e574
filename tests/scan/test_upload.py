"""An upload grown in steps, probed with the real prober over a local folder and Samba."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from archive_analyzer import pipeline
from archive_analyzer.catalog import db, media
from archive_analyzer.scan.watcher import WatchState
from archive_analyzer.sources import SourcePool
from tests.scan.conftest import ManualClock, Tree


def test_upload_in_steps_is_probed_once_with_the_final_metadata(
    tree: Tree, conn: sqlite3.Connection, clock: ManualClock, corpus: dict[str, Path]
) -> None:
    data = corpus["mp4_moov_end"].read_bytes()  # moov at the end: useless until complete
    target = tree.write("WSOP/2025/WSOP 2025 Main Event _ Day 8 (Part 2).mp4", data[:1000])
    source = tree.source()
    state = WatchState()
    jobs: list[pipeline.ProbeJob] = []
    try:
        for step, end in enumerate((len(data) // 3, 2 * len(data) // 3, len(data))):
            clock.advance(5)
            jobs += pipeline.poll_once(conn, source, tree.settings, state, now=clock).jobs
            with target.open("ab") as handle:
                handle.write(data[target.stat().st_size : end])
            os.utime(target, (1_700_000_000 + step, 1_700_000_000 + step))
        for _ in range(3):
            clock.advance(5)
            jobs += pipeline.poll_once(conn, source, tree.settings, state, now=clock).jobs
    finally:
        source.close()
    assert [(j.path, j.size) for j in jobs] == [(jobs[0].path, len(data))]
    options = pipeline.probe_options(tree.settings)
    once = SourcePool(pipeline.source_opener(tree.settings))
    once.close()  # a closed pool opens a source for each probe and closes it again
    result = pipeline.run_probe(jobs[0], once, options)
    with db.transaction(conn):
        assert pipeline.ingest(conn, jobs[0], result, now=clock)
    info = media.media_info(conn, jobs[0].file_id)
    assert info is not None
    assert info.status == "ok" and info.probed_size == len(data)
    assert info.duration_s == pytest.approx(result.duration_s)
    # Through a pool (what probe workers use): one open source serves both probes.
    pool = SourcePool(pipeline.source_opener(tree.settings))
    try:
        again = [pipeline.run_probe(jobs[0], pool, options) for _ in range(2)]
        assert len(pool) == 1
    finally:
        pool.close()
    assert [r.duration_s for r in again] == [result.duration_s] * 2
