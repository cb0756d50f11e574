"""Edit lists of hands for the edit suite: CMX 3600 EDL, Final Cut Pro 7 XML, OTIO, CSV.

The events (``export.selection``) become one OpenTimelineIO timeline: one video track with a
clip per event, back to back from record 01:00:00:00. Each clip's source range is the file's
start timecode plus the hand's times, counted in frames at the file's own frame rate (so a
29.97 fps master gets drop-frame labels); its media reference names the original on the NAS
(``media_root`` + the catalog path) with the file's available range (start timecode,
duration), which is what Premiere Pro and DaVinci Resolve relink by. OTIO's adapters write the
files (``otio_json``, ``cmx_3600``, ``fcp_xml``); nothing is formatted by hand except the CSV,
which uses the hands sheet's columns (``catalog.hand_sheet.HAND_COLUMNS``) so that
``import hands`` reads it back unchanged.

EDL specifics: an ``FCM:`` line says drop-frame or not (added here: the adapter does not
write one); reel names are at most 8 characters (CMX 3600): each file gets the first
letters and digits of its name, made unique within the list, and the full file name follows
each event as ``* FROM CLIP NAME:`` with the NAS path as ``* FROM CLIP:`` (Avid style). An EDL
has one frame rate: a selection mixing rates is refused for EDL (the other formats keep each
clip's own rate).
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

import opentimelineio as otio

from archive_analyzer import timecode
from archive_analyzer.catalog.hand_sheet import HAND_COLUMNS
from archive_analyzer.errors import ExportError
from archive_analyzer.export.selection import Event

Format = Literal["edl", "fcpxml", "otio", "csv"]
FORMATS: tuple[Format, ...] = ("edl", "fcpxml", "otio", "csv")
EXTENSIONS: dict[Format, str] = {"edl": "edl", "fcpxml": "xml", "otio": "otio", "csv": "csv"}
MEDIA_TYPES: dict[Format, str] = {
    "edl": "text/plain; charset=utf-8",
    "fcpxml": "application/xml",
    "otio": "application/json",
    "csv": "text/csv; charset=utf-8",
}
REEL_LENGTH = 8
RECORD_START = "01:00:00:00"
DEFAULT_RATE = 25.0  # files not probed yet (no frame rate): what PAL broadcast uses


@dataclass(frozen=True, slots=True)
class Options:
    """``media_root``: what a catalog path is appended to so the edit suite finds the file
    (``file:///Volumes/ARCHIVE``, ``smb://nas/ARCHIVE``, ``Z:/ARCHIVE``); ``name``: the
    timeline's name."""

    media_root: str
    name: str = "Archive hands"


def render(events: Sequence[Event], fmt: Format, options: Options) -> str:
    """The edit list as text. Raises ``ExportError`` for an empty selection or (EDL) mixed
    frame rates."""
    if not events:
        raise ExportError("nothing to export: the selection has no hands or files")
    if fmt == "csv":
        return hands_csv(events)
    timeline = build_timeline(events, options)
    if fmt == "otio":
        text: str = otio.adapters.write_to_string(timeline, "otio_json")
        return text
    if fmt == "fcpxml":
        text = otio.adapters.write_to_string(timeline, "fcp_xml")
        return text
    rates = {_rate(e) for e in events}
    if len(rates) > 1:
        shown = ", ".join(f"{r:.3f}" for r in sorted(rates))
        raise ExportError(
            f"an EDL has one frame rate, the selection has several ({shown} fps); "
            "export FCP XML or OTIO, which keep each clip's rate, or select fewer contents"
        )
    rate = rates.pop()
    text = otio.adapters.write_to_string(
        timeline, "cmx_3600", rate=rate, style="avid", reelname_len=REEL_LENGTH
    )
    return _with_fcm(text, timecode.base_for(rate)[1])


def _with_fcm(text: str, drop: bool) -> str:
    """The EDL with its frame code mode after the title, which the adapter leaves out (a TODO
    in otio-cmx3600-adapter 1.0); Avid and Premiere read drop-frame from it."""
    fcm = "FCM: DROP FRAME" if drop else "FCM: NON-DROP FRAME"
    lines = text.split("\n")
    at = 1 if lines and lines[0].startswith("TITLE:") else 0
    return "\n".join([*lines[:at], fcm, *lines[at:]])


def build_timeline(events: Sequence[Event], options: Options) -> otio.schema.Timeline:
    """One video track, a clip per event, back to back (see the module doc)."""
    record_rate = _rate(events[0])
    timeline = otio.schema.Timeline(name=options.name)
    record = timecode.Timecode.parse(RECORD_START, timecode.base_for(record_rate)[0])
    timeline.global_start_time = otio.opentime.RationalTime(record.frames, record_rate)
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    reels = reel_names([e.name for e in events])
    for event in events:
        rate = _rate(event)
        start = event.clock.start() if event.frame_rate else _zero(rate)
        first = start.frames + round(event.start * rate)
        frames = max(1, round((event.end - event.start) * rate))
        reference = otio.schema.ExternalReference(
            target_url=media_url(options.media_root, event.path)
        )
        reference.name = event.name
        length = event.duration_s or event.end
        if length > 0:  # the whole file: its first frame's timecode and its length
            reference.available_range = otio.opentime.TimeRange(
                otio.opentime.RationalTime(start.frames, rate),
                otio.opentime.RationalTime(max(1, round(length * rate)), rate),
            )
        clip = otio.schema.Clip(
            name=event.name,
            media_reference=reference,
            source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(first, rate), otio.opentime.RationalTime(frames, rate)
            ),
        )
        clip.metadata["cmx_3600"] = {"reel": reels[event.name]}
        clip.metadata["archive_analyzer"] = {
            "content_id": event.content_id,
            "hand_id": event.hand_id,
            "title": event.title,
            "file_id": event.file_id,
            "path": event.path,
            "start_sec": event.start,
            "end_sec": event.end,
            "players": list(event.players),
            "winner": event.winner,
            "tags": list(event.tags),
        }
        if event.is_hand:
            clip.markers.append(
                otio.schema.Marker(
                    name=event.title,
                    marked_range=otio.opentime.TimeRange(
                        otio.opentime.RationalTime(first, rate),
                        otio.opentime.RationalTime(0, rate),
                    ),
                )
            )
        track.append(clip)
    return timeline


