"""Facts in an archive path's text: the patterns and extractors the classifier assembles.

Pure functions of text and compiled :class:`~archive_analyzer.catalog.rules.Rules`: text
normalisation (NFC, white space, '_' as a space), folder analysis (container, structural,
copy and version words), the rule markers of one path component (versions, clip, sub-brand,
location), brand lookup, and each fact's extractor (year, season, episode, day, part, event,
money, players). The fact patterns are fixed here because they are the same across brands;
:mod:`archive_analyzer.catalog.classify` turns them into a series and a content.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast

from archive_analyzer.catalog.rules import Brand, Patterns, Rules

T = TypeVar("T")

_RANGE = re.compile(r"(?<!\d)(?:19|20)\d\d\s*[-–~]\s*(?:19|20)\d\d(?!\d)")
DATE8 = re.compile(r"(?<!\d)((?:19|20)\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)")
_DATE_SEP = re.compile(r"(?<!\d)((?:19|20)\d\d)[-.](0[1-9]|1[0-2])[-.](0[1-9]|[12]\d|3[01])(?!\d)")
_YEAR = re.compile(r"(?<![\d$#])(19[4-9]\d|20[0-4]\d)(?![\d])")
SEASON = (
    re.compile(r"\bseason\s*(\d{1,2})\b", re.I),
    re.compile(r"\bs(\d{1,2})(?:\b|(?=\s?e(?:p)?\d))", re.I),
    re.compile(r"시즌\s*(\d{1,2})"),  # Korean 'season'
)
EPISODE = (
    re.compile(r"\bs\d{1,2}\s?e(\d{1,3})\b", re.I),
    re.compile(r"\bep(?:isode)?\.?\s*#?\s*(\d{1,3})\b", re.I),
    re.compile(r"\be(\d{1,3})\b", re.I),
    re.compile(r"(?<!\d)(\d{1,3})\s*[회화](?!\w)"),  # Korean '5회' / '5화'
)
DAY = re.compile(
    r"\bday\s*(?P<n>\d{1,2})(?:\s*(?:flight\s*)?(?P<l>[a-h]))?(?![a-z0-9])"
    r"|(?<!\d)(?P<kn>\d{1,2})\s*일차(?:\s*(?P<kl>[a-h])(?![a-z0-9]))?",  # Korean '1일차'
    re.I,
)
PART = (
    re.compile(r"\bpart\s*(\d{1,3})\b", re.I),
    re.compile(r"\bpt\.?\s*(\d{1,3})\b", re.I),
    re.compile(r"(?<!\d)(\d{1,2})\s*부(?!\w)"),  # Korean '2부'
)
TRAILING_N = re.compile(r"\((\d{1,3})\)\s*$")
EVENT = (
    re.compile(r"\bevent\s*#?\s*(\d{1,3})\b", re.I),
    re.compile(r"\bev\.?\s*#\s*(\d{1,3})\b", re.I),
)
_MONEY = re.compile(r"(?<![\w$])\$\s?(\d+(?:[.,]\d+)?)\s?([kmb])?(?![\w.])(\s*gtd\b)?", re.I)
MAIN_EVENT = re.compile(r"\b(super main event|main event)\b", re.I)
BARE_YEAR = re.compile(r"^(?:19|20)\d\d$")
_HCL_LEAD = re.compile(
    r"^(?:(?:19|20)\d{6}|(?:19|20)\d\d[-.]\d\d[-.]\d\d)\s*(?:[-–_:]\s*)?(?P<rest>.*)$"
)
# '..._subclip_Alex Foxen' and 'LA 2024 subclip_Alex Foxen': the player follows 'subclip_',
# whether a '_' or a space comes before it (or it starts the name).
_SUBCLIP = re.compile(r"(?:^|[_\s])sub_?clip_(?P<name>[^_]+?)\s*$", re.I)
SUBCLIP_MARK = re.compile(r"(?:^|[_\s])sub_?clip_", re.I)
_VS = re.compile(r"\s+(?:vs\.?|v\.?|versus)\s+", re.I)
_CARDS = re.compile(r"^(?:[2-9tjqka][shdc♠♥♦♣]?){2}[so]?$|^[2-9tjqka]{2,5}[so]?$", re.I)
_NAME_CHARS = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ .'’\-])*$")
_PUNCT_EDGES = " -–—_.,;:|/·"


def tidy(text: str) -> str:
    """NFC with runs of white space collapsed and the ends trimmed (case kept)."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def spaced(text: str) -> str:
    """:func:`tidy` with '_' read as a space: the form every rule pattern is matched on."""
    return tidy(text.replace("_", " "))


