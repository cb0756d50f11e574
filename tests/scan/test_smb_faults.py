"""Samba outages: a restart mid-scan is survived; a stopped server marks nothing missing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from archive_analyzer import pipeline
from archive_analyzer.catalog import db
from archive_analyzer.catalog import files as repo
from archive_analyzer.scan.scanner import Scanner
from archive_analyzer.scan.watcher import WatchState
from archive_analyzer.sources.smb import SMBSource
from archive_analyzer.sources.url import SMBSpec, parse
from tests.fixtures.smb import SambaServer
from tests.scan.conftest import ManualClock, Tree

pytestmark = pytest.mark.smb


def fast_source(server: SambaServer, url: str, backoff: tuple[float, ...]) -> SMBSource:
    spec = parse(url)
    assert isinstance(spec, SMBSpec)
    return SMBSource(spec, server.options(), backoff=backoff)


def fill(server: SambaServer, folders: int, per_folder: int) -> set[str]:
    made: set[str] = set()
    for f in range(folders):
        folder = server.root / f"Brand {f:02d}"
        folder.mkdir(mode=0o755)
        folder.chmod(0o755)
        for i in range(per_folder):
            name = f"Episode {i:03d}.mp4"
            (folder / name).write_bytes(b"v")
            (folder / name).chmod(0o644)
            made.add(f"Brand {f:02d}/{name}")
    return made


class RestartAfterFirstBatch:
    """A progress sink that restarts smbd once, right after the first batch is committed."""

    def __init__(self, server: SambaServer) -> None:
        self.server = server
        self.restarted = False

    def start(self, total_files: int | None) -> None:
        pass

    def advance(self, files: int, nbytes: int) -> None:
        if not self.restarted:
            self.restarted = True
            self.server.restart()

    def finish(self) -> None:
        pass


def test_scan_reconnects_after_smbd_restart(
    smb_private_server: SambaServer, tmp_path: Path, clock: ManualClock
) -> None:
    server = smb_private_server
    expected = fill(server, folders=20, per_folder=60)
    source = fast_source(server, server.url, backoff=(0.5, 1.0, 2.0))
    conn = db.connect(tmp_path / "c.db")
    progress = RestartAfterFirstBatch(server)
    try:
        source.connect()
        result = Scanner(conn, source, batch_size=100, clock=clock, progress=progress).scan()
        assert progress.restarted
        assert result.status == "completed" and result.files_seen == len(expected)
        assert set(repo.load(conn, source.name)) == expected
    finally:
        source.close()
        conn.close()


def test_stopped_smbd_marks_nothing_missing(
    smb_private_server: SambaServer, conn: sqlite3.Connection, clock: ManualClock, tmp_path: Path
) -> None:
    server = smb_private_server
    expected = fill(server, folders=3, per_folder=5)
    tree = Tree("smb", server.root, server.url, server.settings(db=tmp_path / "catalog.db"))
    source = fast_source(server, server.url, backoff=(0.05, 0.05, 0.05))
    state = WatchState()
    try:
        source.connect()
        for _ in range(2):
            clock.advance(5)
            pipeline.poll_once(conn, source, tree.settings, state, now=clock)
        server.stop()
        clock.advance(5)
        down = pipeline.poll_once(conn, source, tree.settings, state, now=clock)
        assert down.poll.status == "suspect" and down.changes == 0
        server.start()
        clock.advance(5)
        up = pipeline.poll_once(conn, source, tree.settings, state, now=clock)
        assert up.poll.status == "completed" and up.changes == 0
    finally:
        source.close()
    rows = repo.load(conn, source.name)
    assert set(rows) == expected and {r.status for r in rows.values()} == {"active"}
