"""Scrubbing previews as the web serves them (made by the previews job, ``previews/``)."""

from __future__ import annotations

import sqlite3


def trickplay_url(conn: sqlite3.Connection, content_id: str) -> str | None:
    """The WebVTT thumbnails track of a content's played file, None until it is made."""
    return None
