"""``archive-analyzer scan`` and ``watch`` as a user runs them."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    return subprocess.run(
        [sys.executable, "-m", "archive_analyzer", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_scan_json_then_watch_two_polls(tmp_path: Path) -> None:
    share = tmp_path / "share"
    (share / "PAD/PAD S12").mkdir(parents=True)
    (share / "PAD/PAD S12/PAD S12 EP05.mp4").write_bytes(b"not really a video")
    (share / "PAD/PAD S12/notes.zip").write_bytes(b"PK")
    db = tmp_path / "c.db"
    done = run(["scan", str(share), "--db", str(db), "--json", "--no-probe"], tmp_path)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout.splitlines()[-1])
    assert record["status"] == "completed" and record["new"] == 2 and record["files_seen"] == 2
    (share / "PAD/PAD S12/PAD S12 EP06.mp4").write_bytes(b"new")
    done = run(["watch", str(share), "--db", str(db), "--interval", "1", "--polls", "2"], tmp_path)
    assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(db)
    try:
        polls = conn.execute("SELECT count(*) FROM scans WHERE kind = 'poll'").fetchone()[0]
        status = conn.execute(
            "SELECT status FROM files WHERE path = 'PAD/PAD S12/PAD S12 EP06.mp4'"
        ).fetchone()[0]
    finally:
        conn.close()
    assert polls == 2 and status == "active"
    shown = run(["status", "--db", str(db), "--json"], tmp_path)
    sections = {json.loads(line)["section"] for line in shown.stdout.splitlines()}
    assert {"polls", "incoming", "missing", "events", "probe_failures"} <= sections


def test_resume_without_interrupted_scan_starts_a_new_one(tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    (share / "a.mp4").write_bytes(b"a")
    done = run(["scan", str(share), "--db", str(tmp_path / "c.db"), "--resume", "--no-probe"],
               tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 files, 1 new" in done.stdout
