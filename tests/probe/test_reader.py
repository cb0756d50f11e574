"""CountingReader: block cache, counters, budget, deadline, file-like view."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive_analyzer.errors import BudgetExceeded, ProbeTimeout
from archive_analyzer.probe.reader import CountingReader, ReaderFile, local_reader

DATA = bytes(range(256)) * 1024  # 256 KiB


def make(budget: int = len(DATA), **kw: int) -> tuple[CountingReader, list[tuple[int, int]]]:
    calls: list[tuple[int, int]] = []

    def fetch(offset: int, length: int) -> bytes:
        calls.append((offset, length))
        return DATA[offset : offset + length]

    return CountingReader(fetch, len(DATA), budget=budget, **kw), calls


def test_small_reads_in_one_block_cost_one_fetch() -> None:
    reader, calls = make(block_size=4096)
    assert reader.read(10, 8) == DATA[10:18]
    assert reader.read(100, 16) == DATA[100:116]
    assert calls == [(0, 4096)]
    assert (reader.reads, reader.bytes_read) == (1, 4096)


def test_spanning_read_fetches_missing_run_once() -> None:
    reader, calls = make(block_size=4096)
    reader.read(4096, 10)
    assert reader.read(0, 3 * 4096 + 5) == DATA[: 3 * 4096 + 5]
    assert calls == [(4096, 4096), (0, 4096), (8192, 8192)]


def test_end_of_file_is_short_not_an_error() -> None:
    reader, _ = make(block_size=4096)
    assert reader.read(len(DATA) - 3, 100) == DATA[-3:]
    assert reader.read(len(DATA) + 10, 100) == b""


def test_budget_is_enforced_before_fetching() -> None:
    reader, calls = make(budget=8192, block_size=4096)
    reader.read(0, 8192)
    with pytest.raises(BudgetExceeded):
        reader.read(100_000, 1)
    assert len(calls) == 1
    assert reader.bytes_read == 8192


def test_deadline() -> None:
    reader, _ = make(deadline=int(time.monotonic()) - 1)
    with pytest.raises(ProbeTimeout):
        reader.read(0, 1)


def test_lru_evicts_old_blocks() -> None:
    reader, calls = make(block_size=1024, cache_blocks=2)
    for offset in (0, 1024, 2048, 0):
        reader.read(offset, 1)
    assert [c[0] for c in calls] == [0, 1024, 2048, 0]


def test_file_view_seeks_and_reads() -> None:
    reader, _ = make(block_size=4096)
    view = ReaderFile(reader)
    assert view.seek(-10, io.SEEK_END) == len(DATA) - 10
    assert view.read() == DATA[-10:]
    view.seek(5)
    buf = bytearray(4)
    assert view.readinto(buf) == 4 and bytes(buf) == DATA[5:9]
    assert view.tell() == 9


def test_local_reader(tmp_path: Path) -> None:
    target = tmp_path / "f.bin"
    target.write_bytes(DATA)
    reader, close = local_reader(target, budget=1 << 20)
    try:
        assert reader.size == len(DATA)
        assert reader.read(70_000, 5) == DATA[70_000:70_005]
    finally:
        close()


@given(st.lists(st.tuples(st.integers(0, len(DATA) + 10), st.integers(0, 70_000)), max_size=20))
def test_reads_match_the_data(ops: list[tuple[int, int]]) -> None:
    reader, _ = make(budget=1 << 30, block_size=1000, cache_blocks=3)
    for offset, length in ops:
        assert reader.read(offset, length) == DATA[offset : offset + length]
