"""The composed stages with the real prober: scan -> probe -> store, poll -> job -> ingest."""

from __future__ import annotations

import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from archive_analyzer import pipeline
from archive_analyzer.catalog import db, media
from archive_analyzer.catalog import files as repo
from archive_analyzer.errors import ConfigError
from archive_analyzer.probe.result import ProbeResult, ProbeStatus
from archive_analyzer.scan.watcher import WatchState
from archive_analyzer.sources import Source, SourcePool, open_source
from tests.scan.conftest import make_settings


def test_scan_probes_and_stores_media(tmp_path: Path, corpus: dict[str, Path]) -> None:
    root = tmp_path / "share"
    (root / "PAD/PAD S12").mkdir(parents=True)
    (root / "HCL/2025").mkdir(parents=True)
    shutil.copy(corpus["mp4_faststart"], root / "PAD/PAD S12/PAD S12 EP05.mp4")
    shutil.copy(corpus["mxf_closed"], root / "HCL/2025/20250611 - Nik Airball, Sashimi.mxf")
    (root / "HCL/2025/notes.zip").write_bytes(b"PK")
    settings = make_settings(tmp_path / "c.db", source=str(root))
    summary = pipeline.scan(settings)
    assert summary.scan.new == 3 and summary.probed == 2 and summary.probe_pending == 0
    conn = db.connect(settings.db)
    try:
        rows = repo.load(conn, str(root))
        ep = rows["PAD/PAD S12/PAD S12 EP05.mp4"]
        assert ep.probe_state == "done"
        info = media.media_info(conn, ep.id)
        assert info is not None and info.status == "ok" and info.video_codec == "h264"
        assert rows["HCL/2025/notes.zip"].probe_state == "skipped"
        # A second scan finds nothing to do: no re-probe of unchanged files.
        again = pipeline.scan(settings)
        assert again.scan.new == 0 and again.probed == 0
    finally:
        conn.close()


def test_ingest_drops_results_for_an_older_version(catalog: sqlite3.Connection) -> None:
    from archive_analyzer.sources.base import FileInfo

    conn = catalog
    with db.transaction(conn):
        (fid,) = repo.add(conn, "s", [(FileInfo("a.mp4", 10, 1.0, "1", False), "active")], "t")
    stale = pipeline.ProbeJob(fid, "s", "a.mp4", 9, 1.0)
    result = ProbeResult(path="a.mp4", status=ProbeStatus.OK, strategy="smart", size=9)
    with db.transaction(conn):
        assert pipeline.ingest(conn, stale, result, now=db.utc_now) is False
    assert media.media_info(conn, fid) is None
    fresh = pipeline.ProbeJob(fid, "s", "a.mp4", 10, 1.0)
    with db.transaction(conn):
        assert pipeline.ingest(conn, fresh, result, now=db.utc_now) is True
    row = repo.get(conn, fid)
    assert row is not None and row.probe_state == "done"
    gone = pipeline.ProbeJob("no-such-id", "s", "a.mp4", 10, 1.0)
    with db.transaction(conn):
        assert pipeline.ingest(conn, gone, result, now=db.utc_now) is False


def test_watch_loop_polls_and_probes_inline(tmp_path: Path, corpus: dict[str, Path]) -> None:
    root = tmp_path / "share"
    root.mkdir()
    shutil.copy(corpus["mkv"], root / "Day 1.mkv")
    # the poll loop alone (notifications, which run rounds between polls: tests/scan/test_notify)
    settings = make_settings(tmp_path / "c.db", source=str(root), poll_interval_s=60, notify=False)
    sleeps: list[float] = []
    polls = pipeline.watch(settings, sleep=sleeps.append, max_polls=2)
    assert polls == 2 and len(sleeps) == 1 and 0 < sleeps[0] <= 60
    conn = db.connect(settings.db)
    try:
        row = repo.get_by_path(conn, str(root), "Day 1.mkv")
        assert row is not None and row.status == "active" and row.probe_state == "done"
        kinds = [r[0] for r in conn.execute("SELECT kind FROM scans ORDER BY id")]
        assert kinds == ["poll", "poll"]
    finally:
        conn.close()


