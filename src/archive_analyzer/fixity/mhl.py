"""ASC Media Hash List manifests (the ``ascmhl`` package) written from stored hashes.

``write_manifest`` builds one MHL 2.0 hash list (``xxh128`` per file, with size and
modification date) for a folder of the archive, as a flat packing list outside the archive
(the share is read-only to us; ASC MHL's own ``flatten`` produces the same kind of file).
Paths in it are relative to the exported folder, which is also named in the creator info's
comment so ``verify --mhl`` knows where to look. ``read_manifest`` parses one back.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from archive_analyzer.errors import ManifestError

FORMAT = "xxh128"
_FOLDER_NOTE = "archive-analyzer folder: "
_UNSAFE = re.compile(r"[^\w.-]+")


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One file: ``path`` relative to the manifest's folder (forward slashes)."""

    path: str
    size: int
    mtime: float
    xxh128: str
    hashed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Manifest:
    folder: str  # the archive folder (catalog path) the entries are relative to
    entries: tuple[ManifestEntry, ...]
    created: str | None = None


def manifest_name(folder: str, now: datetime) -> str:
    base = _UNSAFE.sub("_", folder.strip("/")).strip("_") or "root"
    return f"packinglist_{base}_{now.astimezone(UTC):%Y-%m-%d_%H%M%S}.mhl"


def write_manifest(
    folder: str,
    entries: Sequence[ManifestEntry],
    out_dir: Path,
    *,
    now: datetime,
    host: str,
    tool_version: str,
) -> Path:
    """Write the manifest into ``out_dir`` (created if needed); returns its path."""
    from ascmhl.hashlist import (
        MHLCreatorInfo,
        MHLHashEntry,
        MHLHashList,
        MHLMediaHash,
        MHLProcess,
        MHLTool,
    )
    from ascmhl.hashlist_xml_parser import write_hash_list

    hash_list = MHLHashList()
    creator = MHLCreatorInfo()
    creator.tool = MHLTool("archive-analyzer", tool_version)
    creator.creation_date = now.astimezone(UTC).isoformat(timespec="seconds")
    creator.host_name = host
    creator.comment = _FOLDER_NOTE + folder
    hash_list.creator_info = creator
    hash_list.process_info.process = MHLProcess("flatten")
    for entry in sorted(entries, key=lambda e: e.path):
        media = MHLMediaHash()
        media.path = entry.path
        media.file_size = entry.size
        # ascmhl writes dates as local time with this host's offset: give it local times.
        media.last_modification_date = datetime.fromtimestamp(entry.mtime)
        hashed = (entry.hashed_at or now).astimezone().replace(tzinfo=None)
        media.append_hash_entry(MHLHashEntry(FORMAT, entry.xxh128, action="original",
                                             hash_date=hashed))  # fmt: skip
        hash_list.append_hash(media)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir.absolute() / manifest_name(folder, now)
        write_hash_list(hash_list, str(target))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ManifestError(f"cannot write the manifest into {out_dir}: {reason}") from exc
    return target


def read_manifest(path: Path) -> Manifest:
    """Parse ``path``; ``ManifestError`` when it is missing or not an ASC MHL hash list."""
    from ascmhl.hashlist_xml_parser import parse

    if not path.is_file():
        raise ManifestError(f"manifest not found: {path}")
    try:
        hash_list = parse(str(path))
    except Exception as exc:  # lxml and ascmhl raise many kinds for a bad file
        raise ManifestError(f"not an ASC MHL manifest: {path} ({type(exc).__name__})") from exc
    folder = ""
    comment = getattr(hash_list.creator_info, "comment", None) if hash_list.creator_info else None
    if comment and comment.startswith(_FOLDER_NOTE):
        folder = comment[len(_FOLDER_NOTE) :].strip()
    dates = _modification_dates(path)
    entries: list[ManifestEntry] = []
    for media in hash_list.media_hashes:
        if media.is_directory:
            continue
        found = next((h for h in media.hash_entries if h.hash_format == FORMAT), None)
        if found is None:
            continue  # another algorithm only: nothing we can check it with
        rel = str(media.path).replace("\\", "/")
        entries.append(
            ManifestEntry(
                path=rel,
                size=int(media.file_size or 0),
                mtime=dates.get(rel, 0.0),
                xxh128=str(found.hash_string).lower(),
            )
        )
    if not entries and not hash_list.media_hashes:
        raise ManifestError(f"the manifest lists no files: {path}")
    created = getattr(hash_list.creator_info, "creation_date", None)
    return Manifest(folder, tuple(entries), created)


def _modification_dates(path: Path) -> dict[str, float]:
    """``lastmodificationdate`` of each file path (ascmhl's parser skips it), as POSIX time."""
    from lxml import etree

    found: dict[str, float] = {}
    for _, element in etree.iterparse(str(path), tag="{urn:ASC:MHL:v2.0}path"):
        stamp = element.get("lastmodificationdate")
        if element.text and stamp:
            with contextlib.suppress(ValueError):
                found[element.text.replace("\\", "/")] = datetime.fromisoformat(stamp).timestamp()
    return found
