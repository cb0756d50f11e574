"""Korean text helpers for search: initial consonants (초성) and query classification.

A Hangul syllable U+AC00..U+D7A3 is (initial * 21 + medial) * 28 + final; its initial consonant
is one of 19 jamo. Search stores player names as their compatibility-jamo initials so that
``ㄴㄱㄹㅇㄴ`` finds ``네그레아누``.
"""

from __future__ import annotations

import unicodedata

_SYLLABLE_FIRST = 0xAC00
_SYLLABLE_LAST = 0xD7A3
_INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_CONSONANTS = frozenset("ㄱㄲㄳㄴㄵㄶㄷㄸㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅃㅄㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ")


def choseong(text: str) -> str:
    """The initial consonants of the Hangul syllables in ``text``; other characters dropped.

    Words are kept apart by single spaces: ``"다니엘 네그레아누"`` -> ``"ㄷㄴㅇ ㄴㄱㄹㅇㄴ"``.
    """
    words: list[str] = []
    for word in unicodedata.normalize("NFC", text).split():
        initials = "".join(
            _INITIALS[(ord(ch) - _SYLLABLE_FIRST) // (21 * 28)]
            for ch in word
            if _SYLLABLE_FIRST <= ord(ch) <= _SYLLABLE_LAST
        )
        if initials:
            words.append(initials)
    return " ".join(words)


def is_choseong_query(text: str) -> bool:
    """True when ``text`` is made only of Hangul consonant jamo (and spaces): a 초성 query."""
    letters = [ch for ch in text if not ch.isspace()]
    return bool(letters) and all(ch in _CONSONANTS for ch in letters)
