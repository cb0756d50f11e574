"""Classifier: from an archive path to catalog (brand), series and content facts.

Pure: a path and compiled :class:`~archive_analyzer.catalog.rules.Rules` in, a frozen
:class:`Classification` out; it never raises on odd input (any Unicode string is a path).
Matching is on NFC text, case-insensitive, with runs of white space collapsed and '_' read as
a space. The rules (``rules.toml``) say which folders are brands, sub-brands, locations,
containers, format and copy folders, and which words are version markers; the fact patterns
(year, season, episode, day, part, event number, buy-in, players) are fixed here because they
are the same across brands. ``docs/classification.md`` describes the whole procedure.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archive_analyzer.catalog.files import is_media
from archive_analyzer.catalog.rules import Brand, Patterns, Rules, default_rules

__all__ = [
    "Classification",
    "Rules",
    "classify",
    "default_rules",
    "normalise",
    "series_id",
    "unique_titles",
]

UNSORTED = "unsorted"

_RANGE = re.compile(r"(?<!\d)(?:19|20)\d\d\s*[-–~]\s*(?:19|20)\d\d(?!\d)")
_DATE8 = re.compile(r"(?<!\d)((?:19|20)\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)")
_DATE_SEP = re.compile(r"(?<!\d)((?:19|20)\d\d)[-.](0[1-9]|1[0-2])[-.](0[1-9]|[12]\d|3[01])(?!\d)")
_YEAR = re.compile(r"(?<![\d$#])(19[4-9]\d|20[0-4]\d)(?![\d])")
_SEASON = (
    re.compile(r"\bseason\s*(\d{1,2})\b", re.I),
    re.compile(r"\bs(\d{1,2})(?:\b|(?=\s?e(?:p)?\d))", re.I),
    re.compile(r"시즌\s*(\d{1,2})"),  # Korean 'season'
)
_EPISODE = (
    re.compile(r"\bs\d{1,2}\s?e(\d{1,3})\b", re.I),
    re.compile(r"\bep(?:isode)?\.?\s*#?\s*(\d{1,3})\b", re.I),
    re.compile(r"\be(\d{1,3})\b", re.I),
    re.compile(r"(?<!\d)(\d{1,3})\s*[회화](?!\w)"),  # Korean '5회' / '5화'
)
_DAY = re.compile(
    r"\bday\s*(?P<n>\d{1,2})(?:\s*(?:flight\s*)?(?P<l>[a-h]))?(?![a-z0-9])"
    r"|(?<!\d)(?P<kn>\d{1,2})\s*일차(?:\s*(?P<kl>[a-h])(?![a-z0-9]))?",  # Korean '1일차'
    re.I,
)
_PART = (
    re.compile(r"\bpart\s*(\d{1,3})\b", re.I),
    re.compile(r"\bpt\.?\s*(\d{1,3})\b", re.I),
    re.compile(r"(?<!\d)(\d{1,2})\s*부(?!\w)"),  # Korean '2부'
)
_TRAILING_N = re.compile(r"\((\d{1,3})\)\s*$")
_EVENT = (
    re.compile(r"\bevent\s*#?\s*(\d{1,3})\b", re.I),
    re.compile(r"\bev\.?\s*#\s*(\d{1,3})\b", re.I),
)
_MONEY = re.compile(r"(?<![\w$])\$\s?(\d+(?:[.,]\d+)?)\s?([kmb])?(?![\w.])(\s*gtd\b)?", re.I)
_MAIN_EVENT = re.compile(r"\b(super main event|main event)\b", re.I)
_BARE_YEAR = re.compile(r"^(?:19|20)\d\d$")
_HCL_LEAD = re.compile(
    r"^(?:(?:19|20)\d{6}|(?:19|20)\d\d[-.]\d\d[-.]\d\d)\s*(?:[-–_:]\s*)?(?P<rest>.*)$"
)
# '..._subclip_Alex Foxen' and 'LA 2024 subclip_Alex Foxen': the player follows 'subclip_',
# whether a '_' or a space comes before it (or it starts the name).
_SUBCLIP = re.compile(r"(?:^|[_\s])sub_?clip_(?P<name>[^_]+?)\s*$", re.I)
_SUBCLIP_MARK = re.compile(r"(?:^|[_\s])sub_?clip_", re.I)
_VS = re.compile(r"\s+(?:vs\.?|v\.?|versus)\s+", re.I)
_CARDS = re.compile(r"^(?:[2-9tjqka][shdc♠♥♦♣]?){2}[so]?$|^[2-9tjqka]{2,5}[so]?$", re.I)
_NAME_CHARS = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ .'’\-])*$")
_PUNCT_EDGES = " -–—_.,;:|/·"

_VERSION_LABELS = {
    "no-commentary": "No Commentary",
    "with-graphics": "With Graphics",
    "commentary": "Commentary",
    "stream": "Stream",
    "subclip": "Subclip",
    "clean": "Clean",
}


@dataclass(frozen=True)
class Classification:
    """What a path says about its content. Missing facts are None.

    ``title`` is the content's own title; make titles of one series unique with
    :func:`unique_titles`. ``disambiguators`` are the extra words tried, in order, when two
    titles of a series collide.
    """

    path: str
    catalog: str | None
    catalog_title: str
    series: str
    series_key: str
    series_title: str
    title: str
    kind: str | None = "episode"  # None: not a media file (junk, sidecar): no content
    sub_brand: str | None = None
    location: str | None = None
    year: int | None = None
    season: int | None = None
    episode: int | None = None
    day: str | None = None
    part: int | None = None
    event_number: int | None = None
    event_name: str | None = None
    buy_in: str | None = None
    guarantee: str | None = None
    stream_date: str | None = None
    players: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()
    duplicate: bool = False
    extension: str = ""
    sort_key: str = ""
    series_year: int | None = None
    series_sort_key: str = ""
    series_sub_brand: str | None = None
    series_location: str | None = None
    series_season: int | None = None
    disambiguators: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The CLI's JSON object (``classify --json``)."""
        return {
            "path": self.path,
            "catalog": self.catalog,
            "catalog_title": self.catalog_title,
            "sub_brand": self.sub_brand,
            "series": self.series,
            "series_title": self.series_title,
            "title": self.title,
            "kind": self.kind,
            "year": self.year,
            "season": self.season,
            "episode": self.episode,
            "day": self.day,
            "part": self.part,
            "event_number": self.event_number,
            "event_name": self.event_name,
            "buy_in": self.buy_in,
            "guarantee": self.guarantee,
            "stream_date": self.stream_date,
            "location": self.location,
            "players": list(self.players),
            "versions": list(self.versions),
            "duplicate": self.duplicate,
        }


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


