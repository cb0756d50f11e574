"""Edit lists from events (pure): reels, comments, rates, whole files, CSV columns; every EDL
read back by OTIO and by the independent event-line parser."""

from __future__ import annotations

import csv
import io

import opentimelineio as otio
import pytest

from archive_analyzer.catalog.hand_sheet import HAND_COLUMNS
from archive_analyzer.errors import ExportError
from archive_analyzer.export import edit_lists
from archive_analyzer.export.selection import Event
from tests.export.test_archive_tools import parse_edl

OPTIONS = edit_lists.Options(media_root="smb://nas/ARCHIVE", name="Final table")


def event(name: str, start: float, end: float, **extra: object) -> Event:
    values: dict[str, object] = {
        "content_id": f"c-{name}-{start}",
        "title": f"{name} {start}",
        "hand_id": f"h-{start}",
        "file_id": f"f-{name}",
        "source": "smb://nas/ARCHIVE",
        "path": f"WSOP/2024/{name}",
        "name": name,
        "start": start,
        "end": end,
        "frame_rate": 25.0,
        "start_timecode": "10:00:00:00",
        "duration_s": 3600.0,
    }
    values.update(extra)
    return Event(**values)  # type: ignore[arg-type]


def test_reels_are_eight_characters_unique_with_clip_names() -> None:
    names = [
        "WSOP 2024 Main Event Day 1A.mov",
        "WSOP 2024 Main Event Day 1B.mov",
        "WSOP 2024 Main Event Day 1C.mov",
        "한글 파일.mxf",
    ]
    events = [event(n, 60.0 * i, 60.0 * i + 30) for i, n in enumerate(names)]
    text = edit_lists.render(events, "edl", OPTIONS)
    _, parsed = parse_edl(text)
    reels = [e.reel for e in parsed]
    assert reels == ["WSOP2024", "WSOP2022", "WSOP2023", "AX"]
    assert all(len(r) <= 8 for r in reels) and len(set(reels)) == len(reels)
    for name, e in zip(names, parsed, strict=True):
        assert f"* FROM CLIP NAME:  {name}" in e.comments
        assert any(c.startswith("* FROM CLIP: smb://nas/ARCHIVE/WSOP/2024/") for c in e.comments)
    assert [(e.source_in, e.source_out) for e in parsed] == [
        ("10:00:00:00", "10:00:30:00"),
        ("10:01:00:00", "10:01:30:00"),
        ("10:02:00:00", "10:02:30:00"),
        ("10:03:00:00", "10:03:30:00"),
    ]
    # record side: back to back
    assert [(e.record_in, e.record_out) for e in parsed][1] == ("00:00:30:00", "00:01:00:00")
    timeline = otio.adapters.read_from_string(text, "cmx_3600", rate=25)
    assert [c.name for c in timeline.find_clips()] == names


def test_an_edl_needs_one_rate_the_others_keep_each() -> None:
    events = [event("a.mov", 0, 2), event("b.mxf", 0, 2, frame_rate=30000 / 1001)]
    with pytest.raises(ExportError, match="one frame rate"):
        edit_lists.render(events, "edl", OPTIONS)
    timeline = otio.adapters.read_from_string(
        edit_lists.render(events, "otio", OPTIONS), "otio_json"
    )
    rates = [c.source_range.start_time.rate for c in timeline.find_clips()]
    assert rates == [25.0, pytest.approx(29.97, abs=0.01)]
    xml = edit_lists.render(events, "fcpxml", OPTIONS)
    clips = list(otio.adapters.read_from_string(xml, "fcp_xml").find_clips())
    assert [c.source_range.duration.to_seconds() for c in clips] == pytest.approx([2, 2], abs=0.04)


def test_whole_files_and_empty_selections() -> None:
    whole = event("ep.mov", 0.0, 3600.0, hand_id=None)
    text = edit_lists.render([whole], "edl", OPTIONS)
    _, (parsed,) = parse_edl(text)
    assert (parsed.source_in, parsed.source_out) == ("10:00:00:00", "11:00:00:00")
    assert edit_lists.render([whole], "csv", OPTIONS).splitlines() == [",".join(HAND_COLUMNS)]
    with pytest.raises(ExportError, match="nothing to export"):
        edit_lists.render([], "edl", OPTIONS)


def test_csv_uses_the_hands_sheet_columns() -> None:
    hand = event(
        "ep.mov",
        2.04,
        5.5,
        players=("Alex Foxen", "Phil Ivey"),
        winner="Alex Foxen",
        tags=("Hero Call",),
        pot_size_bb=12.5,
        is_all_in=1,
        is_showdown=0,
        board="Ah Kd 7c",
        highlight_score=2,
        title='Hand, with "quotes"',
    )
    rows = list(csv.DictReader(io.StringIO(edit_lists.render([hand], "csv", OPTIONS))))
    assert list(rows[0]) == list(HAND_COLUMNS)
    assert rows[0]["start_sec"] == "2.04" and rows[0]["players"] == "Alex Foxen, Phil Ivey"
    assert rows[0]["display_title"] == 'Hand, with "quotes"'
    assert (rows[0]["is_all_in"], rows[0]["is_showdown"]) == ("1", "0")


def test_media_urls_and_file_names() -> None:
    assert edit_lists.media_url("file:///Volumes/ARCHIVE/", "A B/c#d.mov") == (
        "file:///Volumes/ARCHIVE/A%20B/c%23d.mov"
    )
    assert edit_lists.media_url("Z:/ARCHIVE", "A B/c.mov") == "Z:/ARCHIVE/A B/c.mov"
    assert edit_lists.media_url("", "A/c.mov") == "A/c.mov"
    assert edit_lists.file_name('WSOP: "Day 1"/2', "fcpxml") == "WSOP_ _Day 1_2.xml"
