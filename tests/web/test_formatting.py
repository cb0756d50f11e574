"""Values as people read them: containers and languages by name, sizes, counts, times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archive_analyzer.web import formatting, i18n
from archive_analyzer.web.formatting import Formatter
from archive_analyzer.web.render import day_label, fact, term


@pytest.mark.parametrize(
    ("container", "ext", "name"),
    [
        ("mov,mp4,m4a,3gp,3g2,mj2", "mp4", "MP4"),
        ("mov,mp4,m4a,3gp,3g2,mj2", "MOV", "QuickTime (MOV)"),
        ("mov,mp4,m4a,3gp,3g2,mj2", None, "MP4 / QuickTime"),
        ("matroska,webm", "mkv", "Matroska (MKV)"),
        ("matroska,webm", "webm", "WebM"),
        ("mpegts", "ts", "MPEG-TS"),
        ("mxf", "mxf", "MXF"),
        ("wtv", "wtv", "WTV"),
        (None, "mp4", None),
    ],
)
def test_container_names(container: str | None, ext: str | None, name: str | None) -> None:
    assert formatting.container_name(container, ext) == name


def test_language_names() -> None:
    assert formatting.language_name("kor", "ko") == "한국어"
    assert formatting.language_name("kor", "en") == "Korean"
    assert formatting.language_name("eng", "ko") == "영어"
    assert formatting.language_name("ger", "en") == "German"  # ISO 639-2/B
    assert formatting.language_name("deu", "en") == "German"  # ISO 639-2/T
    assert formatting.language_name("ja", "ko") == "일본어"
    for unknown in ("und", "", None, "zxx"):
        assert formatting.language_name(unknown, "en") is None
    assert formatting.language_name("qqq", "en") == "qqq"


def test_numbers_sizes_and_times() -> None:
    fmt = Formatter("en", lambda: datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    assert fmt.count(1234567) == "1,234,567" and fmt.count(None) == ""
    assert fmt.size(512) == "512 B" and fmt.size(1536) == "1.5 KB"
    assert fmt.size(5 * 1024**4) == "5 TB"
    assert "just now" in fmt.ago("2026-01-01T11:59:50.000000Z")
    assert "2 hours ago" in fmt.ago("2026-01-01T10:00:00.000000Z")
    assert fmt.ago(None, "never") == "never" and fmt.ago("not a time") == "not a time"
    ko = Formatter("ko", lambda: datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    assert "3분 전" in ko.ago("2026-01-01T11:57:00.000000Z")
    assert ko.seconds(7200) == "2시간"


def test_poker_terms() -> None:
    ko, en = i18n.translator("ko"), i18n.translator("en")
    assert day_label("1A", "", ko) == "1일차 A" and day_label("2", "", ko) == "2일차"
    assert day_label("1A", "", en) == "Day 1A" and day_label("FINAL", "", ko) == "파이널 테이블"
    assert term("Main Event", ko) == "메인 이벤트" and term("Main Event", en) == "Main Event"
    assert term("Ladies Event", ko) == "Ladies Event"  # not a known term: as it is
    assert fact("event_name", "Super Main Event", ko) == "슈퍼 메인 이벤트"
    assert fact("is_all_in", 1, ko) == "예" and fact("buy_in", "$10K", ko) == "$10K"
    assert i18n.translator("ko")("part_n", n=2) == "2부"
