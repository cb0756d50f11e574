"""Range parsing (pure)."""

from __future__ import annotations

import pytest

from archive_analyzer.byteranges import ByteSpan, Unsatisfiable, parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("bytes=0-", ByteSpan(0, 99, 100)),
        ("bytes=10-19", ByteSpan(10, 19, 100)),
        ("bytes=90-500", ByteSpan(90, 99, 100)),
        ("bytes=-10", ByteSpan(90, 99, 100)),
        ("bytes=-1000", ByteSpan(0, 99, 100)),
        ("BYTES = 5-5", ByteSpan(5, 5, 100)),
        ("bytes=0-1,3-4", None),
        ("bytes=5-1", None),
        ("bits=0-1", None),
        ("bytes=x-1", None),
        ("bytes=-", None),
        ("bytes=١-٢", None),  # non-ASCII digits are not digits here
    ],
)
def test_parse_range(header: str | None, expected: ByteSpan | None) -> None:
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=150-200", "bytes=-0"])
def test_unsatisfiable(header: str) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, 100)


def test_empty_file_suffix_unsatisfiable() -> None:
    with pytest.raises(Unsatisfiable):
        parse_range("bytes=-5", 0)


def test_span_headers() -> None:
    span = ByteSpan(10, 19, 100)
    assert span.length == 10
    assert span.content_range == "bytes 10-19/100"