def normalise(text: str) -> str:
    """The matching key of a name: :func:`tidy` and case-folded."""
    return tidy(text).casefold()


def series_key_of(title: str) -> str:
    """A series' key: its title case-folded with '-', '_' and white space runs unified."""
    return re.sub(r"[\s\-_–]+", " ", normalise(title)).strip()


def any_match(patterns: Patterns, text: str) -> bool:
    return any(p.search(text) for p in patterns)


def strip_all(patterns: Patterns, text: str) -> str:
    for pattern in patterns:
        text = pattern.sub(" ", text)
    return tidy(text)


def edges(text: str) -> str:
    return text.strip(_PUNCT_EDGES + " ")


@dataclass(frozen=True)
class Folder:
    raw: str
    text: str  # spaced, copy markers removed
    display: str  # name without copy, version and format words (case kept)
    container: bool
    structural: bool
    duplicate: bool


_CACHE_LIMIT = 50_000


def cached(rules: Rules, kind: str, text: str, compute: Callable[[str, Rules], T]) -> T:
    """``compute(text, rules)``, memoised in the rules' cache (paths share most folders)."""
    key = (kind, text)
    found = rules.cache.get(key)
    if found is None:
        if len(rules.cache) > _CACHE_LIMIT:
            rules.cache.clear()
        found = rules.cache[key] = compute(text, rules)
    return cast(T, found)


@dataclass(frozen=True)
class Marks:
    """The rule markers found in one path component."""

    versions: frozenset[str]
    clip: bool
    sub_brands: tuple[tuple[str | None, str], ...]
    location: str | None
    fallback_location: str | None


def marks_of(text: str, rules: Rules) -> Marks:
    """The markers of one path component (a folder or the file name)."""
    fallback = None
    for pattern in rules.location_fallback:
        match = pattern.search(text)
        if match and match.group(1).strip().casefold() not in rules.stop_words:
            fallback = match.group(1).strip().casefold()
            break
    return Marks(
        versions=frozenset(
            m.id for m in rules.versions if m.id != "version" and any_match(m.patterns, text)
        ),
        clip=any_match(rules.clip, text),
        sub_brands=tuple(
            (m.catalog, m.id) for m in rules.sub_brands if any_match(m.patterns, text)
        ),
        location=next((m.id for m in rules.locations if any_match(m.patterns, text)), None),
        fallback_location=fallback,
    )


def folder_of(raw: str, rules: Rules) -> Folder:
    """What one folder name is: container, structural or content, and its display name."""
    return cached(rules, "folder", raw, _analyse_folder)


def _analyse_folder(raw: str, rules: Rules) -> Folder:
    text = spaced(raw)
    uncopied = strip_all(rules.copies, text)
    duplicate = uncopied != text
    container = any_match(rules.containers, uncopied)
    display = strip_all(rules.formats, uncopied)
    for marker in rules.versions:
        display = strip_all(marker.patterns, display)
    display = edges(display)
    remainder = edges(DAY.sub(" ", display))
    return Folder(raw, uncopied, display, container, not remainder, duplicate)


def split_name(name: str) -> tuple[str, str]:
    dot = name.rfind(".")
    if dot > 0 and re.fullmatch(r"[A-Za-z0-9]{1,5}", name[dot + 1 :]):
        return name[:dot], name[dot + 1 :].lower()
    return name, ""


def find_int(patterns: Sequence[re.Pattern[str]], text: str) -> int | None:
    for pattern in patterns:
        match = pattern.search(text)
        if match:
            return int(match.group(1))
    return None


