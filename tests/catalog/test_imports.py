from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive_analyzer.catalog import contents, db
from archive_analyzer.catalog.hand_sheet import import_hands
from archive_analyzer.catalog.players import import_players
from archive_analyzer.errors import ImportFileError
from tests.catalog.catalog_rows import FakeClock, add_file

PLAYERS = (
    "id,name,display_name,name_kr,country,total_hands,total_wins,career_earnings,wsop_bracelets\n"
    'p1,Daniel Negreanu,Kid Poker,다니엘 네그라누,CA,120,40,"$52,000,000",6\n'
    "p2,Phil Ivey,,필 아이비,US,80,30,,10\n"
    "p3,Alex Foxen,Foxen,,US,,,,1\n"
)
EP = "WSOP/WSOP 2025/WSOP 2025 Main Event _ Day 8 (Part 2).mp4"


def hands(*rows: str) -> str:
    header = (
        "id,file_id,start_sec,end_sec,highlight_score,players,tags,winner,pot_size_bb,"
        "is_all_in,is_showdown,board,display_title\n"
    )
    return header + "".join(r + "\n" for r in rows)


@pytest.fixture
def loaded(catalog: sqlite3.Connection) -> tuple[sqlite3.Connection, str, FakeClock]:
    clock = FakeClock()
    fid = add_file(catalog, EP, duration=3 * 3600)
    with db.transaction(catalog):
        contents.refresh(catalog, [fid], now=clock)
        report = import_players(catalog, PLAYERS, now=clock)
    assert (report.created, report.skipped) == (3, 0)
    return catalog, fid, clock


def test_players_round_trip_keeps_korean_names(catalog: sqlite3.Connection) -> None:
    clock = FakeClock()
    with db.transaction(catalog):
        first = import_players(catalog, PLAYERS, now=clock)
    row = catalog.execute("SELECT * FROM players WHERE external_id = 'p1'").fetchone()
    assert row["name_kr"] == "다니엘 네그라누"
    assert row["display_name"] == "Kid Poker"
    assert row["career_earnings"] == 52_000_000
    assert row["wsop_bracelets"] == 6
    assert first.summary() == "players: 3 rows, 3 created, 0 updated, 0 unchanged, 0 skipped"
    stamp = catalog.execute("SELECT max(updated_at) FROM players").fetchone()[0]
    with db.transaction(catalog):
        again = import_players(catalog, PLAYERS, now=clock)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert catalog.execute("SELECT max(updated_at) FROM players").fetchone()[0] == stamp
    changed = PLAYERS.replace("Kid Poker", "DNegs")
    with db.transaction(catalog):
        third = import_players(catalog, changed, now=clock)
    assert (third.updated, third.unchanged) == (1, 2)


def test_players_bad_rows_are_reported_with_lines(catalog: sqlite3.Connection) -> None:
    text = (
        "id,name,total_hands,career_earnings\n"
        "p1,Tom Dwan,12,100\n"
        "p2,,3,4\n"
        "p3,Sashimi,many,1\n"
        "p1,Tom Dwan,12,100\n"
    )
    with db.transaction(catalog):
        report = import_players(catalog, text, now=FakeClock())
    assert report.created == 1
    assert [p.line for p in report.problems] == [3, 4, 5]
    assert "name is empty" in report.problems[0].message
    assert "total_hands" in report.problems[1].message
    assert "line 2" in report.problems[2].message


def test_path_players_are_merged_by_name(catalog: sqlite3.Connection) -> None:
    clock = FakeClock()
    fid = add_file(catalog, "HCL/2025/20250611 - Phil Ivey, Tom Dwan.mp4")
    with db.transaction(catalog):
        contents.refresh(catalog, [fid], now=clock)
        import_players(catalog, PLAYERS, now=clock)
    rows = catalog.execute("SELECT name, origin, name_kr FROM players ORDER BY name").fetchall()
    assert [r["name"] for r in rows] == ["Alex Foxen", "Daniel Negreanu", "Phil Ivey", "Tom Dwan"]
    ivey = next(r for r in rows if r["name"] == "Phil Ivey")
    assert (ivey["origin"], ivey["name_kr"]) == ("import", "필 아이비")


