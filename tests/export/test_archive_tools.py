"""Issue 17's "done when", through the CLI as an editor runs it: scan a MOV whose ``tmcd``
track starts at 01:00:00:00 (25 fps), import a hand from 2 s to 5 s, export an EDL (source in
01:00:02:00, out 01:00:05:00), an FCP 7 XML and an OTIO file (read back with OpenTimelineIO:
the same range), a CSV that ``import hands`` reads back unchanged, and clips (fast: within a
GOP of 3 s; exact: within a frame). Every EDL is also checked by an independent parser of the
CMX 3600 event lines (below), not only by OTIO's reader."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.cli.test_catalog import call, records

CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
GOP_S = 2.0  # the corpus H.264 files: a key frame every 50 frames at 25 fps

# CMX 3600: event number, reel (up to 8), track, transition, then source in / out and record
# in / out as HH:MM:SS:FF (';' or '.' before the frames for drop-frame).
_TC = r"(\d\d:\d\d:\d\d[:;.]\d\d)"
EVENT = re.compile(
    rf"^(\d{{3,6}})\s+(\S{{1,8}})\s+(\S+)\s+(C|D \d+)\s+{_TC}\s+{_TC}\s+{_TC}\s+{_TC}\s*$"
)


@dataclass(frozen=True)
class EdlEvent:
    number: int
    reel: str
    source_in: str
    source_out: str
    record_in: str
    record_out: str
    comments: tuple[str, ...]


def parse_edl(text: str) -> tuple[str | None, list[EdlEvent]]:
    """(FCM line value, events with the comment lines that follow each): a plain reading of
    the format, independent of OTIO's adapter."""
    fcm = None
    events: list[EdlEvent] = []
    pending: list[str] = []
    current: re.Match[str] | None = None

    def close() -> None:
        if current is not None:
            g = current.groups()
            events.append(EdlEvent(int(g[0]), g[1], g[4], g[5], g[6], g[7], tuple(pending)))

    for line in text.splitlines():
        if line.startswith("FCM:"):
            fcm = line.split(":", 1)[1].strip()
        elif (match := EVENT.match(line)) is not None:
            close()
            current, pending = match, []
        elif line.startswith("*") and current is not None:
            pending.append(line)
        elif line.strip() and not line.startswith("TITLE:"):
            raise AssertionError(f"not a CMX 3600 line: {line!r}")
    close()
    return fcm, events


@dataclass
class Archive:
    root: Path
    db: Path
    hand: str  # content id of the imported hand
    episode: str

    def args(self) -> list[str]:
        return ["--db", str(self.db)]


def _scan_and_import(tmp_path: Path, media: Path, name: str, start: str, end: str) -> Archive:
    root = tmp_path / "ARCHIVE"
    target = root / "WSOP" / "2024 WSOP Main Event" / name
    target.parent.mkdir(parents=True)
    shutil.copyfile(media, target)
    db = tmp_path / "archive.db"
    subprocess.run(
        [sys.executable, "-m", "archive_analyzer", "scan", str(root), "--db", str(db)],
        check=True,
        capture_output=True,
        timeout=120,
        env=CLEAN_ENV,
    )
    sheet = tmp_path / "hands.csv"
    rel = target.relative_to(root).as_posix()
    sheet.write_text(
        f"id,file_id,start_sec,end_sec,display_title\nH1,{rel},{start},{end},Big hand\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "archive_analyzer", "import", "hands", str(sheet), "--db", str(db)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        env=CLEAN_ENV,
    )
    assert "1 created" in out.stdout
    import sqlite3

    conn = sqlite3.connect(db)
    hand = conn.execute("SELECT id FROM contents WHERE external_id = 'hand:H1'").fetchone()[0]
    episode = conn.execute("SELECT parent_id FROM contents WHERE id = ?", (hand,)).fetchone()[0]
    conn.close()
    return Archive(root, db, hand, episode)


@pytest.fixture
def mov(tmp_path: Path, corpus: dict[str, Path]) -> Archive:
    return _scan_and_import(
        tmp_path, corpus["mov_tmcd"], "WSOP 2024 Main Event Day 1.mov", "2", "5"
    )


