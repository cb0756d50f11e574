"""Every string a person reads in the web app is translated: no literal words in templates, and
every message key the templates and the code use exists in Korean and English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archive_analyzer.web import i18n

WEB = Path(__file__).resolve().parents[2] / "src" / "archive_analyzer" / "web"
TEMPLATES = sorted((WEB / "templates").rglob("*.html"))

# Attributes whose values are read by people (shown, or spoken by screen readers).
_READ_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label", "label")
# Written the same in both languages: units, symbols and names.
UNIVERSAL = {
    "fps",
    "Hz",
    "ch",
    "UTC",
    "JPEG",
    "PNG",
    "WebP",
    "CSRF",
    "JSON",
    "HTTP",
    "OpenAPI",
    "v",
    *("EDL", "FCP", "XML", "OTIO", "CSV"),  # file formats, named the same in Korean
    *("I", "O"),  # keyboard keys in hints: "(I)"
}
_WORD = re.compile(r"[A-Za-z\uac00-\ud7a3]{1,}")


def literal_words(source: str) -> list[str]:
    """Words of ``source`` outside Jinja expressions, statements, comments, scripts and tag
    markup, plus the words of readable attributes (pure)."""
    text = re.sub(r"{#.*?#}", " ", source, flags=re.S)
    text = re.sub(r"<script\b.*?</script>", " ", text, flags=re.S | re.I)
    text = re.sub(r"<style\b.*?</style>", " ", text, flags=re.S | re.I)
    text = re.sub(r"<code\b.*?</code>", " ", text, flags=re.S | re.I)  # identifiers
    text = re.sub(r"<kbd\b.*?</kbd>", " ", text, flags=re.S | re.I)  # keyboard keys
    text = re.sub(r"{%.*?%}", " ", text, flags=re.S)
    text = re.sub(r"{{.*?}}", " ", text, flags=re.S)
    found: list[str] = []
    for tag in re.findall(r"<[^>]+>", text):
        for name in _READ_ATTRIBUTES:
            for value in re.findall(rf'\s{name}="([^"]*)"', tag):
                found += _WORD.findall(value)
    outside = re.sub(r"<[^>]+>", " ", text)
    outside = re.sub(r"&[a-z]+;|&#\d+;", " ", outside)
    found += _WORD.findall(outside)
    return [w for w in found if w not in UNIVERSAL]


def test_the_check_finds_literal_words() -> None:
    assert literal_words('<p title="Hello">{{ t("x") }} World</p>') == ["Hello", "World"]
    assert literal_words("{% if a %}<b>{{ t('y') }}</b>{% endif %} · 60 fps") == []
    assert literal_words('<img alt="" src="/a.png"><span class="badge">4K</span>') == ["K"]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(WEB)))
def test_no_template_string_lacks_a_translation(template: Path) -> None:
    words = literal_words(template.read_text(encoding="utf-8"))
    assert words == [], f"untranslated words in {template.name}: {words}"


def _used_keys() -> set[str]:
    keys: set[str] = set()
    pattern = re.compile(r"""\b(?:t|tn|_t)\(\s*['"]([a-z0-9_]*[a-z0-9])['"]""")
    for path in [*TEMPLATES, *WEB.rglob("*.py")]:
        keys |= set(pattern.findall(path.read_text(encoding="utf-8")))
    return keys


def test_every_used_key_exists_in_both_languages() -> None:
    en, ko = i18n.MESSAGES["en"], i18n.MESSAGES["ko"]
    missing = set()
    for key in _used_keys():
        plural = {f"{key}_other"} <= en.keys()
        if key not in en and not plural:
            missing.add(key)
    assert missing == set(), f"message keys used but not defined: {sorted(missing)}"
    assert set(en) == set(ko), set(en) ^ set(ko)
    empty = [k for k in en if not en[k].strip() or not ko[k].strip()]
    assert empty == []


def test_korean_messages_are_korean() -> None:
    """A Korean message that is the English one unchanged is a forgotten translation (names,
    units and abbreviations the Korean UI writes in Latin letters are listed)."""
    same_on_purpose = {"api_docs", "value_redis"}
    en, ko = i18n.MESSAGES["en"], i18n.MESSAGES["ko"]
    untranslated = [
        k for k in en if en[k] == ko[k] and _WORD.search(en[k]) and k not in same_on_purpose
    ]
    assert untranslated == []