def series_id(catalog_id: str | None, series_key: str) -> str:
    """The stable id of a series: a readable slug of the key plus a short hash of it.

    Derived only from the catalog id and the normalised series key (never from a row count or
    a random value), so every run and every machine gives a folder the same series id. The
    hash keeps keys that slug alike (punctuation, Korean names) apart.
    """
    catalog = catalog_id or UNSORTED
    key = f"{catalog}/{series_key}"
    folded = unicodedata.normalize("NFKD", series_key).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:60].rstrip("-")
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]
    return "-".join(part for part in (catalog, slug, digest) if part)


def _any(patterns: Patterns, text: str) -> bool:
    return any(p.search(text) for p in patterns)


def _strip(patterns: Patterns, text: str) -> str:
    for pattern in patterns:
        text = pattern.sub(" ", text)
    return tidy(text)


def _edges(text: str) -> str:
    return text.strip(_PUNCT_EDGES + " ")


@dataclass(frozen=True)
class _Folder:
    raw: str
    text: str  # spaced, copy markers removed
    display: str  # name without copy, version and format words (case kept)
    container: bool
    structural: bool
    duplicate: bool


_CACHE_LIMIT = 50_000


def _cached(rules: Rules, kind: str, text: str, compute: Any) -> Any:
    key = (kind, text)
    found = rules.cache.get(key)
    if found is None:
        if len(rules.cache) > _CACHE_LIMIT:
            rules.cache.clear()
        found = rules.cache[key] = compute(text, rules)
    return found


