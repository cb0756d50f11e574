"""Catalog paths: ``str``, relative to the source root, forward slashes, Unicode NFC."""

from __future__ import annotations

import posixpath
import unicodedata

# NAS housekeeping entries that are never part of the archive.
SKIPPED_DIRS = frozenset({"@eadir", "#recycle", "#snapshot", ".ds_store"})
SKIPPED_FILES = frozenset({"thumbs.db", ".ds_store", "desktop.ini"})


def normalize(path: str) -> str:
    """Return ``path`` as a catalog path: NFC, ``/`` separators, no leading/trailing slash.

    Backslashes (Windows clients) become ``/``; ``.`` parts and empty parts are dropped. A path
    that tries to climb out of the root with ``..`` raises ``ValueError``.
    """
    text = unicodedata.normalize("NFC", path.replace("\\", "/"))
    parts: list[str] = []
    for part in text.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            raise ValueError("path leaves the source root")
        parts.append(part)
    return "/".join(parts)


def join(parent: str, name: str) -> str:
    """Join a catalog path and a child name (both already normalised)."""
    return f"{parent}/{name}" if parent else name


def name_of(path: str) -> str:
    """The last component of a catalog path."""
    return posixpath.basename(path)


def extension(path: str) -> str:
    """Lower-case extension without the dot ('' when there is none)."""
    base = posixpath.basename(path)
    dot = base.rfind(".")
    return base[dot + 1 :].lower() if dot > 0 else ""


def is_housekeeping(name: str) -> bool:
    """True for NAS housekeeping entries (``@eaDir``, ``#recycle``, ``._*``, ``Thumbs.db``...)."""
    lowered = name.lower()
    return lowered in SKIPPED_DIRS or lowered in SKIPPED_FILES or name.startswith("._")


def sort_key(path: str) -> tuple[str, ...]:
    """The traversal order of a tree: depth-first, siblings by code point, parent first."""
    return tuple(path.split("/")) if path else ()
