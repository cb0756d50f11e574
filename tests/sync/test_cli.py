"""``archive-analyzer sync`` and the status section, end to end through the CLI entry point."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from archive_analyzer.catalog import db
from archive_analyzer.cli import main
from tests.fixtures.firestore import FirestoreEmulator
from tests.fixtures.net import free_port
from tests.sync.catalog_data import PATHS, TickClock, add_file, expected_documents, without_metadata

SYNC_ENV = (
    "ARCHIVE_FIRESTORE_PROJECT",
    "GOOGLE_CLOUD_PROJECT",
    "FIRESTORE_EMULATOR_HOST",
    "ARCHIVE_FIRESTORE_EMULATOR_HOST",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "ARCHIVE_CONFIG",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in SYNC_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./archive.toml from the repo


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(argv)
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def filled(db_path: Path) -> sqlite3.Connection:
    conn = db.connect(db_path)
    clock = TickClock()
    for path in PATHS[:3]:
        add_file(conn, path, clock)
    return conn


def test_sync_is_off_until_configured(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    filled(db_path).close()
    code, out, err = run(["sync", "--db", str(db_path)], capsys)
    assert code == 0 and out == ""
    assert err.strip().startswith("sync is off") and len(err.strip().splitlines()) == 1


def test_dry_run_needs_no_connection(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conn = filled(db_path)
    wanted = len(expected_documents(conn))
    conn.close()
    code, out, _ = run(["sync", "--db", str(db_path), "--dry-run", "--json"], capsys)
    assert code == 0
    report = json.loads(out)
    assert report["dry_run"] is True and report["docs_set"] == wanted


def test_sync_then_status(
    db_path: Path,
    firestore: FirestoreEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    conn = filled(db_path)
    monkeypatch.setenv("ARCHIVE_FIRESTORE_PROJECT", "demo-cli")
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore.host)
    code, _, _ = run(["status", "--db", str(db_path), "--json"], capsys)
    assert code == 0
    code, out, _ = run(["sync", "--db", str(db_path)], capsys)
    assert code == 0 and out.startswith("sync incremental:")
    assert without_metadata(firestore.dump()) == expected_documents(conn)
    code, out, _ = run(["status", "--db", str(db_path), "--json"], capsys)
    section = next(
        json.loads(line) for line in out.splitlines() if json.loads(line)["section"] == "sync"
    )
    row = section["rows"][0]
    assert row["last_sync"].startswith("incremental completed")
    assert row["pending_rows"] == 0 and row["lag_s"] is None
    conn.close()


def test_unreachable_firestore_is_one_line_error(db_path: Path, tmp_path: Path) -> None:
    conn = filled(db_path)
    env = {k: v for k, v in os.environ.items() if k not in SYNC_ENV}
    env.update(
        ARCHIVE_FIRESTORE_PROJECT="demo-cli",
        FIRESTORE_EMULATOR_HOST=f"127.0.0.1:{free_port()}",
        ARCHIVE_SYNC_RETRY_S="1",
    )
    done = subprocess.run(
        [sys.executable, "-m", "archive_analyzer", "sync", "--db", str(db_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 1 and done.stdout == ""
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Firestore unreachable" in lines[0]
    assert "Traceback" not in done.stderr
    pending = conn.execute("SELECT count(*) FROM sync_changes").fetchone()[0]
    assert pending > 0  # nothing was lost: every change still waits for the next run
    conn.close()


def test_one_sync_at_a_time_and_abandoned_runs_are_closed(
    db_path: Path, firestore: FirestoreEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl

    from archive_analyzer.config import Settings
    from archive_analyzer.errors import SyncError
    from archive_analyzer.sync.engine import run_sync

    conn = filled(db_path)
    with db.transaction(conn):  # a run whose process died
        conn.execute(
            "INSERT INTO sync_runs (kind, status, started_at) "
            "VALUES ('incremental', 'running', 'x')"
        )
    settings = Settings(
        db=db_path, firestore_project="demo-lock", firestore_emulator_host=firestore.host
    )
    with open(f"{db_path}.sync.lock", "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(SyncError, match="another sync"):
            run_sync(settings)
        fcntl.flock(held.fileno(), fcntl.LOCK_UN)
    report = run_sync(settings)
    assert report is not None and report.docs_set > 0
    statuses = [r[0] for r in conn.execute("SELECT status FROM sync_runs ORDER BY id")]
    assert statuses == ["failed", "completed"]
    conn.close()


def test_sync_refuses_a_missing_catalog(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    typo = tmp_path / "typo.db"
    for argv in (["sync", "--db", str(typo)], ["sync", "--full", "--dry-run", "--db", str(typo)]):
        code, out, err = run(argv, capsys)
        assert code == 1 and out == ""
        assert err.strip().splitlines() == [err.strip()] and "catalog not found" in err
    assert not typo.exists()


def test_run_sync_refuses_a_missing_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry point queued jobs use: the CLI's error, and nothing created."""
    from archive_analyzer.config import Settings
    from archive_analyzer.errors import CatalogError
    from archive_analyzer.sync.engine import run_sync

    typo = tmp_path / "nowhere" / "typo.db"
    for project in (None, "demo-missing"):  # off, and configured
        settings = Settings(db=typo, firestore_project=project)
        assert settings.sync_enabled == bool(project)
        with pytest.raises(CatalogError, match=r"catalog not found: .*typo\.db"):
            run_sync(settings, full=True)
    assert not typo.parent.exists()


