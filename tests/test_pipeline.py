"""The composed stages with the real prober: scan -> probe -> store, poll -> job -> ingest."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from archive_analyzer import pipeline
from archive_analyzer.catalog import db, media
from archive_analyzer.catalog import files as repo
from archive_analyzer.probe.result import ProbeResult, ProbeStatus
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
        info = media.load(conn, ep.id)
        assert info is not None and info["status"] == "ok" and info["video_codec"] == "h264"
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
    assert media.load(conn, fid) is None
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
    settings = make_settings(tmp_path / "c.db", source=str(root), poll_interval_s=60)
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