@dataclass(frozen=True)
class _Marks:
    """The rule markers found in one path component."""

    versions: frozenset[str]
    clip: bool
    sub_brands: tuple[tuple[str | None, str], ...]
    location: str | None
    fallback_location: str | None


def _marks(text: str, rules: Rules) -> _Marks:
    fallback = None
    for pattern in rules.location_fallback:
        match = pattern.search(text)
        if match and match.group(1).strip().casefold() not in rules.stop_words:
            fallback = match.group(1).strip().casefold()
            break
    return _Marks(
        versions=frozenset(
            m.id for m in rules.versions if m.id != "version" and _any(m.patterns, text)
        ),
        clip=_any(rules.clip, text),
        sub_brands=tuple((m.catalog, m.id) for m in rules.sub_brands if _any(m.patterns, text)),
        location=next((m.id for m in rules.locations if _any(m.patterns, text)), None),
        fallback_location=fallback,
    )


def _folder(raw: str, rules: Rules) -> _Folder:
    return _cached(rules, "folder", raw, _analyse_folder)  # type: ignore[no-any-return]


def _analyse_folder(raw: str, rules: Rules) -> _Folder:
    text = spaced(raw)
    uncopied = _strip(rules.copies, text)
    duplicate = uncopied != text
    container = _any(rules.containers, uncopied)
    display = _strip(rules.formats, uncopied)
    for marker in rules.versions:
        display = _strip(marker.patterns, display)
    display = _edges(display)
    remainder = _edges(_DAY.sub(" ", display))
    return _Folder(raw, uncopied, display, container, not remainder, duplicate)


def _split_name(name: str) -> tuple[str, str]:
    dot = name.rfind(".")
    if dot > 0 and re.fullmatch(r"[A-Za-z0-9]{1,5}", name[dot + 1 :]):
        return name[:dot], name[dot + 1 :].lower()
    return name, ""


def _find_int(patterns: Sequence[re.Pattern[str]], text: str) -> int | None:
    for pattern in patterns:
        match = pattern.search(text)
        if match:
            return int(match.group(1))
    return None


def _year(text: str) -> int | None:
    text = _RANGE.sub(" ", text)
    match = _DATE8.search(text) or _DATE_SEP.search(text)
    if match:
        return int(match.group(1))
    match = _YEAR.search(text)
    return int(match.group(1)) if match else None


def _stream_date(stem: str) -> str | None:
    match = _DATE8.search(stem) or _DATE_SEP.search(stem)
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}" if match else None


def _day(text: str) -> str | None:
    match = _DAY.search(text)
    if not match:
        return None
    number = match.group("n") or match.group("kn")
    letter = match.group("l") or match.group("kl") or ""
    return f"{int(number)}{letter.upper()}"


def _money(text: str) -> tuple[str | None, str | None]:
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


def _players(stem: str, rules: Rules) -> tuple[list[str], bool]:
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
    if lead and (_DATE8.match(text) or _DATE_SEP.match(text)) and "," in lead.group("rest"):
        for piece in re.split(r"\s*[,&+]\s*", lead.group("rest")):
            piece = _edges(piece)
            bare = _edges(re.sub(r"\(?\bcommentary\b\)?$", "", piece, flags=re.I))
            if bare != piece:
                commentary = True
            if _is_name(bare, rules):
                names.append(bare)
        return names, commentary
    segments = [s for s in re.split(r"\s+[-–]\s+", text) if s]
    last = _edges(segments[-1]) if segments else ""
    if _VS.search(last):
        sides = [_edges(s) for s in _VS.split(last)]
        # 'Hand 12 X vs Y' without a dash: drop the leading hand number.
        sides[0] = _edges(re.sub(r"^hand\s*#?\s*\d+\s*", "", sides[0], flags=re.I))
        found = [s for s in sides if _is_name(s, rules)]
        if len(found) == len(sides):
            names.extend(found)
    elif len(segments) > 1 and _is_name(last, rules):
        names.append(last)  # 'WSOP 2001 Main Event - Daniel Negreanu': the featured player
    return list(dict.fromkeys(names)), commentary


