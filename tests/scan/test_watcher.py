"""The watcher against a local folder and the real Samba share, polls driven by hand."""

from __future__ import annotations

import os
import shutil
import sqlite3
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive_analyzer import pipeline
from archive_analyzer.catalog import db
from archive_analyzer.catalog import files as repo
from archive_analyzer.scan.watcher import WatchState
from archive_analyzer.sources import Source
from archive_analyzer.sources.base import FileInfo
from tests.scan.conftest import ManualClock, Tree, make_settings


class Watch:
    """One watcher: a source, a state, a clock; ``poll()`` is one poll."""

    def __init__(self, tree: Tree, conn: sqlite3.Connection, clock: ManualClock) -> None:
        self.tree = tree
        self.conn = conn
        self.clock = clock
        self.source: Source = tree.source()
        self.state = WatchState()
        self.jobs: list[pipeline.ProbeJob] = []

    def poll(self, advance: float = 5.0) -> pipeline.PollSummary:
        self.clock.advance(advance)
        summary = pipeline.poll_once(
            self.conn, self.source, self.tree.settings, self.state, now=self.clock
        )
        self.jobs.extend(summary.jobs)
        return summary

    def restart(self) -> None:
        self.source.close()
        self.source = self.tree.source()
        self.state = WatchState()

    def row(self, path: str) -> repo.FileRow:
        found = repo.get_by_path(self.conn, self.source.name, path)
        assert found is not None, path
        return found

    def probed(self, *paths: str) -> None:
        """Pretend the jobs for ``paths`` were probed (the probe itself is tested elsewhere)."""
        with db.transaction(self.conn):
            for path in paths:
                repo.set_probe_state(self.conn, self.row(path).id, "done", "t", {})

    def events(self, file_id: str) -> list[str]:
        cursor = self.conn.execute(
            "SELECT kind FROM file_events WHERE file = ? ORDER BY id", (file_id,)
        )
        return [r[0] for r in cursor]


@pytest.fixture
def watch(tree: Tree, conn: sqlite3.Connection, clock: ManualClock) -> Iterator[Watch]:
    w = Watch(tree, conn, clock)
    try:
        yield w
    finally:
        w.source.close()


def test_new_file_is_incoming_then_probed_once_stable(watch: Watch, tree: Tree) -> None:
    tree.write("HCL/2025/20250611 - Nik Airball, Sashimi.mp4", b"a" * 100)
    first = watch.poll()
    assert first.poll.new == 1 and not first.jobs
    assert watch.row("HCL/2025/20250611 - Nik Airball, Sashimi.mp4").status == "incoming"
    second = watch.poll()
    assert [j.path for j in second.jobs] == ["HCL/2025/20250611 - Nik Airball, Sashimi.mp4"]
    assert watch.row("HCL/2025/20250611 - Nik Airball, Sashimi.mp4").status == "active"
    assert not watch.poll().jobs


def test_modified_file_is_reprobed_with_history(watch: Watch, tree: Tree) -> None:
    path = tree.write("PAD/PAD S12/PAD S12 EP05.mp4", b"a" * 100)
    watch.poll(), watch.poll()
    watch.probed("PAD/PAD S12/PAD S12 EP05.mp4")
    before = watch.row("PAD/PAD S12/PAD S12 EP05.mp4")
    path.write_bytes(b"b" * 200)
    os.utime(path, (before.mtime + 10, before.mtime + 10))
    changed = watch.poll()
    assert changed.poll.changed == 1 and not changed.jobs
    row = watch.row("PAD/PAD S12/PAD S12 EP05.mp4")
    assert (row.id, row.status, row.probe_state, row.size) == (
        before.id,
        "incoming",
        "pending",
        200,
    )
    assert [j.size for j in watch.poll().jobs] == [200]
    assert watch.events(row.id) == ["new", "stable", "probed", "changed", "stable"]


def test_rename_and_move_across_folders_keep_the_id(watch: Watch, tree: Tree) -> None:
    tree.write("WSOP/2024/a.mp4", b"a" * 10)
    tree.mkdir("WSOP/2025")
    watch.poll(), watch.poll()
    watch.probed("WSOP/2024/a.mp4")
    original = watch.row("WSOP/2024/a.mp4")
    os.rename(tree.root / "WSOP/2024/a.mp4", tree.root / "WSOP/2024/b.mp4")
    assert watch.poll().poll.moved == 1
    os.rename(tree.root / "WSOP/2024/b.mp4", tree.root / "WSOP/2025/b.mp4")
    summary = watch.poll()
    assert summary.poll.moved == 1 and summary.poll.missing == 0 and not summary.jobs
    row = watch.row("WSOP/2025/b.mp4")
    assert (row.id, row.status, row.probe_state) == (original.id, "active", "done")
    assert watch.events(row.id)[-2:] == ["moved", "moved"]


