"""Hands: times as seconds or source timecode, the catalog writer's edits (``jobs.edits``) and
how they stand against re-imports of a sheet."""

from __future__ import annotations

import sqlite3

import pytest

from archive_analyzer.catalog import db, hands
from archive_analyzer.catalog.hand_sheet import import_hands
from archive_analyzer.errors import HandError
from archive_analyzer.jobs import edits
from tests.catalog.catalog_rows import FakeClock
from tests.catalog.test_imports import hands as sheet
from tests.catalog.test_imports import loaded  # noqa: F401 - the fixture


@pytest.mark.parametrize(
    ("text", "clock", "seconds"),
    [
        ("12.5", hands.FileClock(), 12.5),
        ("1:02:03.5", hands.FileClock(), 3723.5),
        ("01:00:02:00", hands.FileClock(10.0, "01:00:00:00", 25.0), 2.0),
        ("01:00:02:10", hands.FileClock(10.0, "01:00:00:00", 25.0), 2.4),
        ("00:00:01:12", hands.FileClock(10.0, None, 25.0), 1.48),  # no start timecode: zero
        ("10:00:01;00", hands.FileClock(10.0, "10:00:00;00", 30000 / 1001), 30 * 1001 / 30000),
    ],
)
def test_seconds_of(text: str, clock: hands.FileClock, seconds: float) -> None:
    assert hands.seconds_of(text, clock) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "clock", "message"),
    [
        ("", hands.FileClock(), "empty"),
        ("01:00:02:00", hands.FileClock(), "frame rate"),
        ("00:59:00:00", hands.FileClock(10.0, "01:00:00:00", 25.0), "before the file's start"),
        ("01:00:00:30", hands.FileClock(10.0, "01:00:00:00", 25.0), "frame 30"),
        ("soon", hands.FileClock(), "unparseable"),
    ],
)
def test_bad_times(text: str, clock: hands.FileClock, message: str) -> None:
    with pytest.raises(HandError, match=message):
        hands.seconds_of(text, clock)


def _episode(conn: sqlite3.Connection, fid: str) -> str:
    row = conn.execute("SELECT id FROM contents WHERE file_id = ?", (fid,)).fetchone()
    return str(row["id"])


def _player(conn: sqlite3.Connection, ext: str) -> str:
    return str(conn.execute("SELECT id FROM players WHERE external_id = ?", (ext,)).fetchone()[0])


def _links(conn: sqlite3.Connection, content_id: str) -> set[tuple[str, str, str]]:
    rows = conn.execute(
        "SELECT p.name, cp.role, cp.origin FROM content_players cp "
        "JOIN players p ON p.id = cp.player_id WHERE cp.content_id = ?",
        (content_id,),
    )
    return {(r[0], r[1], r[2]) for r in rows}


def test_imported_hands_may_give_source_timecodes(
    loaded: tuple[sqlite3.Connection, str, FakeClock],  # noqa: F811
) -> None:
    conn, fid, clock = loaded
    with db.transaction(conn):
        conn.execute(
            "UPDATE media_info SET timecode = '10:00:00;00', frame_rate = ? WHERE id = ?",
            (30000 / 1001, fid),
        )
        report = import_hands(conn, sheet(f"T1,{fid},10:01:00;02,10:01:30;02,,,,,,,,,"), now=clock)
    assert (report.created, report.problems) == (1, ())
    row = conn.execute("SELECT start_sec, end_sec FROM contents WHERE external_id = 'hand:T1'")
    start, end = row.fetchone()
    assert start == pytest.approx(1800 * 1001 / 30000)  # 1,800 frames: 60.06 s
    assert end - start == pytest.approx(900 * 1001 / 30000)


def test_web_edits_lock_against_reimports(
    loaded: tuple[sqlite3.Connection, str, FakeClock],  # noqa: F811
) -> None:
    conn, fid, clock = loaded
    row = f"H7,{fid},10,20,1,Daniel Negreanu;Phil Ivey,Cooler,Phil Ivey,30,1,1,AhKh,Old title"
    with db.transaction(conn):
        import_hands(conn, sheet(row), now=clock)
    hand = str(conn.execute("SELECT id FROM contents WHERE external_id = 'hand:H7'").fetchone()[0])
    episode = _episode(conn, fid)
    foxen = _player(conn, "p3")
    edit = edits.SaveHand(
        episode,
        hand,
        hands.Hand(
            start=11.0, end=19.0, title="Foxen's hero call", players=(foxen,), tags=("Hero",)
        ),
        create=False,
        user="editor",
    )
    reply = edits.apply(conn, edit, clock)
    assert (reply.content_id, reply.error, reply.changed) == (hand, None, True)
    assert _links(conn, hand) == {("Alex Foxen", "player", "manual")}
    # the old sheet again: the editor's work stands, and nothing counts as changed
    with db.transaction(conn):
        again = import_hands(conn, sheet(row), now=clock)
    assert (again.updated, again.unchanged) == (0, 1)
    after = conn.execute("SELECT * FROM contents WHERE id = ?", (hand,)).fetchone()
    assert (after["start_sec"], after["end_sec"], after["title"]) == (
        11.0,
        19.0,
        "Foxen's hero call",
    )
    assert _links(conn, hand) == {("Alex Foxen", "player", "manual")}
    tags = conn.execute("SELECT tag_id FROM content_tags WHERE content_id = ?", (hand,)).fetchall()
    assert [t[0] for t in tags] == ["hero"]


def test_marked_hands_are_created_once_and_refused_with_reasons(
    loaded: tuple[sqlite3.Connection, str, FakeClock],  # noqa: F811
) -> None:
    conn, fid, clock = loaded
    episode = _episode(conn, fid)
    new_id = db.new_id()
    edit = edits.SaveHand(episode, new_id, hands.Hand(1.0, 2.0), create=True, user="e")
    first = edits.apply(conn, edit, clock)
    retried = edits.apply(conn, edit, clock)  # the client timed out and sent it again
    assert first.content_id == retried.content_id == new_id
    count = conn.execute("SELECT count(*) FROM contents WHERE parent_id = ?", (episode,))
    assert count.fetchone()[0] == 1
    title = conn.execute("SELECT title FROM contents WHERE id = ?", (new_id,)).fetchone()[0]
    assert title == "Hand 0:00:01"  # no frame rate probed: H:MM:SS
    bad = edits.apply(
        conn, edits.SaveHand(episode, db.new_id(), hands.Hand(5.0, 4.0), True, "e"), clock
    )
    assert bad.error is not None and "not before end" in bad.error and not bad.missing
    gone = edits.apply(conn, edits.DeleteHand(db.new_id(), "e"), clock)
    assert gone.missing
    deleted = edits.apply(conn, edits.DeleteHand(new_id, "e"), clock)
    assert deleted.changed
    status = conn.execute("SELECT status FROM contents WHERE id = ?", (new_id,)).fetchone()[0]
    assert status == "deleted"
