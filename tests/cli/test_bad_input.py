"""Bad input through the real CLI: one line, non-zero exit, no traceback, nothing lost, no secret.

Every case runs ``python -m archive_analyzer`` in a subprocess, the way an operator would.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.net import wait_for

SECRET = "Sekrit-Canary-7f3a9"
FFMPEG = ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25"]


def cli(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    stdin: str = "",
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run the CLI with a clean ``ARCHIVE_*`` environment plus ``env``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVE_", "FIRESTORE_"))}
    base.pop("GOOGLE_CLOUD_PROJECT", None)
    return subprocess.run(
        [sys.executable, "-m", "archive_analyzer", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**base, **(env or {})},
        check=False,
    )


def one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Assert a non-zero exit with exactly one ``error:`` line on stderr; return that line."""
    assert proc.returncode != 0, proc
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 4 s H.264 MP4 (made once per module)."""
    clip = tmp_path_factory.mktemp("clip") / "clip.mp4"
    subprocess.run(
        [*FFMPEG, "-t", "4", "-c:v", "libx264", "-movflags", "+faststart", str(clip)],
        check=True,
        timeout=60,
    )
    return clip.read_bytes()


@pytest.fixture
def work(tmp_path: Path, clip_bytes: bytes) -> Path:
    """A temp folder with a small local source (one real MP4, one half upload, one text file)."""
    source = tmp_path / "src" / "WSOP" / "2024"
    source.mkdir(parents=True)
    data = clip_bytes
    (source / "WSOP 2024 Main Event Day 1.mp4").write_bytes(data)
    (source / "half uploaded.mp4").write_bytes(data[: len(data) // 2])
    (source / "notes.txt").write_text("not media\n")
    return tmp_path


def dump(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


# --- sources -------------------------------------------------------------------------------


def test_scan_of_a_missing_folder(work: Path) -> None:
    one_line_error(cli("scan", "no/such/folder", "--db", "a.db", cwd=work), "no/such/folder")


def test_scan_of_a_file_where_a_folder_is_expected(work: Path) -> None:
    one_line_error(cli("scan", "src/WSOP/2024/notes.txt", "--db", "a.db", cwd=work), "notes.txt")


def test_scan_without_a_source_or_with_another_scheme(work: Path) -> None:
    one_line_error(cli("scan", "--db", "a.db", cwd=work), "no source")
    one_line_error(cli("scan", "ftp://host/share", "--db", "a.db", cwd=work), "ftp")


def test_password_inside_an_smb_url_is_refused_and_not_echoed(work: Path) -> None:
    url = f"smb://user:{SECRET}@127.0.0.1:1/share/x"
    proc = cli("watch", "--polls", "1", url, "--db", "a.db", cwd=work)
    one_line_error(proc, "must not contain a password")
    no_secret(proc.stdout, proc.stderr)
    proc = cli("probe", f"smb://user:{SECRET}@127.0.0.1:1/share/x/a.mp4", cwd=work)
    one_line_error(proc, "must not contain a password")
    no_secret(proc.stdout, proc.stderr)


def test_unreachable_smb_host_is_retried_then_one_error(work: Path) -> None:
    env = {"ARCHIVE_SMB_PASSWORD": SECRET, "ARCHIVE_SMB_TIMEOUT_S": "1"}
    proc = cli("-v", "scan", "smb://user@127.0.0.1:1/share", "--db", "a.db", cwd=work, env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "unreachable" in lines[-1]
    assert any("retry" in line for line in lines[:-1])  # retried before giving up
    no_secret(proc.stdout, proc.stderr, dump(work / "a.db"))


def test_credentials_file_readable_by_others_is_refused(work: Path) -> None:
    creds = work / "creds"
    creds.write_text(f"username=user\npassword={SECRET}\n")
    creds.chmod(0o644)
    env = {"ARCHIVE_SMB_CREDENTIALS_FILE": str(creds)}
    for args in (
        ["scan", "smb://user@127.0.0.1:1/share"],
        ["probe", "smb://u@127.0.0.1:1/s/a.mp4"],
    ):
        proc = cli(*args, "--db", "a.db", cwd=work, env=env)
        one_line_error(proc, "chmod 600")
        no_secret(proc.stdout, proc.stderr)


def test_smb_scan_keeps_the_password_out_of_output_logs_and_catalog(
    smb_server: Any, work: Path
) -> None:
    folder = smb_server.new_folder("badinput")
    (folder.root / "WSOP").mkdir()
    clip = next((work / "src").rglob("*Day 1.mp4"))
    (folder.root / "WSOP" / clip.name).write_bytes(clip.read_bytes())
    env = {"ARCHIVE_SMB_PASSWORD": smb_server.password}
    proc = cli("-v", "scan", folder.url, "--db", "s.db", "--json", cwd=work, env=env)
    assert proc.returncode == 0, proc.stderr
    (record,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert record["new"] == 1 and record["probed"] == 1
    shown = cli("status", "--db", "s.db", "--json", cwd=work, env=env)
    assert shown.returncode == 0
    for text in (proc.stdout, proc.stderr, shown.stdout, shown.stderr, dump(work / "s.db")):
        assert smb_server.password not in text
    wrong = cli("scan", folder.url, "--db", "s.db", cwd=work, env={"ARCHIVE_SMB_PASSWORD": SECRET})
    one_line_error(wrong, "wrong user or password")
    no_secret(wrong.stdout, wrong.stderr)


# --- settings ------------------------------------------------------------------------------


def test_invalid_toml_names_the_file(work: Path) -> None:
    (work / "bad.toml").write_text('source = "src\n')
    one_line_error(cli("status", "--config", "bad.toml", cwd=work), "bad.toml", "TOML")
    env = {"ARCHIVE_CONFIG": "bad.toml"}
    one_line_error(cli("status", cwd=work, env=env), "bad.toml")


def test_unknown_toml_key_is_named_and_its_value_never_printed(work: Path) -> None:
    (work / "typo.toml").write_text(f'smb_pasword = "{SECRET}"\nprobe_concurency = 2\n')
    proc = cli("scan", "src", "--config", "typo.toml", "--db", "a.db", cwd=work)
    line = one_line_error(proc, "smb_pasword", "probe_concurency", "unknown setting")
    no_secret(line, proc.stdout)


def test_bad_values_are_one_line_without_the_value(work: Path) -> None:
    (work / "types.toml").write_text("smb_password = 7\n")
    (work / "types.toml").chmod(0o600)
    proc = cli("status", "--config", "types.toml", cwd=work)
    line = one_line_error(proc, "smb_password")
    assert "7" not in line.split(":", 2)[-1]
    for name, value in [
        ("ARCHIVE_PROBE_CONCURRENCY", "abc"),
        ("ARCHIVE_SCAN_BATCH_SIZE", "0"),  # used to end in a ValueError traceback
    ]:
        proc = cli("scan", "src", "--db", "a.db", cwd=work, env={name: value})
        one_line_error(proc, name)


def test_a_secret_in_a_config_file_readable_by_others_is_refused(work: Path) -> None:
    config = work / "archive.toml"  # found without --config too
    config.write_text(f'source = "src"\nsmb_password = "{SECRET}"\n')
    config.chmod(0o644)
    proc = cli("scan", "--db", "a.db", cwd=work)
    line = one_line_error(proc, "archive.toml", "smb_password", "chmod 600")
    no_secret(line, proc.stdout)
    config.chmod(0o600)
    assert cli("scan", "--db", "a.db", "--no-probe", cwd=work).returncode == 0


def test_missing_config_files(work: Path) -> None:
    one_line_error(cli("status", "--config", "nope.toml", cwd=work), "nope.toml")
    one_line_error(cli("status", cwd=work, env={"ARCHIVE_CONFIG": "nope.toml"}), "nope.toml")


def test_usage_errors_are_click_messages(work: Path) -> None:
    proc = cli("status", "--limit", "abc", cwd=work)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "Usage:" in proc.stderr and "--limit" in proc.stderr


# --- the catalog file ----------------------------------------------------------------------


def test_db_path_problems(work: Path) -> None:
    (work / "folder.db").mkdir()
    (work / "text.db").write_text("this is not a database, just text\n" * 40)
    one_line_error(cli("status", "--db", "folder.db", cwd=work), "folder.db")
    one_line_error(cli("status", "--db", "text.db", cwd=work), "not a database")
    assert (work / "text.db").read_text().startswith("this is not")  # not overwritten
    one_line_error(cli("scan", "src", "--db", "/proc/nope/x.db", cwd=work), "/proc/nope")


def test_another_programs_database_is_not_migrated(work: Path) -> None:
    other = work / "queue.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE task (id INTEGER PRIMARY KEY, data BLOB)")
    conn.close()
    before = other.read_bytes()
    for args in (["status"], ["scan", "src", "--no-probe"]):
        one_line_error(cli(*args, "--db", "queue.db", cwd=work), "not an archive catalog")
    assert other.read_bytes() == before
    newer = work / "newer.db"
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 9999")
    conn.execute("CREATE TABLE files (id TEXT)")
    conn.close()
    one_line_error(cli("status", "--db", "newer.db", cwd=work), "newer than this program")


def test_a_missing_catalog_is_not_created_by_readers(work: Path) -> None:
    for args in (["status", "--json"], ["reclassify"], ["users", "list"]):
        one_line_error(cli(*args, "--db", "gone/x.db", cwd=work), "catalog not found", "gone/x.db")
    assert not (work / "gone").exists()
    env = {"ARCHIVE_DB": "typo.db"}
    one_line_error(cli("status", cwd=work, env=env), "typo.db")
    assert not (work / "typo.db").exists()


# --- imports -------------------------------------------------------------------------------


def test_bad_csv_files(work: Path) -> None:
    (work / "empty.csv").write_bytes(b"")
    (work / "wrong.csv").write_text("foo,bar\n1,2\n")
    (work / "garbage.csv").write_bytes(bytes(range(256)) * 8)
    cases = {
        "empty.csv": "empty",
        "wrong.csv": "not a players sheet",
        "garbage.csv": "garbage.csv",
        "missing.csv": "missing.csv",
    }
    for name, needle in cases.items():
        proc = cli("import", "players", name, "--db", "a.db", cwd=work)
        line = one_line_error(proc, needle)
        assert name in line
    one_line_error(cli("import", "hands", "wrong.csv", "--db", "a.db", cwd=work), "wrong.csv")


# --- accounts and sync ---------------------------------------------------------------------


def test_users_add_with_an_empty_password(work: Path) -> None:
    one_line_error(cli("users", "add", "alice", "--db", "a.db", cwd=work), "no password")
    ok = cli("users", "add", "alice", "--db", "a.db", cwd=work, stdin=SECRET + "\n")
    assert ok.returncode == 0, ok.stderr
    no_secret(ok.stdout, ok.stderr, dump(work / "a.db"))


def test_sync_off_then_unreachable(work: Path) -> None:
    assert cli("scan", "src", "--db", "a.db", cwd=work).returncode == 0
    proc = cli("sync", "--db", "a.db", "--json", cwd=work)
    assert proc.returncode == 0 and "sync is off" in proc.stderr
    assert json.loads(proc.stdout) == {"status": "disabled"}
    env = {
        "ARCHIVE_FIRESTORE_PROJECT": "demo-badinput",
        "FIRESTORE_EMULATOR_HOST": "127.0.0.1:1",
        "ARCHIVE_SYNC_RETRY_S": "1",
    }
    proc = cli("sync", "--db", "a.db", cwd=work, env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: ")


# --- probing: files are results, not crashes -----------------------------------------------


def test_probe_of_odd_targets_is_a_result_per_target(work: Path) -> None:
    os.mkfifo(work / "fifo.mp4")
    (work / "garbage.mp4").write_bytes(os.urandom(4096))
    (work / "empty.mp4").write_bytes(b"")
    (work / "dir.mp4").mkdir()
    targets = ["src/WSOP/2024/half uploaded.mp4", "garbage.mp4", "empty.mp4", "fifo.mp4"]
    targets += ["dir.mp4", "missing.mp4"]
    proc = cli("probe", "--json", *targets, cwd=work)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    got = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["path"] for r in got] == targets
    statuses = [r["status"] for r in got]
    assert statuses[:3] == ["truncated", "invalid", "invalid"]
    assert statuses[5] == "error"
    assert all(s in {"invalid", "error"} for s in statuses[3:5])


def test_probe_of_an_empty_target_is_a_usage_error(work: Path) -> None:
    proc = cli("probe", "--json", "", cwd=work)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "target is empty" in proc.stderr and proc.stdout == ""


def test_half_uploaded_and_garbage_files_are_recorded_results(work: Path) -> None:
    (work / "src" / "garbage.mkv").write_bytes(os.urandom(8192))
    proc = cli("scan", "src", "--db", "a.db", "--json", cwd=work)
    assert proc.returncode == 0, proc.stderr
    conn = sqlite3.connect(work / "a.db")
    rows = dict(
        conn.execute("SELECT f.path, m.status FROM files f JOIN media_info m ON m.id = f.id")
    )
    conn.close()
    assert rows["WSOP/2024/half uploaded.mp4"] == "truncated"
    assert rows["garbage.mkv"] == "invalid"
    assert rows["WSOP/2024/WSOP 2024 Main Event Day 1.mp4"] == "ok"


# --- Ctrl-C --------------------------------------------------------------------------------


@pytest.fixture
def many_files(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "many"
    for d in range(40):
        folder = root / f"d{d:03}"
        folder.mkdir(parents=True)
        for f in range(100):
            (folder / f"f{f:03}.txt").write_bytes(b"x")
    yield root


def _scan_state(db: Path) -> tuple[str, int] | None:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            row = conn.execute("SELECT status, files_seen FROM scans ORDER BY id DESC").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return None if row is None else (str(row[0]), int(row[1]))


def test_ctrl_c_during_a_scan_exits_130_and_resume_finishes(
    tmp_path: Path, many_files: Path
) -> None:
    db = tmp_path / "c.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env["ARCHIVE_SCAN_BATCH_SIZE"] = "10"  # many small checkpoints: a wide window to interrupt
    scan = [sys.executable, "-m", "archive_analyzer", "scan", str(many_files), "--db", str(db)]
    proc = subprocess.Popen(
        [*scan, "--no-probe"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # a child of a non-interactive shell may inherit SIGINT ignored: give it the default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        wait_for(
            lambda: (_scan_state(db) or ("", 0))[1] > 0 or proc.poll() is not None,
            timeout=30,
            what="the scan to commit a first batch",
        )
        if proc.poll() is not None:
            pytest.skip("the scan finished before it could be interrupted")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    state = _scan_state(db)
    if state is not None and state[0] == "completed":
        pytest.skip("the scan completed before the signal arrived")
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "interrupted"
    resumed = subprocess.run(
        [*scan, "--resume", "--no-probe", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    record = json.loads(resumed.stdout)
    assert record["status"] == "completed" and record["resumed"] is True
    assert record["files_seen"] == 4000 and record["missing"] == 0


def test_serve_on_a_busy_port_is_one_error_before_the_admin_password(work: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = cli("serve", "--db", "a.db", "--port", str(port), cwd=work, timeout=30)
    one_line_error(proc, f"127.0.0.1:{port}", "in use")
    assert "one-time password" not in proc.stderr