def test_hands_become_clips_and_reimport_is_idempotent(
    loaded: tuple[sqlite3.Connection, str, FakeClock],
) -> None:
    conn, fid, clock = loaded
    sheet = hands(
        f"h1,{fid},0:10:00,0:12:30,3,Daniel Negreanu;Phil Ivey,hero_call|Cooler,Phil Ivey,"
        "45.5,true,1,AhKd7c,Ivey's hero call",
        f"h2,{EP},1:00:00,1:02:00,2,Alex Foxen,preflop_allin,,,,,,",
        "h3,WSOP 2025 Main Event _ Day 8 (Part 2).mp4,2:00:00,2:00:30,1,,,,,,,,",
        "h4,Z:\\WSOP\\WSOP 2025\\WSOP 2025 Main Event _ Day 8 (Part 2).mp4,"
        "2:10:00,2:11:00,,,,,,,,,",
        f"h5,//nas/ARCHIVE/{EP},2:20:00,2:21:00,,,,,,,,,",
    )
    with db.transaction(conn):
        report = import_hands(conn, sheet, now=clock)
    assert (report.created, report.skipped) == (5, 0), report.problems
    episode = conn.execute("SELECT * FROM contents WHERE file_id = ?", (fid,)).fetchone()
    clips = conn.execute("SELECT * FROM contents WHERE kind = 'clip' ORDER BY start_sec").fetchall()
    assert [c["parent_id"] for c in clips] == [episode["id"]] * 5
    assert [c["series_id"] for c in clips] == [episode["series_id"]] * 5
    first = clips[0]
    assert (first["start_sec"], first["end_sec"]) == (600.0, 750.0)
    assert (first["title"], first["winner"], first["highlight_score"]) == (
        "Ivey's hero call",
        "Phil Ivey",
        3,
    )
    assert (first["is_all_in"], first["is_showdown"], first["pot_size_bb"]) == (1, 1, 45.5)
    tags = {
        r[0]
        for r in conn.execute(
            "SELECT tag_id FROM content_tags WHERE content_id = ?", (first["id"],)
        )
    }
    assert tags == {"hero_call", "cooler"}
    linked = conn.execute(
        "SELECT count(*) FROM content_players WHERE content_id = ?", (first["id"],)
    ).fetchone()[0]
    assert linked == 2
    assert clips[1]["title"] == "Hand h2 – Alex Foxen"
    ids = [c["id"] for c in clips]
    stamp = conn.execute("SELECT max(updated_at) FROM contents").fetchone()[0]
    with db.transaction(conn):
        again = import_hands(conn, sheet, now=clock)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert [
        r[0] for r in conn.execute("SELECT id FROM contents WHERE kind = 'clip' ORDER BY start_sec")
    ] == ids
    assert conn.execute("SELECT max(updated_at) FROM contents").fetchone()[0] == stamp


def test_hand_changes_update_the_same_clip(
    loaded: tuple[sqlite3.Connection, str, FakeClock],
) -> None:
    conn, fid, clock = loaded
    with db.transaction(conn):
        import_hands(conn, hands(f"h1,{fid},10,20,1,Phil Ivey,bluff,,,,,,"), now=clock)
        report = import_hands(conn, hands(f"h1,{fid},15,25,2,Alex Foxen,,,,,,,"), now=clock)
    assert (report.created, report.updated) == (0, 1)
    clip = conn.execute("SELECT * FROM contents WHERE kind = 'clip'").fetchone()
    assert (clip["start_sec"], clip["highlight_score"]) == (15.0, 2)
    players = {
        r[0]
        for r in conn.execute(
            "SELECT p.name FROM content_players cp JOIN players p ON p.id = cp.player_id "
            "WHERE cp.content_id = ?",
            (clip["id"],),
        )
    }
    assert players == {"Alex Foxen"}
    assert conn.execute("SELECT count(*) FROM content_tags").fetchone()[0] == 0


