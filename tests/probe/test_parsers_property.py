"""Property: no parser crashes on random or mutated bytes, and none reads past its budget.

One test parametrized over every parser in the engine's static table (``probe/parsers.py``),
which names a parser for every container ``sniff`` recognises; a parser that fails to import
fails the collection of this module. Inputs are random bytes, and real corpus files (small ones)
with bytes overwritten, spliced out or cut off.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive_analyzer.errors import BudgetExceeded, ParseError
from archive_analyzer.probe.facts import Facts
from archive_analyzer.probe.parsers import PARSERS, Parse
from archive_analyzer.probe.reader import CountingReader
from archive_analyzer.probe.sniff import KINDS
from tests.fixtures.corpus import build

# A small real file per parser, mutated by hypothesis.
SEEDS = {
    "mp4": "mp4_faststart",
    "mkv": "mkv",
    "ts": "m2ts",
    "mxf": "mxf_closed",
    "avi": "avi",
    "asf": "wmv",
}
_SEED_BYTES = 256 * 1024  # mutate at most this much of the seed file

_cache: dict[str, bytes] = {}


def test_every_sniffed_container_has_a_parser() -> None:
    assert sorted(PARSERS) == sorted(KINDS) == sorted(SEEDS)


def _seed(name: str) -> bytes:
    if name not in _cache:
        path: Path = build()[SEEDS[name]]
        with path.open("rb") as handle:
            _cache[name] = handle.read(_SEED_BYTES)
    return _cache[name]


def _check(parse: Parse, data: bytes, budget: int) -> None:
    reader = CountingReader(
        lambda offset, length: data[offset : offset + length],
        len(data),
        budget=budget,
        block_size=4096,
        cache_blocks=4,
    )
    try:
        facts = parse(reader)
    except (ParseError, BudgetExceeded):
        pass
    else:
        assert isinstance(facts, Facts)
    assert reader.bytes_read <= budget


_settings = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


@pytest.mark.parametrize("name", sorted(PARSERS))
@_settings
@given(data=st.binary(max_size=4096), budget=st.integers(0, 1 << 16))
def test_random_bytes(name: str, data: bytes, budget: int) -> None:
    _check(PARSERS[name], data, budget)


@pytest.mark.parametrize("name", sorted(PARSERS))
@_settings
@given(
    edits=st.lists(
        st.tuples(st.integers(0, _SEED_BYTES), st.binary(min_size=1, max_size=8)), max_size=12
    ),
    cut=st.integers(0, _SEED_BYTES),
    splice=st.tuples(st.integers(0, _SEED_BYTES), st.integers(0, 512)),
    budget=st.integers(0, 1 << 20),
)
def test_mutated_real_files(
    name: str, edits: list[tuple[int, bytes]], cut: int, splice: tuple[int, int], budget: int
) -> None:
    parse = PARSERS[name]
    data = bytearray(_seed(name))
    for pos, chunk in edits:
        pos %= max(1, len(data))
        data[pos : pos + len(chunk)] = chunk
    start, length = splice
    del data[start : start + length]
    if cut:
        del data[cut:]
    _check(parse, bytes(data), budget)
