"""Classifier from an archive path to catalog / series / content facts (interim version)."""

from __future__ import annotations

import posixpath
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

RULES_VERSION = "0"


@dataclass(frozen=True)
class Rules:
    """Compiled classification rules (placeholder until the rules file lands)."""

    version: str = RULES_VERSION
    brands: tuple[tuple[str, str], ...] = (
        ("wsop", "WSOP"),
        ("hcl", "HCL"),
        ("pad", "PAD"),
        ("mpp", "MPP"),
        ("ggmillions", "GGMillions"),
        ("gog", "GOG"),
        ("pokergo", "PokerGO"),
    )

    def catalog_order(self, catalog_id: str) -> int:
        ids = [b for b, _ in self.brands]
        return ids.index(catalog_id) * 10 if catalog_id in ids else 1000


@dataclass(frozen=True)
class Classification:
    """What a path says about its content. Missing facts are None."""

    path: str
    catalog: str | None
    catalog_title: str
    series_key: str
    series_title: str
    title: str
    kind: str = "episode"
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
    sort_key: str = ""
    series_year: int | None = None
    series_sort_key: str = ""
    extension: str = ""
    disambiguators: tuple[str, ...] = field(default=(), compare=False)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["players"] = list(self.players)
        data["versions"] = list(self.versions)
        return data


def default_rules() -> Rules:
    return Rules()


def normalise(text: str) -> str:
    """NFC, case-folded, runs of white space collapsed: the form every rule matches against."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().casefold()


def classify(path: str, rules: Rules | None = None) -> Classification:
    rules = rules or default_rules()
    parts = [p for p in unicodedata.normalize("NFC", path).replace("\\", "/").split("/") if p]
    folders, name = parts[:-1], (parts[-1] if parts else "")
    catalog: str | None = None
    catalog_title = "Unsorted"
    for folder in folders[:1]:
        for brand_id, brand_title in rules.brands:
            if normalise(folder) == brand_id:
                catalog, catalog_title = brand_id, brand_title
    series_title = folders[-1] if folders else catalog_title
    stem, _ = posixpath.splitext(name)
    return Classification(
        path=path,
        catalog=catalog,
        catalog_title=catalog_title,
        series_key=normalise(series_title),
        series_title=series_title,
        title=re.sub(r"\s+", " ", stem).strip() or name,
    )


def unique_titles(items: list[Classification], taken: dict[str, str] | None = None) -> list[str]:
    """Titles for ``items`` (one series) that are unique, case-insensitively."""
    seen: dict[str, int] = {normalise(t): 1 for t in (taken or {}).values()}
    out: list[str] = []
    for item in sorted(items, key=lambda c: c.path):
        title = item.title
        n = seen.get(normalise(title), 0)
        seen[normalise(title)] = n + 1
        out.append(title if n == 0 else f"{title} ({n + 1})")
    order = {c.path: i for i, c in enumerate(sorted(items, key=lambda c: c.path))}
    return [out[order[c.path]] for c in items]