def _folder_brand(folder: str, rules: Rules) -> tuple[Brand | None, str]:
    text = spaced(folder)
    for brand in rules.brands:
        if _any(brand.folders, text):
            return brand, _edges(_strip(rules.copies, text)) or brand.title
    return None, ""


def _sub_brand(marks: Sequence[_Marks], catalog: str) -> str | None:
    return next((sid for m in marks for cat, sid in m.sub_brands if cat in (None, catalog)), None)


def _location(marks: Sequence[_Marks]) -> str | None:
    return next((m.location for m in marks if m.location), None) or next(
        (m.fallback_location for m in marks if m.fallback_location), None
    )


def _find_brand(folders: list[str], stem: str, rules: Rules) -> tuple[Brand | None, int, str]:
    for index, folder in enumerate(folders):
        brand, label = _cached(rules, "brand", folder, _folder_brand)
        if brand is not None:
            return brand, index, label
    text = spaced(stem)
    for brand in rules.brands:
        if _any(brand.names, text):
            return brand, -1, brand.title
    return None, -1, ""


def _series(below: list[_Folder], label: str, fallback: str) -> tuple[str, _Folder | None]:
    """The series title: the deepest folder that is not a container or structural one.

    A bare year folder is named after what holds it ('HCL/2025' -> 'HCL 2025', 'Main
    Event/2019' -> 'Main Event 2019'); a folder without a year or season takes its content
    parent's name in front ('WSOP 2015/Main Event MOVs' -> 'WSOP 2015 Main Event').
    """
    content = [f for f in below if not f.container and not f.structural]

    def resolved(index: int) -> str:
        folder = content[index]
        if not _BARE_YEAR.match(folder.display):
            return folder.display
        holder = content[index - 1].display if index > 0 else label
        return f"{holder} {folder.display}"

    if content:
        last = len(content) - 1
        title = resolved(last)
        if last > 0 and _year(title) is None and not _SEASON[1].search(title):
            title = f"{resolved(last - 1)} {title}"
        return title, content[last]
    containers = [f for f in below if f.container and f.display]
    return (containers[-1].display if containers else fallback), None


def _title(stem: str, facts: dict[str, Any], rules: Rules) -> str:
    text = _strip(rules.copies, tidy(stem))
    text = re.sub(r"\s+_\s+", " – ", text)
    text = _SUBCLIP_MARK.sub(" – ", text).strip(" –")
    text = tidy(text.replace("_", " "))
    date = facts.get("stream_date")
    if date:
        text = _DATE8.sub(date, text, count=1)
    text = _edges(text) or ""
    spaced_text = spaced(text)
    missing: list[str] = []
    if facts.get("event_number") is not None and not _find_int(_EVENT, spaced_text):
        missing.append(f"Event #{facts['event_number']}")
    if facts.get("day") and not _DAY.search(spaced_text):
        missing.append(f"Day {facts['day']}")
    if facts.get("part") is not None and _find_int(_PART, spaced_text) is None:
        trailing = _TRAILING_N.search(text)
        if trailing:  # the old archive's 'WSOP - 1973 (1)': say what the number is
            text = f"{text[: trailing.start()]}(Part {trailing.group(1)})"
        else:
            missing.append(f"Part {facts['part']}")
    if facts.get("episode") is not None and _find_int(_EPISODE, spaced_text) is None:
        missing.append(f"EP{facts['episode']:02d}")
    if not text:
        return " · ".join(missing) if missing else ""
    return " · ".join([text, *missing])


