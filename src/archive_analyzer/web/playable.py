"""What a content plays: its catalogued file and the probed facts that decide direct or HLS."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from archive_analyzer.catalog import file_facts
from archive_analyzer.catalog.file_facts import FileFacts
from archive_analyzer.catalog.media import MediaInfo


@dataclass(frozen=True, slots=True)
class PlayTarget:
    """A content's file (the read model's played file) and its media facts when playback can
    plan from them (``MediaInfo.playable``; None when never or unusably probed)."""

    file: FileFacts
    facts: MediaInfo | None

    @property
    def cache_key(self) -> str:
        """Names this version of the file: a changed size or mtime gives a new key."""
        return f"{self.file.id}-{self.file.size}-{int(self.file.mtime * 1000)}"


def target(conn: sqlite3.Connection, content_id: str) -> PlayTarget | None:
    """The file a visible content plays (a clip: its parent's) with its facts, or None."""
    found = file_facts.played_file(conn, content_id)
    if found is None:
        return None
    media = found.media
    return PlayTarget(found, media if media is not None and media.playable else None)
