"""Issue 18's "Done when", end to end over a real smbd, the way an operator runs it.

Every case scans an SMB folder into a catalog and runs ``python -m archive_analyzer verify``,
``duplicates`` and ``export mhl`` in subprocesses.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import xxhash

from tests.fixtures.net import wait_for
from tests.fixtures.smb import SMBFolder

pytestmark = pytest.mark.smb

MIB = 1024 * 1024
LAVFI = ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i"]


def cli(
    *args: str, folder: SMBFolder, cwd: Path, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "archive_analyzer", *args],
        cwd=cwd,
        env=_env(folder, extra),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _env(folder: SMBFolder, extra: dict[str, str] | None = None) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVE_", "FIRESTORE_"))}
    base.update(
        ARCHIVE_SOURCE=folder.url,
        ARCHIVE_SMB_PASSWORD=folder.server.password,
        ARCHIVE_DB=str(Path("catalog.db").absolute()),
        ARCHIVE_DATA_DIR=".data",
        ARCHIVE_HASH_CHUNK_MIB="1",
        ARCHIVE_HASH_MAX_MIB_S="0",
    )
    base.update(extra or {})
    return base


def lines(proc: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    assert "Traceback" not in proc.stderr, proc.stderr
    found = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return {item["path"]: item for item in found}


def write(root: Path, rel: str, data: bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in path.relative_to(root).parents:
        (root / parent).chmod(0o755)
    path.write_bytes(data)
    path.chmod(0o644)
    return path


def flip_byte_keeping_mtime(path: Path, offset: int) -> None:
    st = path.stat()
    with path.open("r+b") as handle:
        handle.seek(offset)
        value = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([value[0] ^ 0x5A]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def scan(folder: SMBFolder, cwd: Path) -> None:
    done = cli("scan", "--json", folder=folder, cwd=cwd)
    assert done.returncode == 0, done.stderr


def test_copy_identical_flip_mismatch_edit_changed_vanish(
    smb_folder: SMBFolder, work: Path
) -> None:
    root = smb_folder.root
    data = os.urandom(5 * MIB + 4321)
    write(root, "WSOP/2024/Main Event Day 1.bin", data)
    write(root, "Backup/복사본/Main Event Day 1.bin", data)  # a copy under another folder
    write(root, "WSOP/2024/Notes.bin", os.urandom(300_000))
    write(root, "WSOP/2024/Edited.bin", os.urandom(2 * MIB))
    write(root, "WSOP/2024/Gone.bin", os.urandom(100_000))
    scan(smb_folder, work)

    first = cli("verify", "--json", folder=smb_folder, cwd=work)
    assert first.returncode == 0, first.stderr
    seen = lines(first)
    assert {item["status"] for item in seen.values()} == {"new"}
    assert seen["WSOP/2024/Main Event Day 1.bin"]["xxh128"] == xxhash.xxh3_128_hexdigest(data)
    assert all(isinstance(item["seconds"], float) for item in seen.values())

    dupes = cli("duplicates", "--json", folder=smb_folder, cwd=work)
    assert dupes.returncode == 0, dupes.stderr
    groups = [json.loads(line) for line in dupes.stdout.splitlines()]
    identical = [g for g in groups if g["kind"] == "identical"]
    assert len(identical) == 1
    assert sorted(identical[0]["files"]) == [
        "Backup/복사본/Main Event Day 1.bin",
        "WSOP/2024/Main Event Day 1.bin",
    ]
    assert identical[0]["bytes_reclaimable"] == len(data) and identical[0]["confirmed"]

    # A byte flipped in the middle, size and mtime restored: a fixity failure, chunk named.
    middle = len(data) // 2
    flip_byte_keeping_mtime(root / "WSOP/2024/Main Event Day 1.bin", middle)
    # An edit (new mtime) and a vanished file are not failures.
    edited = root / "WSOP/2024/Edited.bin"
    edited.write_bytes(os.urandom(2 * MIB))
    os.utime(edited, (time.time() + 5, time.time() + 5))
    (root / "WSOP/2024/Gone.bin").unlink()

    second = cli("verify", "--all", "--json", folder=smb_folder, cwd=work)
    assert second.returncode == 1, second.stderr
    seen = lines(second)
    bad = seen["WSOP/2024/Main Event Day 1.bin"]
    assert bad["status"] == "mismatch"
    assert bad["chunk"] == middle // MIB
    assert bad["xxh128"] != xxhash.xxh3_128_hexdigest(data)
    assert seen["WSOP/2024/Edited.bin"]["status"] == "changed"
    assert seen["WSOP/2024/Gone.bin"]["status"] == "vanished"
    assert seen["WSOP/2024/Notes.bin"]["status"] == "ok"
    assert seen["Backup/복사본/Main Event Day 1.bin"]["status"] == "ok"
    assert "FIXITY FAILURE" in second.stderr

    conn = sqlite3.connect(work / "catalog.db")
    try:
        failure = conn.execute(
            "SELECT path, first_chunk, expected, actual, resolved_at FROM fixity_failures"
        ).fetchall()
        baseline = conn.execute(
            "SELECT h.xxh128, h.status FROM file_hashes h JOIN files f ON f.id = h.file "
            "WHERE f.path = 'WSOP/2024/Main Event Day 1.bin'"
        ).fetchone()
    finally:
        conn.close()
    assert failure == [
        ("WSOP/2024/Main Event Day 1.bin", middle // MIB, xxhash.xxh3_128_hexdigest(data),
         bad["xxh128"], None)
    ]  # fmt: skip
    # The baseline is never overwritten by the bad bytes.
    assert baseline == (xxhash.xxh3_128_hexdigest(data), "mismatch")

    shown = cli("status", "--json", folder=smb_folder, cwd=work)
    sections = {json.loads(x)["section"]: json.loads(x) for x in shown.stdout.splitlines()}
    assert sections["fixity_failures"]["rows"][0]["path"] == "WSOP/2024/Main Event Day 1.bin"

    # Bytes restored from a good copy: verified again, the failure resolved (still recorded).
    flip_byte_keeping_mtime(root / "WSOP/2024/Main Event Day 1.bin", middle)
    third = cli("verify", "--all", "--json", folder=smb_folder, cwd=work)
    assert third.returncode == 0, third.stderr
    assert lines(third)["WSOP/2024/Main Event Day 1.bin"]["status"] == "ok"


def test_resumes_after_sigkill_without_starting_the_file_over(
    smb_folder: SMBFolder, work: Path
) -> None:
    data = os.urandom(24 * MIB)
    write(smb_folder.root, "Masters/Long Master.bin", data)
    scan(smb_folder, work)
    slow = subprocess.Popen(
        [sys.executable, "-m", "archive_analyzer", "verify", "--json"],
        cwd=work,
        env=_env(smb_folder, {"ARCHIVE_HASH_MAX_MIB_S": "3"}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def chunks_done() -> int:
            conn = sqlite3.connect(work / "catalog.db")
            try:
                row = conn.execute("SELECT chunks FROM hash_progress").fetchone()
            finally:
                conn.close()
            return 0 if row is None else len(json.loads(row[0]))

        wait_for(lambda: chunks_done() >= 6, timeout=60, what="six chunks hashed")
        slow.send_signal(signal.SIGKILL)
        slow.wait(timeout=10)
    finally:
        if slow.poll() is None:
            slow.kill()
    kept = chunks_done()
    assert 6 <= kept < 24
    done = cli(
        "verify", "--json", folder=smb_folder, cwd=work, extra={"ARCHIVE_HASH_MAX_MIB_S": "0"}
    )
    assert done.returncode == 0, done.stderr
    assert f"resuming at chunk {kept}" in done.stderr
    result = lines(done)["Masters/Long Master.bin"]
    assert result["status"] == "new" and result["xxh128"] == xxhash.xxh3_128_hexdigest(data)
    conn = sqlite3.connect(work / "catalog.db")
    try:
        detail = json.loads(
            conn.execute("SELECT detail FROM file_events WHERE kind = 'hashed'").fetchone()[0]
        )
        chunks = conn.execute("SELECT count(*) FROM hash_chunks").fetchone()[0]
    finally:
        conn.close()
    assert detail["resumed_at_chunk"] == kept and chunks == 24


def test_mhl_written_read_back_verifies_then_fails_after_a_flip(
    smb_folder: SMBFolder, work: Path
) -> None:
    root = smb_folder.root
    write(root, "HCL/2025/Episode 1.bin", os.urandom(3 * MIB + 7))
    write(root, "HCL/2025/sub/Episode 2.bin", os.urandom(MIB // 2))
    write(root, "Other/Elsewhere.bin", os.urandom(1000))
    scan(smb_folder, work)
    early = cli("export", "mhl", "HCL/2025", "--out", "out", folder=smb_folder, cwd=work)
    assert early.returncode == 1 and "no hash" in early.stderr and "Traceback" not in early.stderr
    assert cli("verify", folder=smb_folder, cwd=work).returncode == 0
    made = cli("export", "mhl", "HCL/2025", "--out", "out", "--json", folder=smb_folder, cwd=work)
    assert made.returncode == 0, made.stderr
    manifest = Path(json.loads(made.stdout)["manifest"])
    assert manifest.parent == work / "out" and json.loads(made.stdout)["files"] == 2
    text = manifest.read_text(encoding="utf-8")
    assert "<xxh128" in text and "Episode 2.bin" in text and "Elsewhere" not in text

    good = cli("verify", "--mhl", str(manifest), "--json", folder=smb_folder, cwd=work)
    assert good.returncode == 0, good.stderr
    assert {v["status"] for v in lines(good).values()} == {"ok"}

    flip_byte_keeping_mtime(root / "HCL/2025/Episode 1.bin", 2 * MIB + 10)
    bad = cli("verify", "--mhl", str(manifest), "--json", folder=smb_folder, cwd=work)
    assert bad.returncode == 1
    seen = lines(bad)
    assert seen["HCL/2025/Episode 1.bin"]["status"] == "mismatch"
    assert seen["HCL/2025/Episode 1.bin"]["chunk"] == 2  # named from the catalog's chunks
    assert seen["HCL/2025/sub/Episode 2.bin"]["status"] == "ok"

    broken = work / "broken.mhl"
    broken.write_text("<hashlist>not closed")
    refused = cli("verify", "--mhl", str(broken), folder=smb_folder, cwd=work)
    assert refused.returncode == 1 and refused.stderr.startswith("error: ")


@pytest.fixture(scope="module")
def programmes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """One 12 s test programme as ProRes and as H.264, and another programme of the same
    duration."""
    folder = tmp_path_factory.mktemp("programmes")
    made: dict[str, bytes] = {}
    specs = {
        "master.mov": ["testsrc2=size=320x240:rate=25", "-c:v", "prores_ks", "-profile:v", "1"],
        "web.mp4": ["testsrc2=size=320x240:rate=25", "-c:v", "libx264", "-pix_fmt", "yuv420p"],
        "other.mp4": ["mandelbrot=size=320x240:rate=25", "-c:v", "libx264", "-pix_fmt", "yuv420p"],
    }
    for name, (graph, *codec) in specs.items():
        out = folder / name
        subprocess.run([*LAVFI, graph, "-t", "12", *codec, str(out)], check=True, timeout=120)
        made[name] = out.read_bytes()
    return made


def test_same_programme_in_another_encoding(
    smb_folder: SMBFolder, work: Path, programmes: dict[str, bytes]
) -> None:
    root = smb_folder.root
    write(root, "PAD/Masters/PAD S12 EP05.mov", programmes["master.mov"])
    write(root, "PAD/Web/PAD S12 EP05.mp4", programmes["web.mp4"])
    write(root, "PAD/Web/PAD S12 EP06.mp4", programmes["other.mp4"])
    scan(smb_folder, work)
    assert cli("verify", folder=smb_folder, cwd=work).returncode == 0
    dupes = cli("duplicates", "--json", folder=smb_folder, cwd=work)
    assert dupes.returncode == 0, dupes.stderr
    groups = [json.loads(line) for line in dupes.stdout.splitlines()]
    same = [g for g in groups if g["kind"] == "same_programme"]
    assert len(same) == 1, groups
    assert sorted(same[0]["files"]) == ["PAD/Masters/PAD S12 EP05.mov", "PAD/Web/PAD S12 EP05.mp4"]
    assert same[0]["bytes_reclaimable"] == len(programmes["web.mp4"])
    evidence = same[0]["frames"][0]
    assert evidence["compared"] >= 3 and evidence["matched"] == evidence["compared"]
    assert not [g for g in groups if g["kind"] == "identical"]


def test_sampled_candidates_before_the_full_pass(smb_folder: SMBFolder, work: Path) -> None:
    data = os.urandom(4 * MIB)
    write(smb_folder.root, "A/big.bin", data)
    write(smb_folder.root, "B/big copy.bin", data)
    write(smb_folder.root, "C/same size other.bin", os.urandom(4 * MIB))
    scan(smb_folder, work)
    # A pass stopped at once still samples the candidates first (SIGTERM = stop at a chunk).
    shutil.rmtree(work / ".data", ignore_errors=True)
    env = _env(smb_folder, {"ARCHIVE_HASH_MAX_MIB_S": "0.5"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "archive_analyzer", "verify", "--json"],
        cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:

        def sampled() -> int:
            conn = sqlite3.connect(work / "catalog.db")
            try:
                return int(
                    conn.execute(
                        "SELECT count(*) FROM file_hashes WHERE sample IS NOT NULL"
                    ).fetchone()[0]
                )
            finally:
                conn.close()

        wait_for(lambda: sampled() == 3, timeout=60, what="three samples")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    dupes = cli("duplicates", "--json", folder=smb_folder, cwd=work)
    groups = [json.loads(line) for line in dupes.stdout.splitlines()]
    assert len(groups) == 1 and groups[0]["kind"] == "identical" and not groups[0]["confirmed"]
    assert sorted(groups[0]["files"]) == ["A/big.bin", "B/big copy.bin"]
