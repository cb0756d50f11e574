"""Each user's remembered track choices (``playback_prefs``, owned by the web app)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from archive_analyzer.catalog.db import Clock, timestamp, transaction, utc_now

_UNSET = object()


@dataclass(frozen=True, slots=True)
class TrackPrefs:
    """``audio_language``: the language last chosen (None: never). ``subtitle_language``:
    None never chosen, ``""`` turned off, else a language."""

    audio_language: str | None = None
    subtitle_language: str | None = None


def load(conn: sqlite3.Connection, user_id: str) -> TrackPrefs:
    row = conn.execute(
        "SELECT audio_language, subtitle_language FROM playback_prefs WHERE user_id = ?",
        (user_id,),
    ).fetchone()
    return TrackPrefs() if row is None else TrackPrefs(row[0], row[1])


def save(
    conn: sqlite3.Connection,
    user_id: str,
    *,
    audio_language: object = _UNSET,
    subtitle_language: object = _UNSET,
    now: Clock = utc_now,
) -> TrackPrefs:
    """Remember what was given (a value left out keeps its stored value)."""
    current = load(conn, user_id)
    audio = current.audio_language if audio_language is _UNSET else audio_language
    subs = current.subtitle_language if subtitle_language is _UNSET else subtitle_language
    assert audio is None or isinstance(audio, str)
    assert subs is None or isinstance(subs, str)
    with transaction(conn):
        conn.execute(
            "INSERT INTO playback_prefs (user_id, audio_language, subtitle_language, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
            "audio_language = excluded.audio_language, "
            "subtitle_language = excluded.subtitle_language, updated_at = excluded.updated_at",
            (user_id, audio, subs, timestamp(now())),
        )
    return TrackPrefs(audio, subs)
