"""Range parsing and validators (pure)."""

from __future__ import annotations

import pytest

from archive_analyzer.web.ranges import (
    ByteSpan,
    Unsatisfiable,
    etag,
    http_date,
    if_range_allows,
    none_match,
    parse_range,
)


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


def test_validators() -> None:
    tag = etag("f1", 100, 5.0)
    assert tag != etag("f1", 101, 5.0) != etag("f1", 100, 6.0)
    assert if_range_allows(None, tag, 5.0)
    assert if_range_allows(tag, tag, 5.0)
    assert not if_range_allows('"other"', tag, 5.0)
    assert not if_range_allows("W/" + tag, tag, 5.0)
    assert if_range_allows(http_date(5.0), tag, 5.0)
    assert not if_range_allows(http_date(7.0), tag, 5.0)
    assert not if_range_allows("not a date", tag, 5.0)
    assert none_match(tag, tag) and none_match("*", tag) and none_match(f'"x", W/{tag}', tag)
    assert not none_match(None, tag) and not none_match('"x"', tag)