def test_deleted_missing_then_deleted_after_grace_and_restored(watch: Watch, tree: Tree) -> None:
    keep = [tree.write(f"k/{i}.mp4", b"k") for i in range(3)]
    gone = tree.write("x/gone.mp4", b"g" * 5)
    watch.poll(), watch.poll()
    known = watch.row("x/gone.mp4")
    saved = gone.read_bytes(), gone.stat().st_mtime_ns
    gone.unlink()
    assert watch.poll().poll.missing == 1
    assert watch.row("x/gone.mp4").status == "missing"
    watch.poll(advance=1800)
    assert watch.row("x/gone.mp4").status == "missing"
    assert watch.poll(advance=1900).poll.deleted == 1
    assert watch.row("x/gone.mp4").status == "deleted"
    content = watch.conn.execute(
        "SELECT status FROM contents WHERE file_id = ?", (known.id,)
    ).fetchone()
    assert content is not None and content[0] == "deleted"  # retired by the catalog model
    tree.write("x/gone.mp4", saved[0])
    os.utime(gone, ns=(saved[1], saved[1]))  # exact: a float would round to another tick
    restored = watch.poll()
    assert restored.poll.restored == 1
    row = watch.row("x/gone.mp4")
    assert (row.id, row.status) == (known.id, "active")
    assert all(watch.row(f"k/{i}.mp4").status == "active" for i in range(len(keep)))


def test_upload_grown_in_steps_is_probed_once_at_its_final_size(watch: Watch, tree: Tree) -> None:
    path = tree.write("HCL/2025/upload.mp4", b"\0" * 1000)
    for step in range(2, 6):
        watch.poll()
        with path.open("ab") as handle:
            handle.write(b"\1" * 1000)
        os.utime(path, (1_700_000_000 + step, 1_700_000_000 + step))
        assert watch.row("HCL/2025/upload.mp4").status == "incoming"
    for _ in range(3):
        watch.poll()
    assert [(j.path, j.size) for j in watch.jobs] == [("HCL/2025/upload.mp4", 5000)]


def test_part_upload_renamed_when_done_is_probed_under_its_name(watch: Watch, tree: Tree) -> None:
    tree.write("PAD/PAD S13/EP01.mp4.part", b"p" * 300)
    watch.poll(), watch.poll(), watch.poll()
    assert not watch.jobs and watch.row("PAD/PAD S13/EP01.mp4.part").status == "incoming"
    part_id = watch.row("PAD/PAD S13/EP01.mp4.part").id
    os.rename(tree.root / "PAD/PAD S13/EP01.mp4.part", tree.root / "PAD/PAD S13/EP01.mp4")
    summary = watch.poll()
    assert summary.poll.moved == 1
    assert [(j.file_id, j.path) for j in summary.jobs] == [(part_id, "PAD/PAD S13/EP01.mp4")]


def test_root_renamed_away_marks_nothing_missing(watch: Watch, tree: Tree) -> None:
    for i in range(4):
        tree.write(f"WSOP/{i}.mp4", b"w")
    watch.poll(), watch.poll()
    moved_away = tree.root.with_name(tree.root.name + "-away")
    tree.root.rename(moved_away)
    try:
        summary = watch.poll()
        assert summary.poll.status == "suspect" and summary.poll.missing == 0
    finally:
        moved_away.rename(tree.root)
    assert watch.poll().poll.status == "completed"
    statuses = {r.status for r in repo.load(watch.conn, watch.source.name).values()}
    assert statuses == {"active"}


def test_emptied_root_marks_nothing_missing(watch: Watch, tree: Tree) -> None:
    for i in range(4):
        tree.write(f"WSOP/{i}.mp4", b"w")
    watch.poll()
    shutil.rmtree(tree.root / "WSOP")
    summary = watch.poll()
    assert summary.poll.status == "suspect" and summary.poll.missing == 0
    assert {r.status for r in repo.load(watch.conn, watch.source.name).values()} == {"incoming"}


def test_nfd_name_after_nfc_is_the_same_file(watch: Watch, tree: Tree) -> None:
    nfc = "WSOP/WSOP 2003 - 복사본/WSOP 2003 Main Event.mp4"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    path = tree.write(nfc, b"k" * 50)
    watch.poll(), watch.poll()
    original = watch.row(nfc)
    os.rename(
        tree.root / "WSOP/WSOP 2003 - 복사본",
        tree.root / unicodedata.normalize("NFD", "WSOP/WSOP 2003 - 복사본"),
    )
    assert not path.exists()
    summary = watch.poll()
    assert summary.changes == 0 and not summary.jobs
    assert watch.row(nfc).id == original.id


