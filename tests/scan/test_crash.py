"""Crash safety: a scan SIGKILLed at random moments and resumed ends with exactly the rows of an
uninterrupted scan (no file lost, none twice)."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from archive_analyzer.catalog import db
from archive_analyzer.scan.scanner import Scanner
from archive_analyzer.sources.local import LocalSource
from tests.fixtures.net import wait_for

FILES = 2000
TRIALS = 3


def build_tree(root: Path) -> None:
    rng = random.Random(7)
    for i in range(FILES):
        folder = root / f"Brand {i % 7}" / f"Season {i % 13:02d}" / f"Day {i % 5}"
        folder.mkdir(parents=True, exist_ok=True)
        suffix = rng.choice([".mp4", ".zip", ".xmp", ".pek", ".txt"])
        (folder / f"file {i:05d}{suffix}").touch()


def rows(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT path, size, mtime, file_id, status, is_media, probe_state FROM files "
            "ORDER BY path"
        ).fetchall()
    finally:
        conn.close()


def processed(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.2)
        try:
            found = conn.execute("SELECT max(processed_files) FROM scan_checkpoints").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return 0
    return int(found[0] or 0) if found else 0


def scan_command(root: Path, db_path: Path, resume: bool) -> list[str]:
    command = [sys.executable, "-m", "archive_analyzer", "scan", str(root), "--db", str(db_path)]
    command.append("--no-probe")
    if resume:
        command.append("--resume")
    return command


@pytest.mark.slow
def test_killed_scans_resume_to_the_same_rows(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    build_tree(root)
    reference_db = tmp_path / "reference.db"
    conn = db.connect(reference_db)
    try:
        Scanner(conn, LocalSource(root), batch_size=25).scan()
    finally:
        conn.close()
    expected = rows(reference_db)
    assert len(expected) == FILES

    env = {**os.environ, "ARCHIVE_SCAN_BATCH_SIZE": "40"}
    rng = random.Random(2026)
    interrupted = 0
    for trial in range(TRIALS):
        db_path = tmp_path / f"trial-{trial}.db"
        kills = 0
        resume = False
        # Kill up to twice per trial at a random point after the first checkpoint, then let
        # a resumed run finish.
        for attempt in range(3):
            proc = subprocess.Popen(
                scan_command(root, db_path, resume),
                cwd=tmp_path,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if attempt < 2:
                floor = processed(db_path)
                target = floor + rng.randrange(40, FILES // 3)

                def far_enough(
                    proc: subprocess.Popen[bytes] = proc, path: Path = db_path, target: int = target
                ) -> bool:
                    return proc.poll() is not None or processed(path) >= target

                wait_for(
                    far_enough,
                    timeout=60,
                    interval=0.002,
                    what="scan progress",
                )
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                    kills += 1
            _, err = proc.communicate(timeout=120)
            if proc.returncode == 0:
                break
            assert proc.returncode == -signal.SIGKILL, err.decode()
            resume = True
        interrupted += kills > 0
        got = rows(db_path)
        assert got == expected, f"trial {trial} ({kills} kills)"
        conn = sqlite3.connect(db_path)
        try:
            news = conn.execute("SELECT count(*) FROM file_events WHERE kind = 'new'").fetchone()
            (state,) = conn.execute(
                "SELECT status FROM scan_checkpoints ORDER BY scan_id DESC LIMIT 1"
            ).fetchone()
        finally:
            conn.close()
        assert news[0] == FILES and state == "completed"
    assert interrupted >= TRIALS // 2
