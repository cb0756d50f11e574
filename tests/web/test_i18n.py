"""Language negotiation and message catalogs (pure)."""

from __future__ import annotations

import pytest

from archive_analyzer.web import i18n


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "en"),
        (None, "ko-KR,ko;q=0.9,en-US;q=0.8", "ko"),
        (None, "en-US,en;q=0.9,ko;q=0.8", "en"),
        (None, "fr-FR,ko;q=0.5", "ko"),
        (None, "ko;q=0.2,en;q=0.9", "en"),
        (None, "de,fr", "en"),
        ("ko", "en", "ko"),
        ("xx", "ko", "ko"),
        (None, "ko;q=abc", "ko"),
    ],
)
def test_negotiate(cookie: str | None, header: str | None, expected: str) -> None:
    assert i18n.negotiate(cookie, header) == expected


def test_catalogs_have_the_same_keys() -> None:
    assert set(i18n.MESSAGES["en"]) == set(i18n.MESSAGES["ko"])
    t = i18n.translator("ko")
    assert t("login") == "로그인"
    assert t("no such key") == "no such key"
