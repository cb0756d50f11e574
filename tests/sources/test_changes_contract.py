"""The contract of ``sources.changes.Notifying`` (change notifications and upload completion),
run against both implementations: a local folder (inotify through watchdog) and a writable
share on the real smbd (SMB2 CHANGE_NOTIFY, share-mode opens). Writes go through the way the
source sees real uploads: the OS for a local folder, an SMB client for a share."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archive_analyzer.sources import Source
from archive_analyzer.sources.changes import (
    Change,
    ChangeKind,
    Completion,
    Notifying,
    WatchHealth,
    WatchStatus,
)
from archive_analyzer.sources.local import LocalSource
from archive_analyzer.sources.smb import SMBSource
from archive_analyzer.sources.url import SMBSpec, parse
from tests.fixtures.net import wait_for
from tests.fixtures.smb import SMBFolder
from tests.fixtures.uploads import FolderWriter

KOREAN = "한국 예선 2025"


class Recorder:
    """A ChangeSink that keeps everything it is told."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.changes_seen: list[Change] = []
        self.statuses: list[WatchStatus] = []

    def changes(self, batch: Sequence[Change]) -> None:
        with self._lock:
            self.changes_seen.extend(batch)

    def status(self, status: WatchStatus) -> None:
        with self._lock:
            self.statuses.append(status)

    def kinds_of(self, path: str) -> set[ChangeKind]:
        with self._lock:
            return {c.kind for c in self.changes_seen if c.path == path}

    def paths(self) -> set[str]:
        with self._lock:
            return {c.path for c in self.changes_seen}

    def health(self) -> WatchHealth | None:
        with self._lock:
            return self.statuses[-1].health if self.statuses else None


@dataclass(kw_only=True)
class Target(FolderWriter):
    kind: str
    source: Source

    @property
    def notifying(self) -> Notifying:
        assert isinstance(self.source, Notifying)
        return self.source


@pytest.fixture(params=["local", "smb", "smb-compat"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """A local folder; a writable share; the same share with stats, reads and upload checks
    through smbprotocol (the path taken when the lean connection cannot serve the server)."""
    if request.param == "local":
        root = Path(tempfile.mkdtemp(prefix="archive-notify-"))
        try:
            yield Target(kind="local", root=root, source=LocalSource(root))
        finally:
            shutil.rmtree(root, ignore_errors=True)
        return
    folder: SMBFolder = request.getfixturevalue("smb_upload_folder")
    spec = parse(folder.url)
    assert isinstance(spec, SMBSpec)
    compat = request.param == "smb-compat"
    source = SMBSource(spec, folder.options(), lean=not compat, fast_listing=not compat)
    uploader = folder.uploader()
    try:
        yield Target(kind="smb", root=folder.root, source=source, uploader=uploader)
    finally:
        uploader.close()
        source.close()


@contextlib.contextmanager
def watching(target: Target) -> Iterator[Recorder]:
    recorder = Recorder()
    watch = target.notifying.watch_changes(recorder)
    try:
        wait_for(lambda: recorder.health() is WatchHealth.ACTIVE, timeout=20, what="armed")
        yield recorder
    finally:
        watch.close()


def until(condition: Callable[[], Any], what: str) -> Any:
    return wait_for(condition, timeout=20, what=what)


def test_both_sources_notify(target: Target) -> None:
    assert isinstance(target.source, Notifying)


def test_arming_reports_active_and_asks_for_a_rescan(target: Target) -> None:
    with watching(target) as seen:
        until(lambda: ChangeKind.RESCAN in seen.kinds_of(""), "the rescan")
        assert seen.statuses[-1].mechanism


def test_uploads_renames_and_removals_are_reported_with_catalog_paths(target: Target) -> None:
    with watching(target) as seen:
        target.mkdir("WSOP/2025")
        target.put("WSOP/2025/Day 1.mp4", b"v" * 2000)
        until(lambda: seen.kinds_of("WSOP/2025/Day 1.mp4") & {ChangeKind.ADDED}, "added")
        target.rename("WSOP/2025/Day 1.mp4", "WSOP/2025/Day 1 (final).mp4")
        until(lambda: ChangeKind.RENAMED_TO in seen.kinds_of("WSOP/2025/Day 1 (final).mp4"),
              "renamed to")  # fmt: skip
        assert ChangeKind.RENAMED_FROM in seen.kinds_of("WSOP/2025/Day 1.mp4")
        target.remove("WSOP/2025/Day 1 (final).mp4")
        until(lambda: ChangeKind.REMOVED in seen.kinds_of("WSOP/2025/Day 1 (final).mp4"),
              "removed")  # fmt: skip


def test_housekeeping_entries_are_not_reported_and_names_are_nfc(target: Target) -> None:
    with watching(target) as seen:
        target.put(".DS_Store", b"junk")
        target.put("Thumbs.db", b"junk")
        nfd = unicodedata.normalize("NFD", KOREAN)
        target.put(f"{nfd}.mp4", b"k" * 100)
        until(lambda: f"{KOREAN}.mp4" in seen.paths(), "the Korean name in NFC")
        assert not {".DS_Store", "Thumbs.db"} & seen.paths()
        assert all(unicodedata.is_normalized("NFC", p) for p in seen.paths())


def test_closing_stops_the_reports(target: Target) -> None:
    recorder = Recorder()
    watch = target.notifying.watch_changes(recorder)
    until(lambda: recorder.health() is WatchHealth.ACTIVE, "armed")
    watch.close()
    assert recorder.health() is WatchHealth.STOPPED
    assert watch.status.health is WatchHealth.STOPPED
    before = len(recorder.changes_seen)
    target.put("after.mp4", b"a")
    target.put("after2.mp4", b"b")  # one more round trip: a late report would be in by now
    assert len(recorder.changes_seen) == before
    watch.close()  # idempotent


def test_upload_states_tell_open_files_from_complete_ones(target: Target) -> None:
    source = target.notifying
    with target.writing("open.mp4") as handle:
        handle.write(b"o" * 5000)
        handle.flush()
        target.put("done.mp4", b"d" * 5000)
        states = source.upload_states(["open.mp4", "done.mp4", "nothing here.mp4"])
        assert states == {
            "open.mp4": Completion.OPEN,
            "done.mp4": Completion.COMPLETE,
            "nothing here.mp4": Completion.GONE,
        }
    assert source.upload_states(["open.mp4"]) == {"open.mp4": Completion.COMPLETE}
    # the check held nothing: the writer can open the file again at once
    with target.writing("open.mp4") as handle:
        handle.write(b"again")


def test_upload_states_find_names_spelled_in_nfd(target: Target) -> None:
    nfd = unicodedata.normalize("NFD", KOREAN)
    target.put(f"{nfd}.mp4", b"k" * 100)
    assert target.notifying.upload_states([f"{KOREAN}.mp4"]) == {
        f"{KOREAN}.mp4": Completion.COMPLETE
    }