def test_restart_resumes_from_the_catalog_without_reprobing(watch: Watch, tree: Tree) -> None:
    tree.write("a/done.mp4", b"d")
    tree.write("a/pending.mp4", b"p")
    watch.poll(), watch.poll()
    watch.probed("a/done.mp4")
    watch.restart()
    first = watch.poll()
    assert first.changes == 0
    assert [j.path for j in first.jobs] == ["a/pending.mp4"]  # offered again, never the done one
    assert not watch.poll().jobs


def test_mass_move_of_a_brand_folder_keeps_every_id(watch: Watch, tree: Tree) -> None:
    count = 1100
    for i in range(count):
        tree.write(f"WSOP/WSOP-BR/Day {i // 100}/clip {i:04d}.mp4", str(i).encode())
    tree.write("HCL/other.mp4", b"o")
    watch.poll(), watch.poll()
    before = {r.path: r.id for r in repo.load(watch.conn, watch.source.name).values()}
    (tree.root / "ARCHIVE").mkdir()
    if tree.kind == "smb":
        (tree.root / "ARCHIVE").chmod(0o755)
    os.rename(tree.root / "WSOP", tree.root / "ARCHIVE/WSOP")
    summary = watch.poll()
    assert summary.poll.moved == count and summary.poll.missing == 0 and summary.poll.new == 0
    after = {r.path: r.id for r in repo.load(watch.conn, watch.source.name).values()}
    assert {after[f"ARCHIVE/{p}" if p.startswith("WSOP") else p] for p in before} == set(
        before.values()
    )


class NoIds:
    """A source whose server gives no file ids (moves must be found by fingerprint)."""

    def __init__(self, inner: Source) -> None:
        self.inner = inner
        self.name = inner.name

    def list_directory(self, path: str = "", recursive: bool = False) -> Iterator[FileInfo]:
        for info in self.inner.list_directory(path, recursive):
            yield FileInfo(info.path, info.size, info.mtime, None, info.is_dir)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_rename_without_server_ids_is_found_by_fingerprint(watch: Watch, tree: Tree) -> None:
    watch.source = NoIds(watch.source)  # type: ignore[assignment]
    big = bytes(range(256)) * 1024  # 256 KiB: head and tail fingerprints differ from the middle
    tree.write("HCL/2025/a.mp4", big)
    tree.write("HCL/2025/same size other content.mp4", big[::-1])
    watch.poll(), watch.poll()
    row = watch.row("HCL/2025/a.mp4")
    assert row.file_id is None and row.fingerprint is not None
    os.rename(tree.root / "HCL/2025/a.mp4", tree.root / "HCL/2025/b.mp4")
    summary = watch.poll()
    assert (summary.poll.moved, summary.poll.new, summary.poll.missing) == (1, 0, 0)
    assert watch.row("HCL/2025/b.mp4").id == row.id