def classify(path: str, rules: Rules | None = None) -> Classification:
    """Classify one archive path (relative to the source root, any separators).

    In: a path string (NFC or NFD, '/' or '\\'); optional rules (default: the shipped ones).
    Out: a :class:`Classification`. Never raises for odd input.
    """
    rules = rules or default_rules()
    norm = unicodedata.normalize("NFC", path).replace("\\", "/")
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    name = parts[-1] if parts else ""
    stem, ext = _split_name(name)
    folders = parts[:-1]
    brand, index, label = _find_brand(folders, stem, rules)
    below = [_folder(f, rules) for f in (folders[index + 1 :] if brand else folders)]
    stem_text = spaced(stem)
    stem_clean = _strip(rules.copies, stem_text)
    duplicate = stem_clean != stem_text or any(f.duplicate for f in below)

    texts = [stem_clean] + [f.text for f in reversed(below)]
    year = next((y for y in (_year(t) for t in texts) if y is not None), None)
    season = next((s for s in (_find_int(_SEASON, t) for t in texts) if s is not None), None)
    episode = _find_int(_EPISODE, stem_clean)
    day = next((d for d in (_day(t) for t in texts) if d), None)
    part = _find_int(_PART, stem_clean)
    if part is None:
        trailing = _TRAILING_N.search(stem_clean)
        part = int(trailing.group(1)) if trailing else None
    event_number = next((e for e in (_find_int(_EVENT, t) for t in texts) if e is not None), None)
    buy_in, guarantee = next((m for m in (_money(t) for t in texts) if m[0] or m[1]), (None, None))
    players, commentary = _players(stem, rules)

    marks: list[_Marks] = [_cached(rules, "marks", f.text, _marks) for f in below]
    marks.append(_marks(stem_text, rules))
    found_versions = frozenset().union(*(m.versions for m in marks))
    versions = [m.id for m in rules.versions if m.id in found_versions]
    if commentary and "commentary" not in versions:
        versions.append("commentary")
    if "no-commentary" in versions and "commentary" in versions:
        versions.remove("commentary")
    kind: str | None = "clip" if any(m.clip for m in marks) else "episode"
    if not is_media(norm):
        kind = None

    catalog_title = brand.title if brand else "Unsorted"
    series_title, series_folder = _series(below, label, label or catalog_title)
    series_title = tidy(series_title) or catalog_title
    # Series-level facts come from the folders down to the series folder only, so that every
    # file of a series agrees on them (a file name must not flip its series' location).
    depth = next((i for i, f in enumerate(below) if f is series_folder), len(below) - 1)
    chain = marks[: depth + 1]
    sub_brand = series_sub_brand = location = series_location = None
    if brand is not None:
        sub_brand = _sub_brand(marks, brand.id)
        series_sub_brand = _sub_brand(chain, brand.id)
        location = _location(marks)
        series_location = _location(chain)
    key = series_key_of(series_title)
    event_match = _MAIN_EVENT.search(stem_clean) or _MAIN_EVENT.search(series_title)
    facts: dict[str, Any] = {
        "event_number": event_number,
        "day": day,
        "part": part,
        "episode": episode,
        "stream_date": _stream_date(stem_clean),
    }
    title = _title(stem, facts, rules) or series_title
    series_year = _year(series_title) or next(
        (y for y in (_year(f.text) for f in reversed(below[: depth + 1])) if y), None
    )
    version_words = [
        _VERSION_LABELS[v]
        for v in versions
        if v in _VERSION_LABELS and _VERSION_LABELS[v].casefold() not in title.casefold()
    ]
    parent = below[-1].display if below else ""
    day_num = int(re.sub(r"\D", "", day)) if day else 0
    sort_key = "|".join(
        [
            f"{year or 0:04d}",
            f"{season or 0:03d}",
            f"{event_number or 0:04d}",
            f"{day_num:03d}{(day or '')[-1:] if day and day[-1].isalpha() else ''}",
            f"{episode or 0:04d}",
            f"{part or 0:03d}",
            facts["stream_date"] or "",
            normalise(title),
        ]
    )
    return Classification(
        path=path,
        catalog=brand.id if brand else None,
        catalog_title=catalog_title,
        series=series_id(brand.id if brand else None, key),
        series_key=key,
        series_title=series_title,
        title=title,
        kind=kind,
        sub_brand=sub_brand,
        location=location,
        year=year,
        season=season,
        episode=episode,
        day=day,
        part=part,
        event_number=event_number,
        event_name=(
            event_match.group(1).title().replace("Main Event", "Main Event")
            if event_match
            else None
        ),
        buy_in=buy_in,
        guarantee=guarantee,
        stream_date=facts["stream_date"],
        players=tuple(players),
        versions=tuple(versions),
        duplicate=duplicate,
        extension=ext,
        sort_key=sort_key,
        series_year=series_year,
        series_sort_key=f"{series_year or 0:04d}|{series_sub_brand or ''}|{key}",
        series_sub_brand=series_sub_brand,
        series_location=series_location,
        series_season=_find_int(_SEASON, series_title),
        disambiguators=tuple(
            x
            for x in (
                ", ".join(version_words),
                "Copy" if duplicate else "",
                ext.upper(),
                parent if series_folder is None or parent != series_folder.display else "",
            )
            if x
        ),
    )


