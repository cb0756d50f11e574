"""Bad input to the fixity commands: one line on stderr, a non-zero exit, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVE_", "FIRESTORE_"))}
    return subprocess.run(
        [sys.executable, "-m", "archive_analyzer", *args],
        cwd=cwd, env={**base, **env}, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def one_line(proc: subprocess.CompletedProcess[str], needle: str, code: int = 1) -> None:
    assert proc.returncode == code, proc
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], proc.stderr


@pytest.fixture
def scanned(tmp_path: Path) -> Path:
    root = tmp_path / "share"
    (root / "A").mkdir(parents=True)
    (root / "A/x.bin").write_bytes(b"x" * 1000)
    done = cli("scan", str(root), "--db", "c.db", "--no-probe", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return tmp_path


def test_missing_catalog_and_source(tmp_path: Path) -> None:
    one_line(cli("duplicates", "--db", "nope.db", cwd=tmp_path), "catalog not found")
    one_line(cli("verify", "--db", "nope.db", cwd=tmp_path), "no source configured")
    share = str(tmp_path)
    one_line(cli("verify", "--db", "nope.db", cwd=tmp_path, ARCHIVE_SOURCE=share),
             "catalog not found")  # fmt: skip


def test_bad_manifest_and_folder(scanned: Path) -> None:
    env = {"ARCHIVE_SOURCE": str(scanned / "share"), "ARCHIVE_DB": "c.db"}
    one_line(cli("verify", "--mhl", "none.mhl", cwd=scanned, **env), "manifest not found")
    (scanned / "bad.mhl").write_text("not xml at all")
    one_line(cli("verify", "--mhl", "bad.mhl", cwd=scanned, **env), "not an ASC MHL manifest")
    refused = cli("export", "mhl", "../etc", "--out", "o", cwd=scanned, **env)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    one_line(cli("export", "mhl", "Nothing", "--out", "o", cwd=scanned, **env), "no catalogued")
    one_line(cli("export", "mhl", "A", "--out", "o", cwd=scanned, **env), "have no hash")


def test_bad_quiet_hours(scanned: Path) -> None:
    env = {"ARCHIVE_SOURCE": str(scanned / "share"), "ARCHIVE_DB": "c.db"}
    one_line(cli("verify", cwd=scanned, ARCHIVE_HASH_QUIET_HOURS="late", **env), "quiet_hours")


def test_verify_and_duplicates_on_a_local_folder(scanned: Path) -> None:
    env = {"ARCHIVE_SOURCE": str(scanned / "share"), "ARCHIVE_DB": "c.db"}
    done = cli("verify", cwd=scanned, **env)
    assert done.returncode == 0 and "verified 1 files: 1 new" in done.stderr
    again = cli("duplicates", cwd=scanned, **env)
    assert again.returncode == 0 and "0 groups" in again.stderr
