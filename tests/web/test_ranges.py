"""HTTP validators (pure); Range parsing is tests/test_byteranges.py."""

from __future__ import annotations

from archive_analyzer.web.ranges import etag, http_date, if_range_allows, none_match


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
