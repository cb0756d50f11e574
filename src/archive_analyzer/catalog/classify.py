"""Classifier: from an archive path to its catalog (brand), series and content.

Pure: a path and compiled :class:`~archive_analyzer.catalog.rules.Rules` in, a frozen
:class:`Classification` out; it never raises on odd input (any Unicode string is a path).
The facts come from :mod:`~archive_analyzer.catalog.pathfacts` (text patterns, folder roles,
markers); this module decides what they make: the series (which folder names it, its id and
series-level facts), the content's kind, title and sort key, and unique titles within a
series. The ``classify --json`` record is :mod:`~archive_analyzer.catalog.classify_json`.
``docs/classification.md`` describes the whole procedure.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archive_analyzer.catalog.files import is_media
from archive_analyzer.catalog.pathfacts import (
    BARE_YEAR,
    DATE8,
    DAY,
    EPISODE,
    EVENT,
    MAIN_EVENT,
    PART,
    SEASON,
    SUBCLIP_MARK,
    TRAILING_N,
    Folder,
    Marks,
    cached,
    day_of,
    edges,
    find_brand,
    find_int,
    folder_of,
    location_of,
    marks_of,
    money_of,
    normalise,
    players_of,
    series_key_of,
    spaced,
    split_name,
    stream_date_of,
    strip_all,
    sub_brand_of,
    tidy,
    year_of,
)
from archive_analyzer.catalog.rules import Rules, default_rules

__all__ = [
    "Classification",
    "Rules",
    "classify",
    "default_rules",
    "series_id",
    "unique_titles",
]

UNSORTED = "unsorted"

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


def _series(below: list[Folder], label: str, fallback: str) -> tuple[str, Folder | None]:
    """The series title: the deepest folder that is not a container or structural one.

    A bare year folder is named after what holds it ('HCL/2025' -> 'HCL 2025', 'Main
    Event/2019' -> 'Main Event 2019'); a folder without a year or season takes its content
    parent's name in front ('WSOP 2015/Main Event MOVs' -> 'WSOP 2015 Main Event').
    """
    content = [f for f in below if not f.container and not f.structural]

    def resolved(index: int) -> str:
        folder = content[index]
        if not BARE_YEAR.match(folder.display):
            return folder.display
        holder = content[index - 1].display if index > 0 else label
        return f"{holder} {folder.display}"

    if content:
        last = len(content) - 1
        title = resolved(last)
        if last > 0 and year_of(title) is None and not SEASON[1].search(title):
            title = f"{resolved(last - 1)} {title}"
        return title, content[last]
    containers = [f for f in below if f.container and f.display]
    return (containers[-1].display if containers else fallback), None


def _title(stem: str, facts: dict[str, Any], rules: Rules) -> str:
    text = strip_all(rules.copies, tidy(stem))
    text = re.sub(r"\s+_\s+", " – ", text)
    text = SUBCLIP_MARK.sub(" – ", text).strip(" –")
    text = tidy(text.replace("_", " "))
    date = facts.get("stream_date")
    if date:
        text = DATE8.sub(date, text, count=1)
    text = edges(text) or ""
    spaced_text = spaced(text)
    missing: list[str] = []
    if facts.get("event_number") is not None and not find_int(EVENT, spaced_text):
        missing.append(f"Event #{facts['event_number']}")
    if facts.get("day") and not DAY.search(spaced_text):
        missing.append(f"Day {facts['day']}")
    if facts.get("part") is not None and find_int(PART, spaced_text) is None:
        trailing = TRAILING_N.search(text)
        if trailing:  # the old archive's 'WSOP - 1973 (1)': say what the number is
            text = f"{text[: trailing.start()]}(Part {trailing.group(1)})"
        else:
            missing.append(f"Part {facts['part']}")
    if facts.get("episode") is not None and find_int(EPISODE, spaced_text) is None:
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
    stem, ext = split_name(name)
    folders = parts[:-1]
    brand, index, label = find_brand(folders, stem, rules)
    below = [folder_of(f, rules) for f in (folders[index + 1 :] if brand else folders)]
    stem_text = spaced(stem)
    stem_clean = strip_all(rules.copies, stem_text)
    duplicate = stem_clean != stem_text or any(f.duplicate for f in below)

    texts = [stem_clean] + [f.text for f in reversed(below)]
    year = next((y for y in (year_of(t) for t in texts) if y is not None), None)
    season = next((s for s in (find_int(SEASON, t) for t in texts) if s is not None), None)
    episode = find_int(EPISODE, stem_clean)
    day = next((d for d in (day_of(t) for t in texts) if d), None)
    part = find_int(PART, stem_clean)
    if part is None:
        trailing = TRAILING_N.search(stem_clean)
        part = int(trailing.group(1)) if trailing else None
    event_number = next((e for e in (find_int(EVENT, t) for t in texts) if e is not None), None)
    buy_in, guarantee = next(
        (m for m in (money_of(t) for t in texts) if m[0] or m[1]), (None, None)
    )
    players, commentary = players_of(stem, rules)

    marks: list[Marks] = [cached(rules, "marks", f.text, marks_of) for f in below]
    marks.append(marks_of(stem_text, rules))
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
        sub_brand = sub_brand_of(marks, brand.id)
        series_sub_brand = sub_brand_of(chain, brand.id)
        location = location_of(marks)
        series_location = location_of(chain)
    key = series_key_of(series_title)
    event_match = MAIN_EVENT.search(stem_clean) or MAIN_EVENT.search(series_title)
    facts: dict[str, Any] = {
        "event_number": event_number,
        "day": day,
        "part": part,
        "episode": episode,
        "stream_date": stream_date_of(stem_clean),
    }
    title = _title(stem, facts, rules) or series_title
    series_year = year_of(series_title) or next(
        (y for y in (year_of(f.text) for f in reversed(below[: depth + 1])) if y), None
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
        series_season=find_int(SEASON, series_title),
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