def file_name(name: str, fmt: Format) -> str:
    """A download file name for an edit list called ``name``."""
    safe = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", name).strip(" .") or "hands"
    return f"{safe[:120]}.{EXTENSIONS[fmt]}"


def reel_names(file_names: Sequence[str]) -> dict[str, str]:
    """An EDL reel name (<= 8 letters and digits, upper case) per distinct file name, unique
    within the list: the name's first letters and digits, with its last characters replaced
    by a counter where two files would share one."""
    reels: dict[str, str] = {}
    taken: set[str] = set()
    for name in dict.fromkeys(file_names):
        stem = posixpath.splitext(name)[0]
        base = re.sub(r"[^A-Za-z0-9]+", "", stem).upper()[:REEL_LENGTH] or "AX"
        reel, n = base, 1
        while reel in taken:
            n += 1
            suffix = str(n)
            reel = base[: REEL_LENGTH - len(suffix)] + suffix
        taken.add(reel)
        reels[name] = reel
    return reels


def media_url(root: str, path: str) -> str:
    """``root`` + the catalog path (percent-encoded for URL roots, kept for a drive path);
    the catalog path alone without a root."""
    if not root:
        return path
    if re.match(r"^[a-z][a-z0-9+.-]*://", root, re.IGNORECASE):
        return f"{root.rstrip('/')}/{quote(path)}"
    return f"{root.rstrip('/')}/{path}"


def hands_csv(events: Sequence[Event]) -> str:
    """The hands (whole-file events are left out: they are no hands) in the hands sheet's
    columns, one row each, readable by ``import hands`` as they are."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HAND_COLUMNS)
    for e in events:
        if not e.is_hand:
            continue
        values = {
            "id": e.hand_id,
            "file_id": e.file_id,
            "start_sec": repr(e.start),
            "end_sec": repr(e.end),
            "highlight_score": "" if e.highlight_score is None else str(e.highlight_score),
            "players": ", ".join(e.players),
            "tags": ", ".join(e.tags),
            "winner": e.winner or "",
            "pot_size_bb": "" if e.pot_size_bb is None else repr(e.pot_size_bb),
            "is_all_in": "" if e.is_all_in is None else str(int(e.is_all_in)),
            "is_showdown": "" if e.is_showdown is None else str(int(e.is_showdown)),
            "board": e.board or "",
            "display_title": e.title,
        }
        writer.writerow([values[c] for c in HAND_COLUMNS])
    return out.getvalue()


_STANDARD_RATES = (24000 / 1001, 24.0, 25.0, 30000 / 1001, 30.0, 48.0, 50.0, 60000 / 1001, 60.0)


def _rate(event: Event) -> float:
    """The file's frame rate, snapped to the broadcast rate it is within 0.1% of (a rate from
    time stamp spacing is rarely exact), else as probed."""
    if not event.frame_rate:
        return DEFAULT_RATE
    rate = float(event.frame_rate)
    return next((r for r in _STANDARD_RATES if abs(rate - r) <= r * 0.001), rate)


def _zero(rate: float) -> timecode.Timecode:
    fps, drop = timecode.base_for(rate)
    return timecode.Timecode(0, fps, drop)
