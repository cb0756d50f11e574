"""Scrubbing previews as the web serves them (made by the previews job, ``previews/``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from archive_analyzer.catalog.file_facts import FileFacts
from archive_analyzer.previews import store
from archive_analyzer.web import queries


def played_file(conn: sqlite3.Connection, content_id: str) -> FileFacts | None:
    return queries.playback_file(conn, content_id)


def current_folder(conn: sqlite3.Connection, root: Path, content_id: str) -> Path | None:
    """The folder of the content's current strips (a clip: its parent file's), or None."""
    found = queries.playback_file(conn, content_id)
    if found is None:
        return None
    record = store.current(conn, found.id)
    if record is None:
        return None
    return store.folder(root, found.id, found.size, found.mtime)


def trickplay_url(conn: sqlite3.Connection, content_id: str) -> str | None:
    """The WebVTT thumbnails track of a content's played file, None until it is made."""
    found = queries.playback_file(conn, content_id)
    if found is None or store.current(conn, found.id) is None:
        return None
    return f"/previews/{content_id}/{store.TRACK}"


def poster_frame(conn: sqlite3.Connection, thumbs_root: Path, content_id: str) -> Path | None:
    """The poster of a content (one frame of its strip, or the on-demand frame) when made:
    the stable entry point for lists and artwork (issue 16)."""
    found = queries.playback_file(conn, content_id)
    if found is None:
        return None
    path = store.poster_path(thumbs_root, found.id, found.size, found.mtime)
    return path if path.is_file() else None