def _variant_rank(item: Classification) -> tuple[int, int]:
    return (int(bool(item.versions) or item.duplicate), int(item.extension != "mp4"))


def unique_titles(
    items: Sequence[Classification], taken: dict[str, str] | None = None
) -> list[str]:
    """Titles for ``items`` (contents of one series) that are unique, case-insensitively.

    ``taken`` maps ids of other contents (locked by hand) to titles nobody else may use. A
    title shared by several items gets, in turn, each item's disambiguators in parentheses
    (versions, 'Copy', container, folder) until the group is unique, and failing that a
    number (2, 3, ... by path order). Deterministic: the same items give the same titles in
    any order. Returns the titles in the order of ``items``.
    """
    reserved = {normalise(t) for t in (taken or {}).values()}
    base = [item.title for item in items]
    groups: dict[str, list[int]] = {}
    for i, title in enumerate(base):
        groups.setdefault(normalise(title), []).append(i)
    result = list(base)
    used: set[str] = set(reserved)
    clashing: list[tuple[str, list[int]]] = []
    for key, members in sorted(groups.items()):
        if len(members) == 1 and key not in reserved:
            used.add(key)
        else:
            clashing.append((key, sorted(members, key=lambda i: (items[i].path, i))))
    for key, members in clashing:
        # The plain version (no version marker, not a copy, MP4 first) keeps the bare title,
        # so adding a 'No Commentary' twin later does not rename the original.
        members = sorted(members, key=lambda i: (_variant_rank(items[i]), items[i].path, i))
        primary_free = key not in used
        depth = max(len(items[i].disambiguators) for i in members)
        chosen: list[str] | None = None
        for level in range(1, depth + 1):
            for keep_primary in (True, False) if primary_free else (False,):
                candidates = []
                for n, i in enumerate(members):
                    extra = items[i].disambiguators[:level]
                    if (keep_primary and n == 0) or not extra:
                        candidates.append(base[i])
                    else:
                        candidates.append(f"{base[i]} ({', '.join(extra)})")
                keys = [normalise(c) for c in candidates]
                if len(set(keys)) == len(keys) and not (set(keys) & used):
                    chosen = candidates
                    break
            if chosen is not None:
                break
        if chosen is None:
            chosen = []
            taken_now = set(used)
            for n, i in enumerate(members, start=1):
                candidate = base[i] if n == 1 else f"{base[i]} ({n})"
                while normalise(candidate) in taken_now:
                    n += 1
                    candidate = f"{base[i]} ({n})"
                chosen.append(candidate)
                taken_now.add(normalise(candidate))
        for i, candidate in zip(members, chosen, strict=True):
            result[i] = candidate
            used.add(normalise(candidate))
    return result