def test_quiet_polls_reuse_the_rows_until_anyone_writes(
    watch: Watch, tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree.write("a/x.mp4", b"x")
    tree.write("a/y.mp4", b"y")
    watch.poll(), watch.poll(), watch.poll()
    loads: list[str] = []
    real_load = repo.load
    monkeypatch.setattr(
        repo, "load", lambda conn, source: loads.append(source) or real_load(conn, source)
    )
    watch.poll(), watch.poll()
    assert loads == []  # nothing changed anywhere: the rows of the last quiet poll are reused
    watch.probed("a/x.mp4")  # a write on the watcher's own connection
    watch.poll()
    assert len(loads) == 1
    watch.poll()
    assert len(loads) == 1
    other = db.connect(tree.settings.db)  # a write by another connection (another process)
    try:
        with db.transaction(other):
            other.execute("UPDATE files SET size = 99, updated_at = 'z' WHERE path = 'a/y.mp4'")
    finally:
        other.close()
    summary = watch.poll()
    assert len(loads) == 2 and summary.poll.changed == 1  # saw the other writer's change


# --- mass vanish confirmation (settings.vanish_confirm_s, default 1 h) -----------------------


@pytest.fixture
def local_watch(tmp_path: Path, conn: sqlite3.Connection, clock: ManualClock) -> Iterator[Watch]:
    root = tmp_path / "share"
    root.mkdir()
    tree = Tree("local", root, str(root), make_settings(tmp_path / "catalog.db", source=str(root)))
    w = Watch(tree, conn, clock)
    try:
        yield w
    finally:
        w.source.close()


def _brand_archive(watch: Watch) -> None:
    """30 WSOP files (the brand folder that goes away) and 10 HCL files (the rest), settled."""
    for i in range(30):
        watch.tree.write(f"WSOP/2025/EP{i:02d}.mp4", b"w" * (i + 1))
    for i in range(10):
        watch.tree.write(f"HCL/2025/EP{i:02d}.mp4", b"h" * (i + 1))
    watch.poll(), watch.poll()


def _statuses(watch: Watch) -> dict[str, str]:
    rows = repo.load(watch.conn, watch.source.name).values()
    return {r.path: r.status for r in rows}


def test_real_mass_removal_is_marked_missing_after_the_window(
    local_watch: Watch, tmp_path: Path
) -> None:
    watch = local_watch
    _brand_archive(watch)
    ids = {p: watch.row(p).id for p in _statuses(watch) if p.startswith("WSOP/")}
    shutil.move(watch.tree.root / "WSOP", tmp_path / "moved-off-the-share")
    first = watch.poll()
    assert first.poll.status == "suspect" and first.poll.missing == 0
    assert first.poll.message and "3600 s" in first.poll.message
    for _ in range(3):  # 20 minutes apart: still inside the window
        summary = watch.poll(advance=1200 - 5)
        assert summary.poll.status == "suspect" and summary.poll.missing == 0
    watch.tree.write("HCL/2025/EP99.mp4", b"new")  # uploads elsewhere do not reset the wait
    confirmed = watch.poll(advance=60)
    assert confirmed.poll.status == "completed" and confirmed.poll.missing == 30
    assert confirmed.poll.message and "accepted as deleted" in confirmed.poll.message
    statuses = _statuses(watch)
    assert {statuses[p] for p in ids} == {"missing"}
    assert {s for p, s in statuses.items() if p.startswith("HCL/")} <= {"active", "incoming"}
    # ... and deleted (soft, same rows) after the normal grace period (1 h in these settings).
    watch.poll(advance=1800)
    assert {_statuses(watch)[p] for p in ids} == {"missing"}
    later = watch.poll(advance=1800)
    assert later.poll.deleted == 30
    assert {repo.get(watch.conn, i).status for i in ids.values()} == {"deleted"}  # type: ignore[union-attr]


def test_files_back_within_the_window_cancel_it(local_watch: Watch, tmp_path: Path) -> None:
    watch = local_watch
    _brand_archive(watch)
    away = tmp_path / "away"
    shutil.move(watch.tree.root / "WSOP", away)
    assert watch.poll().poll.status == "suspect"
    assert watch.poll(advance=3000).poll.status == "suspect"
    shutil.move(away, watch.tree.root / "WSOP")
    back = watch.poll(advance=60)
    assert back.poll.status == "completed" and back.poll.missing == 0
    assert watch.state.pending_vanish is None
    # Gone again: a fresh wait, so 40 minutes later it is still only suspect.
    shutil.move(watch.tree.root / "WSOP", away)
    assert watch.poll(advance=60).poll.status == "suspect"
    assert watch.poll(advance=2400).poll.status == "suspect"
    assert set(_statuses(watch).values()) == {"active"}


def test_blips_during_the_window_never_mark_anything(local_watch: Watch, tmp_path: Path) -> None:
    watch = local_watch
    _brand_archive(watch)
    root = watch.tree.root
    away = tmp_path / "away"
    shutil.move(root / "WSOP", away)
    assert watch.poll().poll.status == "suspect"
    # The root renamed away (listing fails) half-way through, then back: the wait restarts.
    root.rename(tmp_path / "root-away")
    assert watch.poll(advance=1800).poll.status == "suspect"
    (tmp_path / "root-away").rename(root)
    assert watch.poll(advance=1800).poll.status == "suspect"  # 1 h after the first sighting
    assert watch.poll(advance=1800).poll.status == "suspect"  # 30 min into the new wait
    # The root empty for hours (share emptied): never confirmed, whatever the time.
    hcl = tmp_path / "hcl"
    shutil.move(root / "HCL", hcl)
    for _ in range(4):
        summary = watch.poll(advance=3600)
        assert summary.poll.status == "suspect" and summary.poll.missing == 0
    shutil.move(hcl, root / "HCL")
    shutil.move(away, root / "WSOP")
    assert watch.poll(advance=60).poll.status == "completed"
    assert set(_statuses(watch).values()) == {"active"}