class _Counting:
    """An opener that records every source it opens and how often each is closed."""

    def __init__(self) -> None:
        self.opened: list[object] = []
        self.closes: dict[int, int] = {}

    def __call__(self, spec: str) -> Source:
        source = open_source(spec)
        real_close = source.close
        self.opened.append(source)

        def close() -> None:
            self.closes[id(source)] = self.closes.get(id(source), 0) + 1
            real_close()

        source.close = close  # type: ignore[method-assign]
        return source


def test_source_pool_reuses_one_source_per_thread_and_spec(
    tmp_path: Path, corpus: dict[str, Path]
) -> None:
    root = tmp_path / "share"
    root.mkdir()
    for n in range(3):
        shutil.copy(corpus["mp4_faststart"], root / f"ep{n}.mp4")
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(corpus["mkv"], other / "a.mkv")
    settings = make_settings(tmp_path / "c.db")
    size = (root / "ep0.mp4").stat().st_size
    jobs = [pipeline.ProbeJob(f"id{n}", str(root), f"ep{n}.mp4", size, 0.0) for n in range(3)]
    opener = _Counting()
    pool = SourcePool(opener)
    options = pipeline.probe_options(settings)
    for job in jobs:
        assert pipeline.run_probe(job, pool, options).status is ProbeStatus.OK
    assert len(opener.opened) == 1 and not opener.closes  # one source, kept open
    mkv = pipeline.ProbeJob("m", str(other), "a.mkv", (other / "a.mkv").stat().st_size, 0.0)
    assert pipeline.run_probe(mkv, pool, options).status is ProbeStatus.OK
    assert len(opener.opened) == 2  # another spec, another source
    # Another thread gets its own source for the same spec.
    with ThreadPoolExecutor(max_workers=1) as executor:
        executor.submit(pipeline.run_probe, jobs[0], pool, options).result()
    assert len(opener.opened) == 3 and len(pool) == 3
    pool.close()
    assert len(pool) == 0
    assert sorted(opener.closes.values()) == [1, 1, 1]
    pool.close()  # idempotent
    assert sorted(opener.closes.values()) == [1, 1, 1]
    # After close a job still runs, on a source opened and closed for it alone.
    assert pipeline.run_probe(jobs[1], pool, options).status is ProbeStatus.OK
    assert len(opener.opened) == 4 and opener.closes[id(opener.opened[3])] == 1
    assert len(pool) == 0


def test_scans_and_polls_classify_with_the_user_rules_file(
    tmp_path: Path, corpus: dict[str, Path]
) -> None:
    root = tmp_path / "share"
    (root / "Triton Series/2025").mkdir(parents=True)
    shutil.copy(corpus["mkv"], root / "Triton Series/2025/Day 1.mkv")
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(
        '[[catalog]]\nid = "triton"\ntitle = "Triton Poker"\norder = 5\n'
        "folders = ['^triton series$']\n",
        encoding="utf-8",
    )
    settings = make_settings(tmp_path / "c.db", source=str(root), rules_file=rules_file)
    pipeline.scan(settings, probe=False)
    # A file that arrives later is classified by the watcher with the same rules.
    shutil.copy(corpus["mkv"], root / "Triton Series/2025/Day 2.mkv")
    conn = db.connect(settings.db)
    try:
        state = WatchState()
        source = open_source(str(root))
        try:
            pipeline.poll_once(conn, source, settings, state, now=db.utc_now)
        finally:
            source.close()
        rows = conn.execute(
            "SELECT f.name, c.catalog_id FROM contents c JOIN files f ON f.id = c.file_id"
            " ORDER BY f.name"
        ).fetchall()
        assert [tuple(r) for r in rows] == [("Day 1.mkv", "triton"), ("Day 2.mkv", "triton")]
        title = conn.execute("SELECT title FROM catalogs WHERE id = 'triton'").fetchone()
        assert title[0] == "Triton Poker"
    finally:
        conn.close()


def test_a_bad_rules_file_fails_the_scan_before_listing(tmp_path: Path) -> None:
    (tmp_path / "share").mkdir()
    settings = make_settings(
        tmp_path / "c.db", source=str(tmp_path / "share"), rules_file=tmp_path / "nope.toml"
    )
    with pytest.raises(ConfigError, match="cannot read rules file"):
        pipeline.scan(settings)
    with pytest.raises(ConfigError, match="cannot read rules file"):
        pipeline.watch(settings, max_polls=1)
