"""The full scanner on local folders and the real Samba share."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive_analyzer.catalog import db
from archive_analyzer.catalog import files as repo
from archive_analyzer.errors import SourceUnavailable
from archive_analyzer.scan.scanner import Scanner
from archive_analyzer.sources.base import FileInfo, Source
from archive_analyzer.sources.local import LocalSource
from tests.scan.conftest import ManualClock, Tree

KOREAN = "WSOP 2003 - 복사본"
LONG_NAME = "가" * 80 + ".mp4"  # 80 x 3 bytes + 4: just under the 255-byte name limit
DEEP = "/".join(f"level {i:02d} with a long folder name" for i in range(30))

BAD_NAMES = [
    f"WSOP/{KOREAN}/nfc.mp4",
    "WSOP/WSOP-SC/2025 WSOP-SC (Cyprus)/$5M GTD   WSOP Super Circuit Cyprus Main Event 2025/"
    "Day 1.mp4",
    "WSOP/2024/WSOP 2024 Event #58 $50K PPC Day 3.mp4",
    "HCL/2025/20250611 - Nik Airball, Sashimi.mp4",
    f"long/{LONG_NAME}",
    f"{DEEP}/deep.mp4",
    "zero/empty.mp4",
    "junk/x.zip",
]


def populate(tree: Tree) -> None:
    for name in BAD_NAMES:
        tree.write(name, b"" if name.startswith("zero/") else b"data")
    tree.write(unicodedata.normalize("NFD", f"WSOP/{KOREAN} 2/nfd.mp4"), b"nfd")
    tree.mkdir("empty/folder/inside")


def scan_rows(conn: sqlite3.Connection) -> dict[str, repo.FileRow]:
    return {row.path: row for row in _all(conn)}


def _all(conn: sqlite3.Connection) -> Iterator[repo.FileRow]:
    for (source,) in conn.execute("SELECT DISTINCT source FROM files"):
        yield from repo.load(conn, source).values()


def test_bad_input_names_are_catalogued_as_nfc(
    tree: Tree, conn: sqlite3.Connection, clock: ManualClock
) -> None:
    populate(tree)
    source = tree.source()
    try:
        result = Scanner(conn, source, batch_size=3, clock=clock).scan()
    finally:
        source.close()
    found = scan_rows(conn)
    expected = {*BAD_NAMES, f"WSOP/{KOREAN} 2/nfd.mp4"}
    assert set(found) == expected
    assert result.status == "completed" and result.new == len(expected)
    assert found["zero/empty.mp4"].size == 0
    assert found["junk/x.zip"].probe_state == "skipped"
    assert all(unicodedata.is_normalized("NFC", p) for p in found)


@pytest.mark.smb
def test_permission_denied_folder_is_skipped_and_the_scan_goes_on(
    smb_folder: object, conn: sqlite3.Connection, clock: ManualClock, tmp_path: Path
) -> None:
    from tests.fixtures.smb import SMBFolder

    assert isinstance(smb_folder, SMBFolder)
    tree = Tree("smb", smb_folder.root, smb_folder.url, smb_folder.settings(db=tmp_path / "c.db"))
    tree.write("a/ok.mp4")
    tree.write("b/secret/hidden.mp4")
    tree.write("c/ok.mp4")
    (tree.root / "b/secret").chmod(0)
    source = tree.source()
    try:
        result = Scanner(conn, source, clock=clock).scan()
    finally:
        source.close()
        (tree.root / "b/secret").chmod(0o755)
    assert set(scan_rows(conn)) == {"a/ok.mp4", "c/ok.mp4"}
    assert result.status == "completed"


def test_rescan_detects_change_move_and_missing(tmp_path: Path, clock: ManualClock) -> None:
    root = tmp_path / "share"
    for i in range(30):
        (root / "keep").mkdir(parents=True, exist_ok=True)
        (root / "keep" / f"{i}.mp4").write_bytes(b"k")
    (root / "a").mkdir()
    (root / "a/moved.mp4").write_bytes(b"m" * 7)
    (root / "a/gone.mp4").write_bytes(b"g")
    (root / "a/changed.mp4").write_bytes(b"c")
    conn = db.connect(tmp_path / "c.db")
    source = LocalSource(root)
    scanner = Scanner(conn, source, clock=clock)
    scanner.scan()
    ids = {p: r.id for p, r in scan_rows(conn).items()}
    (root / "z").mkdir()
    os.rename(root / "a/moved.mp4", root / "z/moved.mp4")
    (root / "a/gone.mp4").unlink()
    (root / "a/changed.mp4").write_bytes(b"cc")
    clock.advance(60)
    result = scanner.scan()
    assert (result.moved, result.missing, result.changed, result.new) == (1, 1, 1, 0)
    rows = scan_rows(conn)
    assert rows["z/moved.mp4"].id == ids["a/moved.mp4"]
    assert rows["a/gone.mp4"].status == "missing"
    assert rows["a/changed.mp4"].probe_state == "pending"
    assert scanner.get_checkpoint() is not None
    conn.close()


class Flaky:
    """A local source whose listing dies after ``fail_after`` files (a dropped share)."""

    def __init__(self, inner: LocalSource, fail_after: int | None) -> None:
        self.inner = inner
        self.fail_after = fail_after
        self.name = inner.name

    def list_directory(self, path: str = "", recursive: bool = False) -> Iterator[FileInfo]:
        count = 0
        for info in self.inner.list_directory(path, recursive):
            if self.fail_after is not None and not info.is_dir:
                if count >= self.fail_after:
                    raise SourceUnavailable("share unreachable after 3 retries")
                count += 1
            yield info

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_unavailable_source_fails_cleanly_and_resume_completes(
    tmp_path: Path, clock: ManualClock
) -> None:
    root = tmp_path / "share"
    for i in range(100):
        (root / f"d{i % 4}").mkdir(parents=True, exist_ok=True)
        (root / f"d{i % 4}/{i:03d}.mp4").write_bytes(b"x")
    conn = db.connect(tmp_path / "c.db")
    first = Scanner(conn, LocalSource(root), clock=clock).scan()
    assert first.status == "completed"
    flaky: Source = Flaky(LocalSource(root), 37)  # type: ignore[assignment]
    scanner = Scanner(conn, flaky, batch_size=10, clock=clock)
    (root / "d0/new.mp4").write_bytes(b"n")
    with pytest.raises(SourceUnavailable):
        scanner.scan()
    status, message = conn.execute(
        "SELECT status, message FROM scans ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert status == "failed" and "unreachable" in message
    checkpoint = scanner.get_checkpoint()
    assert checkpoint is not None and checkpoint.status == "in_progress"
    assert checkpoint.processed_files == 30
    assert {r.status for r in scan_rows(conn).values()} == {"active"}  # nothing marked missing
    healed = Scanner(conn, LocalSource(root), batch_size=10, clock=clock)
    result = healed.scan(resume=True)
    assert result.resumed and result.status == "completed" and result.files_seen == 101
    assert len(scan_rows(conn)) == 101
    assert {r.status for r in scan_rows(conn).values()} == {"active"}
    conn.close()


def test_incremental_scan_writes_only_recent_files(tmp_path: Path, clock: ManualClock) -> None:
    root = tmp_path / "share"
    root.mkdir()
    old = root / "old.mp4"
    old.write_bytes(b"o")
    os.utime(old, (1_000_000, 1_000_000))
    conn = db.connect(tmp_path / "c.db")
    scanner = Scanner(conn, LocalSource(root), clock=clock)
    scanner.scan()
    (root / "new.mp4").write_bytes(b"n")
    result = scanner.incremental_scan(2_000_000.0)
    assert (result.kind, result.new, result.files_seen) == ("incremental", 1, 1)
    conn.close()


def test_scan_cli_without_source_is_a_one_line_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "archive_analyzer", "scan", "--db", str(tmp_path / "c.db")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")},
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error: no source given")
    assert len(done.stderr.strip().splitlines()) == 1


def test_moved_and_touched_file_keeps_its_id_and_is_reprobed(
    tmp_path: Path, clock: ManualClock
) -> None:
    root = tmp_path / "share"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    (root / "a/ep.mp4").write_bytes(b"e" * 9)
    conn = db.connect(tmp_path / "c.db")
    scanner = Scanner(conn, LocalSource(root), clock=clock)
    scanner.scan()
    with db.transaction(conn):
        row = repo.get_by_path(conn, str(root), "a/ep.mp4")
        assert row is not None
        repo.set_probe_state(conn, row.id, "done", "t", {})
    os.rename(root / "a/ep.mp4", root / "b/ep.mp4")
    os.utime(root / "b/ep.mp4", (1_800_000_000, 1_800_000_000))
    result = scanner.scan()
    assert (result.moved, result.changed, result.new, result.missing) == (1, 1, 0, 0)
    moved = repo.get_by_path(conn, str(root), "b/ep.mp4")
    assert moved is not None and moved.id == row.id and moved.probe_state == "pending"
    conn.close()
