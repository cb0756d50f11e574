"""The resumable whole-file hash agrees with the xxhash package, across saves and restores."""

from __future__ import annotations

import os

import pytest
import xxhash

from archive_analyzer.fixity.xxh import Xxh128, snapshot_usable


def test_streaming_equals_one_shot() -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    h = Xxh128()
    for start in range(0, len(data), 65536):
        h.update(data[start : start + 65536])
    assert h.hexdigest() == xxhash.xxh3_128_hexdigest(data)


def test_snapshot_resumes_in_a_new_object() -> None:
    data = os.urandom(1_000_003)
    first = Xxh128()
    first.update(memoryview(data)[:400_001])
    saved = first.snapshot()
    assert first.resumable and saved is not None and snapshot_usable(saved)
    second = Xxh128(saved)
    second.update(bytearray(data[400_001:]))
    assert second.hexdigest() == xxhash.xxh3_128_hexdigest(data)


def test_foreign_snapshot_is_refused() -> None:
    saved = Xxh128().snapshot()
    assert saved is not None
    forged = b"XXH3S1" + (9999).to_bytes(4, "little") + saved[10:]
    assert not snapshot_usable(forged)
    with pytest.raises(ValueError):
        Xxh128(forged)


def test_empty_input() -> None:
    assert Xxh128().hexdigest() == xxhash.xxh3_128_hexdigest(b"")


def test_snapshot_continues_in_another_process(tmp_path: object) -> None:
    """The saved state holds no pointer of the process that saved it (ASLR)."""
    import subprocess
    import sys

    data = os.urandom(2_000_000)
    first = Xxh128()
    first.update(data[:777_777])
    saved = first.snapshot()
    assert saved is not None
    code = (
        "import sys; from archive_analyzer.fixity.xxh import Xxh128; "
        "s, rest = sys.stdin.buffer.read().split(b'|', 1); h = Xxh128(bytes.fromhex(s.decode())); "
        "h.update(rest); print(h.hexdigest())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=saved.hex().encode() + b"|" + data[777_777:],
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.decode().strip() == xxhash.xxh3_128_hexdigest(data)
