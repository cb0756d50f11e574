"""Content hashes as background jobs: `run` hashes what it probed; a hash worker SIGKILLed
mid-file is replaced and the file resumes at its last finished chunk."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import xxhash

from tests.fixtures.net import wait_for
from tests.jobs.conftest import SMALL, System, drop

MIB = 1024 * 1024


def _hashed(system: System) -> int:
    return int(
        system.scalar(
            "SELECT count(*) FROM file_hashes h JOIN files f ON f.id = h.file "
            "WHERE h.xxh128 IS NOT NULL AND h.size = f.size AND h.mtime = f.mtime"
        )
        or 0
    )


def test_run_hashes_new_files_after_their_probe(system: System, corpus: dict[str, Path]) -> None:
    expected = drop(corpus, system.root, SMALL, prefix="HCL/2025/")
    (system.root / "HCL/2025/notes.bin").write_bytes(os.urandom(5000))
    system.env.update(ARCHIVE_HASH_CHUNK_MIB="1")
    run = system.start("run", "--no-web", name="run")
    wait_for(lambda: _hashed(system) == expected + 1, timeout=120, what="every file hashed")
    assert system.stop(run) == 0
    # media were hashed only after their probe
    rows = system.query(
        "SELECT f.path, (SELECT min(id) FROM file_events e WHERE e.file = f.id AND e.kind = "
        "'probed'), (SELECT min(id) FROM file_events e WHERE e.file = f.id AND e.kind = "
        "'hashed') FROM files f WHERE f.is_media = 1"
    )
    assert rows and all(probed is not None and hashed > probed for _, probed, hashed in rows)
    path = system.root / "HCL/2025/notes.bin"
    stored = system.scalar(
        "SELECT h.xxh128 FROM file_hashes h JOIN files f ON f.id = h.file WHERE f.path = ?",
        "HCL/2025/notes.bin",
    )
    assert stored == xxhash.xxh3_128_hexdigest(path.read_bytes())
    assert system.scalar("SELECT count(*) FROM hash_leases") == 0


def test_killed_hash_worker_resumes_at_its_last_chunk(system: System) -> None:
    data = os.urandom(20 * MIB)
    (system.root / "Masters").mkdir()
    (system.root / "Masters/master.bin").write_bytes(data)
    system.env.update(
        ARCHIVE_HASH_CHUNK_MIB="1", ARCHIVE_HASH_LEASE_S="2", ARCHIVE_HASH_WORKERS="0"
    )
    run = system.start("run", "--no-web", name="run")
    slow = dict(system.env, ARCHIVE_HASH_WORKERS="1", ARCHIVE_HASH_MAX_MIB_S="2")
    first = system.start_with(slow, "worker", "--workers", "0", name="hasher1")

    def chunks_kept() -> int:
        row = system.scalar("SELECT chunks FROM hash_progress")
        return 0 if row is None else len(json.loads(str(row)))

    wait_for(lambda: chunks_kept() >= 4, timeout=90, what="four chunks hashed")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    kept = chunks_kept()
    fast = dict(system.env, ARCHIVE_HASH_WORKERS="1")
    second = system.start_with(fast, "worker", "--workers", "0", name="hasher2")
    wait_for(lambda: _hashed(system) == 1, timeout=90, what="the master hashed")
    assert system.stop(second) == 0 and system.stop(run) == 0
    detail = json.loads(str(system.scalar("SELECT detail FROM file_events WHERE kind = 'hashed'")))
    assert detail["xxh128"] == xxhash.xxh3_128_hexdigest(data)
    assert detail["resumed_at_chunk"] >= kept >= 4
    assert "resuming at chunk" in system.log("hasher2")
