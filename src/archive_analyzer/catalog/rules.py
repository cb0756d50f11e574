"""Loading the classification rules: the shipped ``rules.toml`` plus an optional user file.

A user file's list entries are tried before the shipped ones and its scalars replace the
shipped ones; with ``replace = true`` the shipped rules are ignored. The format is documented in
``docs/classification.md``. Loading is pure apart from reading the files; nothing is compiled at
import time.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from archive_analyzer.errors import ConfigError

Patterns = tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class Brand:
    """A catalog: slug id, display title, folder and file-name patterns."""

    id: str
    title: str
    order: int
    folders: Patterns
    names: Patterns


@dataclass(frozen=True)
class Marker:
    """A named set of patterns (sub-brand, location, version)."""

    id: str
    patterns: Patterns
    catalog: str | None = None


@dataclass(frozen=True)
class Rules:
    """Compiled classification rules (see ``rules.toml``)."""

    version: str
    brands: tuple[Brand, ...]
    sub_brands: tuple[Marker, ...]
    locations: tuple[Marker, ...]
    location_fallback: Patterns
    containers: Patterns
    formats: Patterns
    copies: Patterns
    versions: tuple[Marker, ...]
    clip: Patterns
    stop_words: frozenset[str]
    max_words: int
    # Results per folder name: an archive has few distinct folders and many files in each.
    cache: dict[tuple[str, str], Any] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def catalog_order(self, catalog_id: str) -> int:
        """Display order of a catalog (unknown ones last)."""
        for brand in self.brands:
            if brand.id == catalog_id:
                return brand.order
        return 1000

    def catalog_title(self, catalog_id: str) -> str:
        for brand in self.brands:
            if brand.id == catalog_id:
                return brand.title
        return catalog_id


def _compile(values: Any, where: str) -> Patterns:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"rules: {where} must be a list of regular expressions")
    compiled: list[re.Pattern[str]] = []
    for value in values:
        try:
            compiled.append(re.compile(value, re.IGNORECASE))
        except re.error as exc:
            raise ConfigError(f"rules: bad pattern in {where}: {value!r}: {exc}") from exc
    return tuple(compiled)


def _markers(entries: Any, section: str) -> tuple[Marker, ...]:
    if not isinstance(entries, list):
        raise ConfigError(f"rules: [[{section}]] must be an array of tables")
    out: list[Marker] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise ConfigError(f"rules: [[{section}]] entry {i + 1} needs an id")
        catalog = entry.get("catalog")
        out.append(
            Marker(
                id=entry["id"],
                patterns=_compile(entry.get("patterns", []), f"{section} {entry['id']}"),
                catalog=catalog if isinstance(catalog, str) else None,
            )
        )
    return tuple(out)


def _brands(entries: Any) -> tuple[Brand, ...]:
    if not isinstance(entries, list):
        raise ConfigError("rules: [[catalog]] must be an array of tables")
    out: list[Brand] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise ConfigError(f"rules: [[catalog]] entry {i + 1} needs an id")
        cid = entry["id"]
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", cid):
            raise ConfigError(f"rules: catalog id {cid!r} must be a lower-case slug")
        out.append(
            Brand(
                id=cid,
                title=str(entry.get("title", cid)),
                order=int(entry.get("order", 1000)),
                folders=_compile(entry.get("folders", []), f"catalog {cid} folders"),
                names=_compile(entry.get("names", []), f"catalog {cid} names"),
            )
        )
    return tuple(out)


def merge(base: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    """The raw rules of ``user`` layered over ``base`` (user list entries first)."""
    if user.get("replace"):
        return user
    merged: dict[str, Any] = dict(base)
    for key, value in user.items():
        if key == "replace":
            continue
        old = merged.get(key)
        if isinstance(value, list) and isinstance(old, list):
            merged[key] = [*value, *old]
        elif isinstance(value, dict) and isinstance(old, dict):
            merged[key] = merge(old, value)
        else:
            merged[key] = value
    return merged


def build(raw: dict[str, Any]) -> Rules:
    """Compile raw (parsed TOML) rules. Raises ``ConfigError`` on a malformed rule."""
    structure = raw.get("structure", {})
    players = raw.get("players", {})
    kinds = raw.get("kinds", {})
    if not isinstance(structure, dict) or not isinstance(players, dict):
        raise ConfigError("rules: [structure] and [players] must be tables")
    stop_words = players.get("stop_words", [])
    if not isinstance(stop_words, list):
        raise ConfigError("rules: players.stop_words must be a list")
    return Rules(
        version=str(raw.get("rules_version", "0")),
        brands=_brands(raw.get("catalog", [])),
        sub_brands=_markers(raw.get("sub_brand", []), "sub_brand"),
        locations=_markers(raw.get("location", []), "location"),
        location_fallback=_compile(structure.get("location_fallback", []), "location_fallback"),
        containers=_compile(structure.get("containers", []), "structure.containers"),
        formats=_compile(structure.get("formats", []), "structure.formats"),
        copies=_compile(structure.get("copies", []), "structure.copies"),
        versions=_markers(raw.get("version_marker", []), "version_marker"),
        clip=_compile(kinds.get("clip", []) if isinstance(kinds, dict) else [], "kinds.clip"),
        stop_words=frozenset(str(w).casefold() for w in stop_words),
        max_words=int(players.get("max_words", 5)),
    )


# What a rules file may hold; anything else is a typo that would silently change nothing
TOP_KEYS = frozenset(
    {"rules_version", "replace", "catalog", "sub_brand", "location", "version_marker"}
    | {"structure", "kinds", "players"}
)
TABLE_KEYS: dict[str, frozenset[str]] = {
    "structure": frozenset({"location_fallback", "containers", "formats", "copies"}),
    "kinds": frozenset({"clip"}),
    "players": frozenset({"stop_words", "max_words"}),
}


def check_keys(raw: dict[str, Any], where: str) -> None:
    """Raise ``ConfigError`` naming the first unknown key of a parsed rules file (top level
    and the ``[structure]``, ``[kinds]``, ``[players]`` tables)."""
    for key in raw:
        if key not in TOP_KEYS:
            known = ", ".join(sorted(TOP_KEYS))
            raise ConfigError(f"rules file {where}: unknown key {key!r} (known: {known})")
    for table, allowed in TABLE_KEYS.items():
        value = raw.get(table)
        if not isinstance(value, dict):
            continue
        for key in value:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                raise ConfigError(
                    f"rules file {where}: unknown key {table}.{key!r} (known: {known})"
                )


def builtin_text() -> str:
    """The shipped rules file's text."""
    return resources.files("archive_analyzer.catalog").joinpath("rules.toml").read_text("utf-8")


def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"rules file {where} is not valid TOML: {exc}") from exc


@lru_cache(maxsize=1)
def default_rules() -> Rules:
    """The shipped rules, compiled once on first use."""
    return build(_parse(builtin_text(), "rules.toml"))


def load_rules(path: Path | None) -> Rules:
    """The shipped rules layered with the user's file at ``path`` (None: shipped only)."""
    if path is None:
        return default_rules()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read rules file {path}: {exc.strerror or exc}") from exc
    user = _parse(text, str(path))
    check_keys(user, str(path))
    return build(merge(_parse(builtin_text(), "rules.toml"), user))
