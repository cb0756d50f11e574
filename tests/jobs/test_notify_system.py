"""The whole system (`archive-analyzer run`) with change notifications: an upload through SMB
reaches the catalog, the probers and Firestore long before the ten-minute poll could see it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from archive_analyzer.catalog import db
from tests.fixtures.firestore import FirestoreEmulator
from tests.fixtures.net import wait_for
from tests.fixtures.smb import SMBFolder
from tests.jobs.conftest import System

pytestmark = pytest.mark.smb


def _alive(proc: subprocess.Popen[bytes]) -> None:
    assert proc.poll() is None, f"run exited early with {proc.returncode}"


def test_an_smb_upload_is_published_without_waiting_for_a_poll(
    system: System,
    smb_upload_folder: SMBFolder,
    firestore: FirestoreEmulator,
    corpus: dict[str, Path],
) -> None:
    folder = smb_upload_folder
    system.env.update(
        {
            "ARCHIVE_SOURCE": folder.url,
            "ARCHIVE_SMB_PASSWORD": folder.server.password,
            "ARCHIVE_POLL_INTERVAL_S": "600",
            "ARCHIVE_FIRESTORE_PROJECT": "demo-notify",
            "FIRESTORE_EMULATOR_HOST": firestore.host,
        }
    )
    run = system.start("run", "--no-web", name="run")

    def armed() -> bool:
        _alive(run)
        return system.scalar("SELECT health FROM notify_state") == "active"

    wait_for(armed, timeout=90, interval=0.2, what="the watch to be armed")
    seen: list[object] = []

    def steady() -> bool:  # the first poll, and the one a freshly armed watch may ask for
        seen.append(system.scalar("SELECT count(*) FROM scans WHERE kind = 'poll'"))
        return len(seen) > 20 and bool(seen[-1]) and len(set(seen[-20:])) == 1

    wait_for(steady, timeout=60, interval=0.1, what="the start-up polls")
    since = db.timestamp(db.utc_now())

    uploader = folder.uploader()
    try:
        uploader.mkdir("WSOP 2025")
        uploader.put("WSOP 2025/Main Event Day 1.mkv", corpus["mkv"].read_bytes())
    finally:
        uploader.close()

    def published() -> dict[str, object] | None:
        _alive(run)
        file_id = system.scalar(
            "SELECT id FROM files WHERE path = 'WSOP 2025/Main Event Day 1.mkv' "
            "AND status = 'active' AND probe_state = 'done'"
        )
        if file_id is None:
            return None
        doc = firestore.dump().get(f"files/{file_id}")
        return doc if doc and doc.get("probe_state") == "done" else None

    try:
        doc = wait_for(published, timeout=60, interval=0.2, what="the probed file in Firestore")
    except TimeoutError:
        rows = system.query("SELECT path, status, probe_state FROM files")
        raise AssertionError(f"{rows}\n{system.log('run')[-4000:]}") from None
    assert doc["path"] == "WSOP 2025/Main Event Day 1.mkv"
    # no poll began after the upload: the notification did it (and only it can make a new file
    # active at once; a poll would leave it incoming until a second one)
    polls_after = "SELECT count(*) FROM scans WHERE kind = 'poll' AND started_at >= ?"
    assert system.scalar(polls_after, since) == 0
    assert system.stop(run) == 0
    state = system.query("SELECT health, events, last_event FROM notify_state")[0]
    assert state[0] == "stopped" and int(str(state[1])) >= 1
    assert "Main Event Day 1.mkv" in str(state[2])
    status = subprocess.run(
        [sys.executable, "-m", "archive_analyzer", "status", "--json"],
        env=system.env,
        capture_output=True,
        text=True,
        check=True,
    )
    sections = [json.loads(line) for line in status.stdout.splitlines()]
    notify = next(s for s in sections if s["section"] == "notifications")
    assert notify["rows"][0]["health"] == "stopped"
