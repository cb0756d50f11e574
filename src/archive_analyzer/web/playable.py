"""What a content plays: its catalogued file and the probed facts that decide direct or HLS."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from archive_analyzer.web import queries
from archive_analyzer.web.hls import MediaFacts


@dataclass(frozen=True, slots=True)
class PlayTarget:
    """A content's file row and its media facts (None when never probed)."""

    file: queries.PlaybackFile
    facts: MediaFacts | None

    @property
    def cache_key(self) -> str:
        """Names this version of the file: a changed size or mtime gives a new key."""
        return f"{self.file.file_id}-{self.file.size}-{int(self.file.mtime * 1000)}"


def target(conn: sqlite3.Connection, content_id: str) -> PlayTarget | None:
    """The file a visible content plays (a clip: its parent's) with its facts, or None."""
    found = queries.playback_file(conn, content_id)
    if found is None:
        return None
    return PlayTarget(found, facts(conn, found.file_id, found.path.rsplit("/", 1)[-1]))


def facts(conn: sqlite3.Connection, file_id: str, file_name: str = "") -> MediaFacts | None:
    """The media facts of a file with a usable probe (a video stream and a duration)."""
    row = conn.execute(
        "SELECT container, video_codec, pix_fmt, audio, duration_s, height, browser_playable, "
        "status, subtitles FROM media_info WHERE id = ?",
        (file_id,),
    ).fetchone()
    if row is None or not row[1] or not row[4] or row[7] not in ("ok", "incomplete"):
        return None
    return MediaFacts.from_row(
        row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]), row[8], file_name
    )
