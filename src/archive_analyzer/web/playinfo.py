"""The playback description of a content: how it plays in this browser, its tracks, previews.

One function (``describe``) builds it for the API (``GET /api/contents/{id}`` -> ``playback``)
and for the player page (embedded as JSON), so both always agree:

    {"mode": "direct"|"hls", "url": ...,
     "audio": [{"index", "language", "codec", "channels", "title"}],
     "subtitles": [{"index"|"file", "language", "format", "url"}]}

``index`` of an audio entry is the audio option's number, the HLS rendition the player
selects (the file's ``0:a:N`` unless mono tracks were paired, see ``tracks.audio_options``);
``index`` of a subtitle is the file's subtitle stream (``0:s:N``), ``file`` the sidecar's name.
Every subtitle ``url`` serves WebVTT.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from archive_analyzer.web import hls, playable, prefs, queries, tracks
from archive_analyzer.web.capabilities import Capabilities
from archive_analyzer.web.playable import PlayTarget


@dataclass(frozen=True, slots=True)
class PlaybackInfo:
    mode: str  # direct | hls
    url: str
    plan: str  # direct | remux | transcode (how the server makes it)
    audio: list[dict[str, Any]]
    subtitles: list[dict[str, Any]]
    default_audio: int | None
    default_subtitle: str | None  # a subtitle's url, or None (off)
    subtitle_labels: list[str] = field(default_factory=list)

    def api(self) -> dict[str, Any]:
        """The API's exact shape."""
        return {
            "mode": self.mode,
            "url": self.url,
            "audio": self.audio,
            "subtitles": self.subtitles,
        }

    def page(self) -> dict[str, Any]:
        """What the player script reads: the API shape plus the defaults for this user."""
        return {
            **self.api(),
            "subtitles": [
                {**entry, "label": label}
                for entry, label in zip(self.subtitles, self.subtitle_labels, strict=True)
            ],
            "plan": self.plan,
            "default_audio": self.default_audio,
            "default_subtitle": self.default_subtitle,
        }


def subtitle_tracks(conn: sqlite3.Connection, target: PlayTarget) -> list[tracks.SubtitleTrack]:
    """Embedded text subtitle streams, then sidecar files beside the video."""
    found = tracks.embedded_subtitles(
        [(t.codec, t.language) for t in target.facts.subtitles] if target.facts else ()
    )
    video_path = target.file.path
    folder = video_path.rsplit("/", 1)[0] if "/" in video_path else ""
    video_name = video_path.rsplit("/", 1)[-1]
    for row in queries.sidecar_files(conn, target.file.source, video_path):
        row_folder = row.path.rsplit("/", 1)[0] if "/" in row.path else ""
        parsed = tracks.sidecar(video_name, row.name)
        if parsed is None or row_folder != folder:
            continue
        found.append(
            tracks.SubtitleTrack(
                f"f{row.file_id}", parsed.language, parsed.format, file=row.file_id, name=row.name
            )
        )
    return found


def describe(
    conn: sqlite3.Connection,
    content_id: str,
    target: PlayTarget,
    caps: Capabilities,
    ui: str,
    remembered: prefs.TrackPrefs,
) -> PlaybackInfo | None:
    """The description for one visible content, or None when it has no probed video."""
    facts = target.facts
    if facts is None or not facts.duration_s:
        return None
    chosen = hls.plan(facts, caps, file_name=target.file.name)
    if chosen.mode is hls.Mode.DIRECT:
        mode, url = "direct", f"/stream/{content_id}"
    else:
        mode, url = "hls", f"/hls/{content_id}/index.m3u8"
    options = chosen.audio
    default_audio = (
        tracks.default_audio(options, [remembered.audio_language, ui]) if options else None
    )
    audio = [
        {
            "index": o.index,
            "language": o.language,
            "codec": o.codec,
            "channels": o.channels,
            "title": o.title(ui),
        }
        for o in options
    ]
    subs = subtitle_tracks(conn, target)
    subtitles: list[dict[str, Any]] = []
    for track in subs:
        entry: dict[str, Any] = (
            {"index": track.index} if track.file is None else {"file": track.name}
        )
        entry.update(
            language=track.language,
            format=track.format,
            url=f"/subtitles/{content_id}/{track.key}.vtt",
        )
        subtitles.append(entry)
    default_subtitle = None
    wanted = remembered.subtitle_language
    if wanted:
        default_subtitle = next((s["url"] for s in subtitles if s["language"] == wanted), None)
    return PlaybackInfo(
        mode,
        url,
        chosen.mode.value,
        audio,
        subtitles,
        default_audio,
        default_subtitle,
        [track.label(ui) for track in subs],
    )


def for_content(
    conn: sqlite3.Connection,
    content_id: str,
    user_id: str,
    caps: Capabilities,
    ui: str,
) -> PlaybackInfo | None:
    """``describe`` for a visible content id and a user (None: nothing to play)."""
    target = playable.target(conn, content_id)
    if target is None:
        return None
    return describe(conn, content_id, target, caps, ui, prefs.load(conn, user_id))