def test_full_sync_refuses_mass_delete_unless_allowed(
    db_path: Path,
    tmp_path: Path,
    firestore: FirestoreEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    conn = filled(db_path)
    monkeypatch.setenv("ARCHIVE_FIRESTORE_PROJECT", "demo-mass")
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore.host)
    assert run(["sync", "--db", str(db_path)], capsys)[0] == 0
    published = firestore.dump()
    assert len(without_metadata(published)) >= 10

    # a catalog with no rows (another, freshly created one): nothing may be deleted
    empty = tmp_path / "empty.db"
    db.connect(empty).close()
    code, out, err = run(["sync", "--full", "--db", str(empty)], capsys)
    assert code == 1 and out == ""
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and lines[0].startswith("error: refusing")
    assert "no rows" in lines[0] and "--allow-mass-delete" in lines[0]
    assert firestore.dump() == published

    # a catalog that knows another small part of the archive: the prune is over the share
    other = tmp_path / "other.db"
    other_conn = db.connect(other)
    add_file(other_conn, PATHS[3], TickClock())
    other_conn.close()
    code, _, err = run(["sync", "--full", "--db", str(other)], capsys)
    assert code == 1 and "error: refusing: sync --full would prune" in err
    assert "--allow-mass-delete" in err
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1
    assert set(published) <= set(firestore.dump())  # nothing deleted (the sets are harmless)

    # a dry run shows the counts and deletes nothing; the explicit flag lets it through
    code, out, _ = run(["sync", "--full", "--dry-run", "--json", "--db", str(other)], capsys)
    assert code == 0 and json.loads(out)["docs_deleted"] >= 10
    # the thresholds are settings: out of range is a one-line error, a higher minimum lets it by
    monkeypatch.setenv("ARCHIVE_SYNC_PRUNE_MAX_SHARE", "1.5")
    code, _, err = run(["sync", "--full", "--db", str(other)], capsys)
    assert code == 1 and err.strip().splitlines() == [err.strip()]
    assert "sync_prune_max_share" in err
    assert set(published) <= set(firestore.dump())
    monkeypatch.delenv("ARCHIVE_SYNC_PRUNE_MAX_SHARE")
    monkeypatch.setenv("ARCHIVE_SYNC_PRUNE_MIN_DOCS", "1000")
    code, out, _ = run(["sync", "--full", "--db", str(other)], capsys)
    assert code == 0 and out.startswith("sync full:")
    other_conn = db.connect(other)
    assert without_metadata(firestore.dump()) == expected_documents(other_conn)
    other_conn.close()
    monkeypatch.delenv("ARCHIVE_SYNC_PRUNE_MIN_DOCS")
    code, out, _ = run(["sync", "--full", "--allow-mass-delete", "--db", str(empty)], capsys)
    assert code == 0 and out.startswith("sync full:")
    assert without_metadata(firestore.dump()) == {}
    conn.close()
