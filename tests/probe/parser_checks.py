"""Shared checks for the container parser tests: accuracy on corpus files and robustness.

``accuracy(name, parse, corpus)`` runs a parser over a corpus file through a budgeted
``CountingReader`` and compares it with ffprobe's truth (``tests.probe.truth``).
``robust(parse, data, budget)`` runs a parser over arbitrary bytes and asserts it either
returns Facts or raises only ParseError / BudgetExceeded, never reading past the budget.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hypothesis import strategies as st

from archive_analyzer.errors import BudgetExceeded, ParseError
from archive_analyzer.probe.facts import Facts, Reader
from archive_analyzer.probe.reader import CountingReader
from archive_analyzer.probe.result import ProbeResult
from tests.probe.truth import mismatches

Parse = Callable[[Reader], Facts]
MiB = 1024 * 1024
PARSER_CAP = 4 * MiB  # no file may need more than this from any container parser


def as_result(name: str, facts: Facts, size: int) -> ProbeResult:
    """The ProbeResult the engine would build from ``facts`` (bit rate = size x 8 / duration)."""
    bit_rate = facts.bit_rate
    if bit_rate is None and facts.duration_s:
        bit_rate = int(size * 8 / facts.duration_s)
    return ProbeResult(
        path=name,
        status=facts.status,
        strategy="smart",
        container=facts.container,
        format_long_name=facts.format_long_name,
        duration_s=facts.duration_s,
        bit_rate=bit_rate,
        size=size,
        video=facts.video,
        audio=facts.audio,
        subtitle_count=facts.subtitle_count,
        timecode=facts.timecode,
    )


def accuracy(name: str, parse: Parse, corpus: dict[str, Path]) -> tuple[list[str], int]:
    """(mismatches with ffprobe's truth, bytes read) for corpus item ``name``."""
    data = corpus[name].read_bytes()
    reader = CountingReader.for_bytes(data, budget=PARSER_CAP)
    facts = parse(reader)
    return mismatches(name, as_result(name, facts, len(data)), corpus), reader.bytes_read


def robust(parse: Parse, data: bytes, budget: int = 256 * 1024) -> Facts | None:
    """Run ``parse`` over ``data`` under ``budget``: Facts, or None for a clean refusal."""
    reader = CountingReader.for_bytes(data, budget=budget)
    try:
        facts = parse(reader)
    except (ParseError, BudgetExceeded):
        return None
    finally:
        assert reader.bytes_read <= budget
    assert isinstance(facts, Facts)
    return facts


def mutations(seed: bytes) -> st.SearchStrategy[bytes]:
    """Copies of ``seed`` with a few bytes overwritten and possibly cut short."""

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        data = bytearray(seed)
        for _ in range(draw(st.integers(1, 8))):
            pos = draw(st.integers(0, len(data) - 1))
            data[pos] = draw(st.integers(0, 255))
        cut = draw(st.integers(min(len(data), 16), len(data)))
        return bytes(data[:cut])

    return build()


def head_and_tail(path: Path, keep: int = 48 * 1024) -> bytes:
    """A small stand-in for a corpus file: its head and tail joined (structures survive)."""
    data = path.read_bytes()
    if len(data) <= 2 * keep:
        return data
    return data[:keep] + data[-keep:]
