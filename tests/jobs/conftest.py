"""Helpers for the jobs tests: an archive folder, `archive-analyzer run` / `worker` processes,
catalog queries. Every wait polls a condition; nothing sleeps for a fixed time."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# Small, quick-to-probe corpus files (one per container family) plus one that is not media.
SMALL = ("mp4_faststart", "mkv", "ts_2audio", "webm", "mov_h264", "text_as_mp4")


@dataclass
class System:
    """One deployment under test: its folders, settings (as env) and processes."""

    root: Path  # the watched archive folder
    db: Path
    data_dir: Path
    env: dict[str, str]
    logs: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, *args: str, name: str) -> subprocess.Popen[bytes]:
        """Start ``archive-analyzer ARGS`` with this system's env; stderr goes to logs/NAME."""
        log = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "archive_analyzer", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def start_with(self, env: dict[str, str], *args: str, name: str) -> subprocess.Popen[bytes]:
        """``start`` with another environment (e.g. a worker with other settings)."""
        saved, self.env = self.env, env
        try:
            return self.start(*args, name=name)
        finally:
            self.env = saved

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        if not self.db.exists():
            return []
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return list(conn.execute(sql, params))
        except sqlite3.OperationalError:  # not migrated yet
            return []
        finally:
            conn.close()

    def scalar(self, sql: str, *params: object) -> object:
        rows = self.query(sql, *params)
        return rows[0][0] if rows else None

    def media_files(self) -> int:
        """Active media files in the catalog."""
        return int(
            self.scalar("SELECT count(*) FROM files WHERE is_media = 1 AND status = 'active'") or 0
        )

    def probed(self) -> int:
        """Media files with a stored probe result for their current version."""
        return int(
            self.scalar(
                "SELECT count(*) FROM files f JOIN media_info m ON m.id = f.id "
                "WHERE f.is_media = 1 AND m.probed_size = f.size AND m.probed_mtime = f.mtime"
            )
            or 0
        )

    def all_probed(self, expected: int) -> bool:
        return self.media_files() == expected and self.probed() == expected

    def stop(self, proc: subprocess.Popen[bytes], timeout: float = 60) -> int:
        """SIGTERM ``proc`` and wait for it; returns its exit code."""
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=timeout)


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    root = tmp_path / "archive"
    root.mkdir()
    logs = tmp_path / "logs"
    logs.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env.update(
        {
            "ARCHIVE_DB": str(tmp_path / "archive.db"),
            "ARCHIVE_DATA_DIR": str(tmp_path / "data"),
            "ARCHIVE_SOURCE": str(root),
            "ARCHIVE_POLL_INTERVAL_S": "0.3",
            "ARCHIVE_PROBE_LEASE_S": "3",
            "ARCHIVE_JOB_RETRY_DELAY_S": "0.2",
            "ARCHIVE_RECONCILE_HOUR": "-1",
            "ARCHIVE_CONFIG": str(tmp_path / "none.toml"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    (tmp_path / "none.toml").write_text("")
    env.pop("GOOGLE_CLOUD_PROJECT", None)
    env.pop("FIRESTORE_EMULATOR_HOST", None)
    sys_ = System(root, tmp_path / "archive.db", tmp_path / "data", env, logs)
    try:
        yield sys_
    finally:
        for proc in sys_.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


def drop(corpus: dict[str, Path], root: Path, names: tuple[str, ...], prefix: str = "") -> int:
    """Copy corpus files into ``root`` (``prefix`` makes distinct copies); returns how many of
    them are media files (everything but ``text_as_mp4`` is, by extension, media)."""
    for name in names:
        src = corpus[name]
        target = root / f"{prefix}{src.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    return len(names)