def test_bad_hand_rows_are_reported_and_skipped(
    loaded: tuple[sqlite3.Connection, str, FakeClock],
) -> None:
    conn, fid, clock = loaded
    other = add_file(conn, "PAD/PAD S12/PAD S12 EP05.mp4")
    twin_a = add_file(conn, "PAD/PAD S12/Same Name.mp4")
    twin_b = add_file(conn, "PAD/PAD S13/Same Name.mp4")
    assert other and twin_a and twin_b
    sheet = hands(
        f"h1,{fid},0:20:00,0:10:00,,,,,,,,,",  # line 2: start after end
        f"h2,{fid},2:59:00,3:30:00,,,,,,,,,",  # line 3: past the duration (3 h)
        f"h3,{fid},0:01:00,0:02:00,,Nobody Known,,,,,,,",  # line 4: unknown player
        f"h4,{fid},1:75:00,1:80:00,,,,,,,,,",  # line 5: bad timecode
        "h5,no/such/file.mp4,0:01:00,0:02:00,,,,,,,,,",  # line 6: unknown file
        "h6,Same Name.mp4,0:01:00,0:02:00,,,,,,,,,",  # line 7: ambiguous name
        f"h7,{fid},0:01:00,0:02:00,5,,,,,,,,",  # line 8: 5 stars
        f"h8,{fid},0:01:00,0:02:00,,,,,,maybe,,,",  # line 9: not a boolean
        f"h9,{fid},0:01:00,0:02:00,1,Phil Ivey,,,,,,,",  # line 10: fine
        f"h9,{fid},0:01:00,0:02:00,1,Phil Ivey,,,,,,,",  # line 11: duplicate id
        "h10,PAD/PAD S12/PAD S12 EP05.mp4,0:01:00,0:02:00,,,,,,,,,",  # line 12: fine (no duration)
    )
    with db.transaction(conn):
        report = import_hands(conn, sheet, now=clock)
    lines = {p.line: p.message for p in report.problems}
    assert sorted(lines) == [2, 3, 4, 5, 6, 7, 8, 9, 11]
    assert "not before end" in lines[2]
    assert "duration" in lines[3]
    assert "unknown player" in lines[4]
    assert "timecode" in lines[5]
    assert "unknown file" in lines[6]
    assert "ambiguous" in lines[7]
    assert "line 10" in lines[11]
    assert report.created == 2
    assert report.summary().endswith("9 skipped")


def test_unusable_files_raise(catalog: sqlite3.Connection) -> None:
    with pytest.raises(ImportFileError, match="missing column"):
        import_hands(catalog, "id,name\n1,x\n", now=FakeClock())
    with pytest.raises(ImportFileError, match="empty"):
        import_players(catalog, "", now=FakeClock())


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400), st.sampled_from(["players", "hands"]))
def test_arbitrary_sheets_never_crash(text: str, kind: str) -> None:
    conn = db.connect(":memory:")
    try:
        with db.transaction(conn):
            if kind == "players":
                report = import_players(conn, text, now=FakeClock())
            else:
                report = import_hands(conn, text, now=FakeClock())
        assert report.rows == report.created + report.updated + report.unchanged + report.skipped
    except ImportFileError:
        pass
    finally:
        conn.close()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["p1", "p2", "", "p3"]),
            st.sampled_from(["Tom Dwan", "tom  dwan", "톰 드완", "", "Phil Ivey"]),
            st.sampled_from(["", "12", "x", "1,000"]),
        ),
        max_size=8,
    )
)
def test_player_sheets_reimport_idempotently(rows: list[tuple[str, str, str]]) -> None:
    text = "id,name,total_hands\n" + "".join(f'{a},{b},"{c}"\n' for a, b, c in rows)
    conn = db.connect(":memory:")
    try:
        with db.transaction(conn):
            first = import_players(conn, text, now=FakeClock())
            second = import_players(conn, text, now=FakeClock())
        assert second.created == 0 and second.updated == 0
        assert second.unchanged == first.created + first.updated + first.unchanged
    finally:
        conn.close()
