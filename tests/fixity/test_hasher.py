"""Hashing a file version through a source: chunks, checkpoints, resume, versions."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import xxhash

from archive_analyzer.fixity.hasher import (
    Checkpoint,
    HashControl,
    HashRequest,
    HashStatus,
    hash_file,
    sample_hash,
    sample_ranges,
)
from archive_analyzer.fixity.throttle import Throttle
from archive_analyzer.sources.local import LocalSource

CHUNK = 64 * 1024


def _write(root: Path, name: str, data: bytes) -> tuple[int, float]:
    path = root / name
    path.write_bytes(data)
    st = path.stat()
    return st.st_size, st.st_mtime


def _request(root: Path, name: str, **extra: object) -> HashRequest:
    st = (root / name).stat()
    return HashRequest(name, st.st_size, st.st_mtime, CHUNK, **extra)  # type: ignore[arg-type]


def _free() -> Throttle:
    return Throttle(max_bps=0)


def test_whole_and_chunk_hashes(tmp_path: Path) -> None:
    data = os.urandom(5 * CHUNK + 123)
    _write(tmp_path, "a.bin", data)
    result = hash_file(LocalSource(tmp_path), _request(tmp_path, "a.bin"), throttle=_free())
    assert result.status is HashStatus.DONE
    assert result.xxh128 == xxhash.xxh3_128_hexdigest(data)
    assert len(result.chunks) == 6
    assert result.chunks[2] == xxhash.xxh3_128_hexdigest(data[2 * CHUNK : 3 * CHUNK])
    assert result.chunks[5] == xxhash.xxh3_128_hexdigest(data[5 * CHUNK :])
    assert result.chunk_bytes == CHUNK
    assert result.sample is not None


def test_checkpoints_then_resume_reads_only_the_rest(tmp_path: Path) -> None:
    data = os.urandom(8 * CHUNK)
    _write(tmp_path, "big.bin", data)
    points: list[Checkpoint] = []

    class Stop(Exception):
        pass

    def keep(point: Checkpoint) -> None:
        points.append(point)
        if len(points) == 3:
            raise Stop  # the process dies after the third chunk

    source = LocalSource(tmp_path)
    with contextlib.suppress(Stop):
        hash_file(source, _request(tmp_path, "big.bin"), throttle=_free(), on_checkpoint=keep)
    last = points[-1]
    assert last.next_chunk == 3 and last.state is not None
    resumed = hash_file(source, _request(tmp_path, "big.bin", resume=last), throttle=_free())
    assert resumed.status is HashStatus.DONE
    assert resumed.resumed_at == 3
    assert resumed.bytes_read == 5 * CHUNK
    assert resumed.xxh128 == xxhash.xxh3_128_hexdigest(data)
    assert len(resumed.chunks) == 8


def test_expected_chunks_name_the_differing_one(tmp_path: Path) -> None:
    data = bytearray(os.urandom(4 * CHUNK))
    _write(tmp_path, "f.bin", bytes(data))
    source = LocalSource(tmp_path)
    good = hash_file(source, _request(tmp_path, "f.bin"), throttle=_free())
    data[2 * CHUNK + 5] ^= 0xFF
    st = (tmp_path / "f.bin").stat()
    (tmp_path / "f.bin").write_bytes(bytes(data))
    os.utime(tmp_path / "f.bin", ns=(st.st_atime_ns, st.st_mtime_ns))
    bad = hash_file(source, _request(tmp_path, "f.bin", expected=good.chunks), throttle=_free())
    assert bad.status is HashStatus.DONE and bad.differing == (2,)
    assert bad.xxh128 != good.xxh128


def test_changed_and_vanished(tmp_path: Path) -> None:
    _write(tmp_path, "c.bin", b"x" * 1000)
    source = LocalSource(tmp_path)
    request = _request(tmp_path, "c.bin")
    (tmp_path / "c.bin").write_bytes(b"y" * 2000)
    changed = hash_file(source, request, throttle=_free())
    assert changed.status is HashStatus.CHANGED and changed.observed is not None
    assert changed.observed[0] == 2000
    (tmp_path / "c.bin").unlink()
    assert hash_file(source, request, throttle=_free()).status is HashStatus.VANISHED


def test_pause_at_a_chunk_boundary(tmp_path: Path) -> None:
    _write(tmp_path, "p.bin", os.urandom(4 * CHUNK))
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] > 2  # allowed to start, then stops after the first chunk

    result = hash_file(
        LocalSource(tmp_path),
        _request(tmp_path, "p.bin"),
        throttle=_free(),
        control=HashControl(should_stop=stop),
    )
    assert result.status is HashStatus.PAUSED
    assert result.checkpoint is not None and result.checkpoint.next_chunk >= 1


def test_empty_file(tmp_path: Path) -> None:
    _write(tmp_path, "e.bin", b"")
    result = hash_file(LocalSource(tmp_path), _request(tmp_path, "e.bin"), throttle=_free())
    assert result.xxh128 == xxhash.xxh3_128_hexdigest(b"") and len(result.chunks) == 1


def test_sample_ranges_and_hash(tmp_path: Path) -> None:
    mib = 1024 * 1024
    assert sample_ranges(0) == []
    assert sample_ranges(2 * mib) == [(0, 2 * mib)]
    assert sample_ranges(10 * mib) == [(0, mib), ((9 * mib) // 2, mib), (9 * mib, mib)]
    data = os.urandom(5 * mib)
    _write(tmp_path, "s1", data)
    _write(tmp_path, "s2", data[:-1] + bytes([data[-1] ^ 1]))
    source = LocalSource(tmp_path)
    assert sample_hash(source, "s1", len(data)) != sample_hash(source, "s2", len(data))