def year_of(text: str) -> int | None:
    text = _RANGE.sub(" ", text)
    match = DATE8.search(text) or _DATE_SEP.search(text)
    if match:
        return int(match.group(1))
    match = _YEAR.search(text)
    return int(match.group(1)) if match else None


def stream_date_of(stem: str) -> str | None:
    match = DATE8.search(stem) or _DATE_SEP.search(stem)
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}" if match else None


def day_of(text: str) -> str | None:
    match = DAY.search(text)
    if not match:
        return None
    number = match.group("n") or match.group("kn")
    letter = match.group("l") or match.group("kl") or ""
    return f"{int(number)}{letter.upper()}"


def money_of(text: str) -> tuple[str | None, str | None]:
    buy_in: str | None = None
    guarantee: str | None = None
    for match in _MONEY.finditer(text):
        amount = f"${match.group(1)}{(match.group(2) or '').upper()}"
        if match.group(3):
            guarantee = guarantee or f"{amount} GTD"
        else:
            buy_in = buy_in or amount
    # A bare guarantee is the only money figure of many folder names ('$5M GTD ...').
    return buy_in or guarantee, guarantee


def _is_name(text: str, rules: Rules) -> bool:
    words = text.split()
    if not words or len(words) > rules.max_words or not _NAME_CHARS.match(text):
        return False
    if _CARDS.match(text.replace(" ", "")):
        return False
    return not any(w.casefold().strip(".'’-") in rules.stop_words for w in words)


def players_of(stem: str, rules: Rules) -> tuple[list[str], bool]:
    """Player names in a file name, and whether a trailing 'Commentary' marked a version."""
    names: list[str] = []
    commentary = False
    subclip = _SUBCLIP.search(stem)
    if subclip:
        name = tidy(subclip.group("name"))
        if _is_name(name, rules):
            names.append(name)
        stem = stem[: subclip.start()]
    text = spaced(stem)
    lead = _HCL_LEAD.match(text)
    if lead and (DATE8.match(text) or _DATE_SEP.match(text)) and "," in lead.group("rest"):
        for piece in re.split(r"\s*[,&+]\s*", lead.group("rest")):
            piece = edges(piece)
            bare = edges(re.sub(r"\(?\bcommentary\b\)?$", "", piece, flags=re.I))
            if bare != piece:
                commentary = True
            if _is_name(bare, rules):
                names.append(bare)
        return names, commentary
    segments = [s for s in re.split(r"\s+[-–]\s+", text) if s]
    last = edges(segments[-1]) if segments else ""
    if _VS.search(last):
        sides = [edges(s) for s in _VS.split(last)]
        # 'Hand 12 X vs Y' without a dash: drop the leading hand number.
        sides[0] = edges(re.sub(r"^hand\s*#?\s*\d+\s*", "", sides[0], flags=re.I))
        found = [s for s in sides if _is_name(s, rules)]
        if len(found) == len(sides):
            names.extend(found)
    elif len(segments) > 1 and _is_name(last, rules):
        names.append(last)  # 'WSOP 2001 Main Event - Daniel Negreanu': the featured player
    return list(dict.fromkeys(names)), commentary


def _folder_brand(folder: str, rules: Rules) -> tuple[Brand | None, str]:
    text = spaced(folder)
    for brand in rules.brands:
        if any_match(brand.folders, text):
            return brand, edges(strip_all(rules.copies, text)) or brand.title
    return None, ""


def sub_brand_of(marks: Sequence[Marks], catalog: str) -> str | None:
    return next((sid for m in marks for cat, sid in m.sub_brands if cat in (None, catalog)), None)


def location_of(marks: Sequence[Marks]) -> str | None:
    return next((m.location for m in marks if m.location), None) or next(
        (m.fallback_location for m in marks if m.fallback_location), None
    )


def find_brand(folders: list[str], stem: str, rules: Rules) -> tuple[Brand | None, int, str]:
    for index, folder in enumerate(folders):
        brand, label = cached(rules, "brand", folder, _folder_brand)
        if brand is not None:
            return brand, index, label
    text = spaced(stem)
    for brand in rules.brands:
        if any_match(brand.names, text):
            return brand, -1, brand.title
    return None, -1, ""
