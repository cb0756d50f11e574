"""Change notifications beside the poll (issue 19), end to end through ``pipeline.watch``:
against the real smbd with a writable share (uploads through SMB) and a local folder with
inotify. The poll interval is ten minutes, so whatever happens after the first polls is the
notifications' doing; the poll count proves it. The real inotify overflow needs a watch that
does not read its queue, so that test runs ``archive-analyzer watch`` in a process of its own
and stops it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archive_analyzer import pipeline
from archive_analyzer.catalog import db
from archive_analyzer.config import Settings
from archive_analyzer.sources import Source
from archive_analyzer.sources.smb import SMBSource
from archive_analyzer.sources.smb_notify import WatchOptions
from archive_analyzer.sources.url import SMBSpec, parse
from tests.fixtures.net import wait_for
from tests.fixtures.smb import SambaServer, SMBFolder, Uploader, smb_options
from tests.fixtures.uploads import FolderWriter

LONG_POLL = 600.0


@dataclass(kw_only=True)
class Live(FolderWriter):
    """A watched folder: write into it like an editor would, read the catalog."""

    kind: str
    settings: Settings
    server: SambaServer | None = None

    # --- reading the catalog -------------------------------------------------------------

    def query(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        try:
            conn = sqlite3.connect(f"file:{self.settings.db}?mode=ro", uri=True, timeout=5)
        except sqlite3.OperationalError:  # not created yet
            return []
        conn.row_factory = sqlite3.Row
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError:  # not migrated yet
            return []
        finally:
            conn.close()

    def row(self, path: str) -> sqlite3.Row | None:
        rows = self.query("SELECT * FROM files WHERE path = ?", path)
        return rows[0] if rows else None

    def polls(self) -> int:
        rows = self.query("SELECT count(*) FROM scans WHERE kind = 'poll'")
        return int(rows[0][0]) if rows else 0

    def now(self) -> str:
        """The catalog's timestamp of this moment."""
        return db.timestamp(db.utc_now())

    def polls_since(self, stamp: str) -> int:
        """Polls that began at or after ``stamp``: any of them could have seen a change made
        after it (a start-up poll still running at ``stamp`` could not)."""
        sql = "SELECT count(*) FROM scans WHERE kind = 'poll' AND started_at >= ?"
        rows = self.query(sql, stamp)
        return int(rows[0][0]) if rows else 0

    def notify(self) -> sqlite3.Row | None:
        rows = self.query("SELECT * FROM notify_state")
        return rows[0] if rows else None

    def state(self, key: str) -> Any:
        """One column of the source's ``notify_state`` row (None before it exists)."""
        row = self.notify()
        return None if row is None else row[key]

    def status_of(self, path: str) -> str | None:
        row = self.row(path)
        return None if row is None else str(row["status"])

    def wait(self, condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
        return wait_for(condition, timeout=timeout, what=what)

    def active_and_probed(self, path: str) -> bool:
        row = self.row(path)
        return row is not None and row["status"] == "active" and row["probe_state"] == "done"

    def watching(self) -> bool:
        state = self.notify()
        return state is not None and state["health"] == "active"


@contextlib.contextmanager
def running(live: Live, source: Source | None = None, *, steady: bool = True) -> Iterator[None]:
    """``pipeline.watch`` in a thread until the block ends; waits for the watch to be armed
    and (``steady``: with the long poll interval) for the polls it asks for at start."""
    stop = threading.Event()
    failure: list[BaseException] = []

    def target() -> None:
        try:
            pipeline.watch(live.settings, stop=stop, source=source)
        except BaseException as exc:  # shown by the test, not lost in the thread
            failure.append(exc)

    thread = threading.Thread(target=target, name="watch-under-test", daemon=True)
    thread.start()
    try:
        live.wait(live.watching, "the watch to be armed")
        if steady:
            settle_polls(live)
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive(), "the watch did not stop"
    assert not failure, failure


def settle_polls(live: Live) -> None:
    """Wait until the start-up polls are done (the count stays put for a while)."""
    seen: list[int] = []

    def steady() -> bool:
        seen.append(live.polls())
        return len(seen) > 40 and seen[-1] >= 1 and len(set(seen[-40:])) == 1

    live.wait(steady, "the start-up polls")


def _settings(db: Path, **values: Any) -> dict[str, Any]:
    return {
        "db": db,
        "poll_interval_s": LONG_POLL,
        "notify_settle_s": 0.3,
        "missing_grace_s": 3600.0,
        **values,
    }


@pytest.fixture(params=["local", "smb"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    """A watched folder: a local one (inotify), then one on the writable Samba share."""
    db_path = tmp_path / "catalog.db"
    if request.param == "local":
        root = tmp_path / "share"
        root.mkdir()
        yield Live(
            kind="local", root=root, settings=Settings(**_settings(db_path, source=str(root)))
        )
        return
    folder: SMBFolder = request.getfixturevalue("smb_upload_folder")
    uploader = folder.uploader()
    try:
        settings = folder.settings(**_settings(db_path, source=folder.url))
        yield Live(kind="smb", root=folder.root, settings=settings, uploader=uploader,
                   server=folder.server)  # fmt: skip
    finally:
        uploader.close()


def test_an_upload_is_active_and_probed_before_any_poll_could_see_it(
    live: Live, corpus: dict[str, Path]
) -> None:
    with running(live):
        since = live.now()
        live.mkdir("WSOP/2025")
        live.put("WSOP/2025/Main Event Day 1.mkv", corpus["mkv"].read_bytes())
        live.wait(lambda: live.active_and_probed("WSOP/2025/Main Event Day 1.mkv"), "the probe")
        assert live.polls_since(since) == 0  # the notification did it, not a poll
        state = live.notify()
        assert state is not None and state["events"] >= 1 and state["last_event_at"]
        assert "Main Event Day 1.mkv" in (state["last_event"] or "")


def test_a_file_held_open_by_a_writer_stays_incoming_until_it_is_closed(
    live: Live, corpus: dict[str, Path]
) -> None:
    data = corpus["mp4_faststart"].read_bytes()
    with running(live):
        since = live.now()
        with live.writing("Upload.mp4") as handle:
            handle.write(data[: len(data) // 2])
            handle.flush()
            row = live.wait(lambda: live.row("Upload.mp4"), "the row")
            assert row["status"] == "incoming"
            rounds = int(live.state("rounds"))
            # checked again and again while open (settle 0.3 s, doubling): still incoming
            live.wait(lambda: int(live.state("rounds")) >= rounds + 2, "re-checks")
            row = live.row("Upload.mp4")
            assert row is not None and row["status"] == "incoming"
            handle.write(data[len(data) // 2 :])
        live.wait(lambda: live.active_and_probed("Upload.mp4"), "the probe after closing")
        row = live.row("Upload.mp4")
        assert row is not None and row["size"] == len(data)
        assert live.polls_since(since) == 0


def test_a_rename_and_a_move_keep_the_id(live: Live) -> None:
    with running(live):
        live.mkdir("Inbox")
        live.mkdir("HCL/2025")
        live.put("Inbox/clip.mp4", b"v" * 5000)
        live.wait(lambda: live.status_of("Inbox/clip.mp4") == "active", "the upload")
        first = live.row("Inbox/clip.mp4")
        assert first is not None
        since = live.now()
        live.rename("Inbox/clip.mp4", "Inbox/HCL 2025 Ep 1.mp4")
        live.wait(lambda: live.row("Inbox/HCL 2025 Ep 1.mp4"), "the rename")
        live.rename("Inbox/HCL 2025 Ep 1.mp4", "HCL/2025/HCL 2025 Ep 1.mp4")
        moved = live.wait(lambda: live.row("HCL/2025/HCL 2025 Ep 1.mp4"), "the move")
        assert moved["id"] == first["id"] and moved["status"] == "active"
        assert live.row("Inbox/clip.mp4") is None and live.row("Inbox/HCL 2025 Ep 1.mp4") is None
        kinds = [r["kind"] for r in live.query(
            "SELECT kind FROM file_events WHERE file = ? ORDER BY id", first["id"])]  # fmt: skip
        assert kinds.count("moved") == 2 and "missing" not in kinds
        assert live.polls_since(since) == 0


def test_a_folder_moved_in_keeps_its_files_ids(live: Live) -> None:
    with running(live):
        live.mkdir("Staging/Day 1")
        live.put("Staging/Day 1/a.mp4", b"a" * 3000)
        live.put("Staging/Day 1/b.mp4", b"b" * 4000)
        ids = {}
        for name in ("a.mp4", "b.mp4"):
            row = live.wait(lambda n=name: live.row(f"Staging/Day 1/{n}"), name)
            ids[name] = row["id"]
        live.mkdir("WSOP")
        live.rename("Staging/Day 1", "WSOP/Day 1")
        for name in ("a.mp4", "b.mp4"):
            row = live.wait(lambda n=name: live.row(f"WSOP/Day 1/{n}"), f"moved {name}")
            assert row["id"] == ids[name]


def test_a_deletion_is_left_to_the_poll_with_its_usual_rules(live: Live) -> None:
    with running(live):
        for i in range(12):
            live.put(f"f{i:02}.mp4", b"x" * (1000 + i))
        live.wait(lambda: len(live.query("SELECT 1 FROM files WHERE status = 'active'")) == 12,
                  "12 active")  # fmt: skip
        polls = live.polls()
        live.remove("f00.mp4")
        # the round sees it gone and asks for a poll; the poll marks it missing (grace period)
        live.wait(lambda: live.status_of("f00.mp4") == "missing", "missing")
        assert live.polls() > polls
        # mass-vanish protection is unchanged: 10 of 11 at once is suspect, nothing marked
        polls = live.polls()
        for i in range(1, 11):
            live.remove(f"f{i:02}.mp4")
        suspect = "SELECT 1 FROM scans WHERE kind = 'poll' AND status = 'suspect'"
        live.wait(lambda: live.query(suspect), "a suspect poll")
        assert live.polls() > polls
        present = live.query("SELECT count(*) FROM files WHERE status = 'active'")[0][0]
        assert present == 11


@pytest.mark.parametrize("live", ["smb"], indirect=True)  # local: the real overflow below
def test_an_overflow_leads_to_a_poll_that_finds_everything(live: Live) -> None:
    # A notify buffer too small for even one entry: every answer is
    # STATUS_NOTIFY_ENUM_DIR, the server's "too much happened" (its buffer overflowed).
    spec = parse(live.settings.source or "")
    assert isinstance(spec, SMBSpec) and live.server is not None
    options = smb_options(live.server)
    source = SMBSource(spec, options, watch_options=WatchOptions(buffer_bytes=8))
    with running(live, source):
        polls = live.polls()
        rescans = int(live.state("rescans"))
        names = [f"burst/{i:03}.mp4" for i in range(30)]
        live.mkdir("burst")
        for name in names:
            live.put(name, b"z" * 2000)
        live.wait(lambda: all(live.row(n) is not None for n in names), "every file")
        assert live.polls() > polls
        state = live.notify()
        assert state is not None and int(state["rescans"]) > rescans


def _stopped(pid: int) -> bool:
    """True once every thread of process ``pid`` is stopped (state T in /proc)."""
    try:
        stats = [(task / "stat").read_text() for task in Path(f"/proc/{pid}/task").iterdir()]
    except FileNotFoundError:  # a thread ended meanwhile: look again
        return False
    return bool(stats) and all(stat.rsplit(")", 1)[1].split()[0] == "T" for stat in stats)


@dataclass
class WatchProcess:
    """``archive-analyzer watch`` in a process of its own, its log in a file."""

    proc: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self, condition: Callable[[], Any]) -> Callable[[], Any]:
        """``condition``, failing at once (with the log) when the process has ended."""

        def check() -> Any:
            assert self.proc.poll() is None, f"the watch exited:\n{self.text()}"
            return condition()

        return check


@contextlib.contextmanager
def watch_process(live: Live, tmp_path: Path) -> Iterator[WatchProcess]:
    """``archive-analyzer watch`` of ``live``'s folder with the settings of ``_settings``;
    waits for the watch to be armed and the start-up polls to be done."""
    (tmp_path / "none.toml").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env.update({
        "ARCHIVE_CONFIG": str(tmp_path / "none.toml"),
        "ARCHIVE_NOTIFY_SETTLE_S": str(live.settings.notify_settle_s),
        "ARCHIVE_MISSING_GRACE_S": str(live.settings.missing_grace_s),
        "PYTHONUNBUFFERED": "1",
    })  # fmt: skip
    log_path = tmp_path / "watch.log"
    args = ["watch", str(live.root), "--db", str(live.settings.db),
            "--interval", str(live.settings.poll_interval_s)]  # fmt: skip
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "archive_analyzer", *args], env=env,
                                stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    watch = WatchProcess(proc, log_path)
    try:
        live.wait(watch.alive(live.watching), "the watch to be armed")
        settle_polls(live)
        yield watch
    finally:
        proc.send_signal(signal.SIGCONT)  # harmless when it runs
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_a_real_inotify_overflow_leads_to_a_poll_that_finds_everything(tmp_path: Path) -> None:
    """A real IN_Q_OVERFLOW. The kernel queues at most ``max_queued_events`` events per inotify
    instance (a per-instance limit, no system setting to change); what comes while the queue
    is full is dropped, and the reader gets one IN_Q_OVERFLOW instead. So the watch runs in a
    process of its own, stopped (SIGSTOP) once armed while more writes than the queue holds
    are made and then folders of files appear whose events the kernel drops. Resumed, watchdog
    reads the overflow, ``LocalWatch`` asks for a rescan, and its poll finds every file: the
    poll interval is ten minutes, so no regular poll runs meanwhile."""
    root = tmp_path / "share"
    root.mkdir()
    settings = Settings(**_settings(tmp_path / "catalog.db", source=str(root)))
    live = Live(kind="local", root=root, settings=settings)
    limit = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    writes = limit + 1000
    started = time.monotonic()
    with watch_process(live, tmp_path) as watch:
        since = live.now()
        rescans = int(live.state("rescans"))
        watch.proc.send_signal(signal.SIGSTOP)
        try:
            live.wait(lambda: _stopped(watch.proc.pid), "the watching process to stop")
            # Writes taking turns between files: no two queued events in a row are alike, so
            # the kernel merges none. In the root: a folder made now has no watch yet
            # (watchdog adds one when it reads the folder's creation).
            parts = [(root / f"part {i:02}.bin").open("wb", buffering=0) for i in range(16)]
            for i in range(writes):
                parts[i % len(parts)].write(b"x")
            for part in parts:
                part.close()
            # The queue is full: these folders' creation is lost, only a rescan finds them.
            late = [f"late/{d}/{i:03}.srt" for d in ("a", "b/c") for i in range(100)]
            for name in late:
                live.put(name, name.encode())
        finally:
            watch.proc.send_signal(signal.SIGCONT)
        sizes = {f"part {i:02}.bin": len(range(i, writes, 16)) for i in range(16)}
        sizes.update({name: len(name.encode()) for name in late})

        def everything() -> bool:
            rows = live.query("SELECT path, size FROM files WHERE status != 'missing'")
            return {r["path"]: r["size"] for r in rows} == sizes

        live.wait(watch.alive(everything), "every file at its final size", timeout=120)
        text = watch.text()
        assert "WARNING watchdog.observers.inotify_c: Inotify queue overflowed" in text, text
        assert f"change notifications for {root} overflowed: rescanning" in text, text
        assert int(live.state("rescans")) > rescans
        assert live.polls_since(since) >= 1  # the rescan's
        assert time.monotonic() - started < LONG_POLL  # so no regular poll could have run


def test_a_change_the_watch_cannot_see_is_found_by_the_poll(tmp_path: Path) -> None:
    """Samba reports changes made on its own disk only with kernel change notify; without it
    (or on a NAS whose tools bypass Samba) only the poll finds them."""
    server = SambaServer(writable=True, extra_global="    kernel change notify = no")
    server.start()
    try:
        folder = server.new_folder()
        settings = folder.settings(**_settings(tmp_path / "c.db", source=folder.url,
                                               poll_interval_s=2.0))  # fmt: skip
        live = Live(kind="smb", root=folder.root, settings=settings)
        with running(live, steady=False):  # polls every 2 s: they never hold still
            polls = live.polls()
            target = folder.root / "direct.mp4"
            target.write_bytes(b"d" * 1234)
            target.chmod(0o644)
            live.wait(lambda: live.row("direct.mp4"), "the poll to find it")
            assert live.polls() > polls
            assert live.status_of("direct.mp4") == "incoming"
            # what only the poll saw settles by the two-poll rule
            live.wait(lambda: live.status_of("direct.mp4") == "active", "settled")
    finally:
        server.close()


def test_a_samba_restart_rearms_the_watch(tmp_path: Path) -> None:
    server = SambaServer(writable=True)
    server.start()
    uploader: Uploader | None = None
    try:
        folder = server.new_folder()
        settings = folder.settings(**_settings(tmp_path / "c.db", source=folder.url))
        live = Live(kind="smb", root=folder.root, settings=settings)
        with running(live):
            before = live.polls()
            server.restart()
            live.wait(lambda: live.state("health") != "active", "the loss to be noticed")
            live.wait(live.watching, "the watch to be armed again")
            # the re-armed watch asks for a poll (what happened meanwhile is unknown)
            live.wait(lambda: live.polls() > before, "the poll the re-armed watch asks for")
            settle_polls(live)
            since = live.now()
            uploader = folder.uploader()
            uploader.put("after restart.mp4", b"r" * 3000)
            live.wait(lambda: live.status_of("after restart.mp4") == "active", "the upload")
            assert live.polls_since(since) == 0
    finally:
        if uploader is not None:
            uploader.close()
        server.close()


def test_a_local_folder_removed_and_recreated_is_watched_again(tmp_path: Path) -> None:
    root = tmp_path / "share"
    root.mkdir()
    settings = Settings(**_settings(tmp_path / "c.db", source=str(root)))
    live = Live(kind="local", root=root, settings=settings)
    with running(live):
        before = live.polls()
        shutil.rmtree(root)
        live.wait(lambda: live.state("health") != "active", "the loss to be noticed")
        root.mkdir()
        live.put("while away.mp4", b"w" * 3000)  # before the watch is back: the poll's
        live.wait(live.watching, "the watch to be armed again")
        # the re-armed watch asks for a poll, which finds what it missed
        live.wait(lambda: live.polls() > before and live.row("while away.mp4"),
                  "the poll and the file written while away")  # fmt: skip
        settle_polls(live)
        since = live.now()
        live.put("back.mp4", b"b" * 3000)
        live.wait(lambda: live.status_of("back.mp4") == "active", "the file")
        assert live.polls_since(since) == 0


def test_notifications_off_is_recorded(tmp_path: Path) -> None:
    root = tmp_path / "share"
    root.mkdir()
    settings = Settings(**_settings(tmp_path / "c.db", source=str(root), notify=False))
    assert pipeline.watch(settings, max_polls=1) == 1
    live = Live(kind="local", root=root, settings=settings)
    state = live.notify()
    assert state is not None and state["health"] == "off" and state["mechanism"] == "polling only"