def test_done_when_mov_with_tmcd(
    mov: Archive, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for fmt in ("edl", "fcpxml", "otio", "csv"):
        result = call(
            capsys,
            "export",
            fmt,
            "--content",
            mov.episode,
            "--out",
            str(out / f"h.{fmt}"),
            "--source",
            str(mov.root),
            *mov.args(),
        )
        assert result.returncode == 0, result.stderr
        assert "1 events (1 hands)" in result.stdout

    # EDL: source in/out = the file's start timecode + the hand's times
    text = (out / "h.edl").read_text()
    fcm, events = parse_edl(text)
    assert fcm == "NON-DROP FRAME"
    assert [(e.number, e.source_in, e.source_out) for e in events] == [
        (1, "01:00:02:00", "01:00:05:00")
    ]
    assert events[0].reel == "WSOP2024"
    assert "* FROM CLIP NAME:  WSOP 2024 Main Event Day 1.mov" in events[0].comments
    read = otio.adapters.read_from_string(text, "cmx_3600", rate=25)
    (clip,) = list(read.find_clips())
    assert otio.opentime.to_timecode(clip.source_range.start_time, 25) == "01:00:02:00"
    assert clip.source_range.duration.to_frames() == 75

    # FCP XML and OTIO read back with the same range
    for name, adapter in (("h.fcpxml", "fcp_xml"), ("h.otio", "otio_json")):
        timeline = otio.adapters.read_from_file(str(out / name), adapter)
        (clip,) = list(timeline.find_clips())
        start = clip.source_range.start_time
        assert otio.opentime.to_timecode(start, start.rate) == "01:00:02:00", name
        assert clip.source_range.duration.to_seconds() == pytest.approx(3.0), name
        assert clip.media_reference.target_url == (
            f"{mov.root.as_uri()}/WSOP/2024%20WSOP%20Main%20Event/"
            "WSOP%202024%20Main%20Event%20Day%201.mov"
        ), name

    # every export is in the audit log (actor "cli")
    import sqlite3

    conn = sqlite3.connect(mov.db)
    kinds = conn.execute(
        "SELECT json_extract(detail, '$.format') FROM audit_log WHERE action = 'export' "
        "AND actor = 'cli' ORDER BY id"
    ).fetchall()
    conn.close()
    assert [k[0] for k in kinds] == ["edl", "fcpxml", "otio", "csv"]

    # CSV in the hands template's columns: import hands reads it back unchanged
    result = call(capsys, "import", "hands", str(out / "h.csv"), *mov.args())
    assert result.returncode == 0
    assert result.stdout.strip().endswith(
        "hands: 1 rows, 0 created, 0 updated, 1 unchanged, 0 skipped"
    )

    # clips: fast within one GOP of 3 s, exact within one frame
    for exact, tolerance in ((False, GOP_S), (True, 1 / 25)):
        target = out / f"clip-{exact}.mov"
        flags = ["--exact"] if exact else []
        result = call(
            capsys,
            "export",
            "clip",
            mov.hand,
            "--out",
            str(target),
            "--source",
            str(mov.root),
            "--json",
            *flags,
            *mov.args(),
        )
        assert result.returncode == 0, result.stderr
        (record,) = records(result.stdout)
        assert record["real_in_timecode"] == "01:00:02:00"
        probe = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-of",
                "json",
                "-show_entries",
                "format=duration:stream_tags=timecode",
                str(target),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        data = json.loads(probe.stdout)
        assert abs(float(data["format"]["duration"]) - 3.0) <= tolerance + 1e-3, (exact, data)
        # the clip keeps the source timecode of its first frame
        assert {s.get("tags", {}).get("timecode") for s in data["streams"]} >= {"01:00:02:00"}


def test_drop_frame_mxf(
    tmp_path: Path, corpus: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """29.97 fps with drop-frame timecode from 10:00:00;00: a hand typed as a timecode."""
    archive = _scan_and_import(
        tmp_path, corpus["mxf_dropframe"], "Final Table.mxf", "10:00:01;00", "10:00:02;15"
    )
    out = tmp_path / "df.edl"
    result = call(
        capsys, "export", "edl", "--content", archive.episode, "--out", str(out), *archive.args()
    )
    assert result.returncode == 0, result.stderr
    fcm, events = parse_edl(out.read_text())
    assert fcm == "DROP FRAME"
    assert [(e.source_in, e.source_out) for e in events] == [("10:00:01;00", "10:00:02;15")]
    timeline = otio.adapters.read_from_string(out.read_text(), "cmx_3600", rate=30000 / 1001)
    (clip,) = list(timeline.find_clips())
    assert clip.source_range.duration.to_frames() == 45
