from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from bench.archive_paths import generate

from archive_analyzer.catalog import contents, db
from archive_analyzer.catalog.hand_sheet import import_hands
from archive_analyzer.catalog.players import import_players
from archive_analyzer.catalog.rules import load_rules
from archive_analyzer.errors import CatalogError, NotFound
from tests.catalog.catalog_rows import FakeClock, add_file


def test_refresh_creates_rows_and_skips_junk(catalog: sqlite3.Connection) -> None:
    clock = FakeClock()
    media = add_file(catalog, "HCL/2025/20250611 - Nik Airball, Sashimi.mp4")
    junk = add_file(catalog, "HCL/2025/upload.part", is_media=0)
    with db.transaction(catalog):
        contents.refresh(catalog, [media, junk], now=clock)
    rows = catalog.execute("SELECT * FROM contents").fetchall()
    assert len(rows) == 1
    assert rows[0]["file_id"] == media
    assert rows[0]["catalog_id"] == "hcl"
    assert catalog.execute("SELECT count(*) FROM series").fetchone()[0] == 1


def test_refresh_keeps_content_id_when_series_changes(catalog: sqlite3.Connection) -> None:
    clock = FakeClock()
    fid = add_file(catalog, "PAD/PAD S12/PAD S12 EP05.mp4")
    with db.transaction(catalog):
        contents.refresh(catalog, [fid], now=clock)
    before = catalog.execute("SELECT id, series_id FROM contents").fetchone()
    catalog.execute("UPDATE files SET path = 'PAD/PAD S13/PAD S12 EP05.mp4' WHERE id = ?", (fid,))
    with db.transaction(catalog):
        contents.refresh(catalog, [fid], now=clock)
    after = catalog.execute("SELECT id, series_id FROM contents").fetchone()
    assert after["id"] == before["id"]
    assert after["series_id"] != before["series_id"]


def test_path_players_are_linked_and_replaced(catalog: sqlite3.Connection) -> None:
    clock = FakeClock()
    fid = add_file(catalog, "HCL/2025/20250611 - Nik Airball, Sashimi Commentary.mp4")
    with db.transaction(catalog):
        contents.refresh(catalog, [fid], now=clock)
    names = {
        r[0]
        for r in catalog.execute(
            "SELECT p.name FROM content_players cp JOIN players p ON p.id = cp.player_id"
        )
    }
    assert names == {"Nik Airball", "Sashimi"}
    catalog.execute(
        "UPDATE files SET path = 'HCL/2025/20250611 - Nik Airball, Tom Dwan.mp4' WHERE id = ?",
        (fid,),
    )
    with db.transaction(catalog):
        contents.refresh(catalog, [fid], now=clock)
    names = {
        r[0]
        for r in catalog.execute(
            "SELECT p.name FROM content_players cp JOIN players p ON p.id = cp.player_id"
        )
    }
    assert names == {"Nik Airball", "Tom Dwan"}


def test_deleted_and_non_media_files_lose_their_content_softly(
    catalog: sqlite3.Connection,
) -> None:
    clock = FakeClock()
    fid = add_file(catalog, "PAD/PAD S12/PAD S12 EP05.mp4")
    with db.transaction(catalog):
        contents.refresh(catalog, [fid], now=clock)
    catalog.execute("UPDATE files SET status = 'deleted' WHERE id = ?", (fid,))
    with db.transaction(catalog):
        contents.refresh(catalog, [fid], now=clock)
    row = catalog.execute("SELECT id, status FROM contents").fetchone()
    assert row["status"] == "deleted"
    catalog.execute("UPDATE files SET status = 'active' WHERE id = ?", (fid,))
    with db.transaction(catalog):
        contents.refresh(catalog, [fid], now=clock)
    again = catalog.execute("SELECT id, status FROM contents").fetchone()
    assert (again["id"], again["status"]) == (row["id"], "active")


def test_unchanged_refresh_writes_nothing(catalog: sqlite3.Connection) -> None:
    clock = FakeClock()
    ids = [add_file(catalog, f"PAD/PAD S12/PAD S12 EP{n:02d}.mp4") for n in range(1, 5)]
    with db.transaction(catalog):
        contents.refresh(catalog, ids, now=clock)
    before = catalog.execute("SELECT max(updated_at) FROM contents").fetchone()[0]
    with db.transaction(catalog):
        contents.refresh(catalog, ids, now=clock)
    assert catalog.execute("SELECT max(updated_at) FROM contents").fetchone()[0] == before
    assert catalog.execute("SELECT max(updated_at) FROM series").fetchone()[0] <= before


def test_reclassify_keeps_manual_edits_clips_and_ids(
    catalog: sqlite3.Connection, tmp_path: Path
) -> None:
    clock = FakeClock()
    eu = "WSOP/WSOP-BR/WSOP-EUROPE/2025 WSOP-Europe/2025 WSOP-EUROPE MAIN EVENT"
    a = add_file(catalog, f"{eu}/Day 1 A/Main Event Day 1A.mp4", duration=3600)
    b = add_file(catalog, f"{eu}/Day 2/Main Event Day 2.mp4", duration=3600)
    c = add_file(catalog, "PAD/PAD S12/PAD S12 EP05.mp4")
    with db.transaction(catalog):
        contents.refresh(catalog, [a, b, c], now=clock)
        import_players(catalog, "id,name\np1,Alex Foxen\n", now=clock)
        report = import_hands(
            catalog,
            f"id,file_id,start_sec,end_sec,players\nh1,{a},0:10:00,0:12:00,Alex Foxen\n",
            now=clock,
        )
    assert report.created == 1
    ep_a = catalog.execute("SELECT * FROM contents WHERE file_id = ?", (a,)).fetchone()
    ep_b = catalog.execute("SELECT * FROM contents WHERE file_id = ?", (b,)).fetchone()
    with db.transaction(catalog):
        contents.set_manual(catalog, "contents", ep_b["id"], "title", "The Big Day", now=clock)
        contents.set_manual(
            catalog, "contents", ep_a["id"], "series_id", ep_a["series_id"], now=clock
        )
    # New rules: event folders only group; the series is the year's festival folder.
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text("[structure]\ncontainers = ['main event$']\n", encoding="utf-8")
    with db.transaction(catalog):
        result = contents.reclassify(catalog, now=clock, rules=load_rules(rules_file))
    assert result.files == 3
    after_a = catalog.execute("SELECT * FROM contents WHERE file_id = ?", (a,)).fetchone()
    after_b = catalog.execute("SELECT * FROM contents WHERE file_id = ?", (b,)).fetchone()
    assert after_a["id"] == ep_a["id"] and after_b["id"] == ep_b["id"]
    assert after_a["series_id"] == ep_a["series_id"]  # locked by hand
    assert after_b["series_id"] != ep_b["series_id"]  # moved by the new rule
    series = catalog.execute(
        "SELECT title FROM series WHERE id = ?", (after_b["series_id"],)
    ).fetchone()
    assert series["title"] == "2025 WSOP-Europe"
    assert after_b["title"] == "The Big Day"  # locked by hand
    clip = catalog.execute("SELECT * FROM contents WHERE kind = 'clip'").fetchone()
    assert clip["parent_id"] == ep_a["id"]
    assert (
        catalog.execute(
            "SELECT count(*) FROM content_players WHERE content_id = ? AND origin = 'import'",
            (clip["id"],),
        ).fetchone()[0]
        == 1
    )
    # Unlocking gives the field back to the rules.
    with db.transaction(catalog):
        contents.unlock(catalog, "contents", ep_b["id"], "title", now=clock)
        contents.reclassify(catalog, now=clock, rules=load_rules(rules_file))
    assert (
        catalog.execute("SELECT title FROM contents WHERE id = ?", (ep_b["id"],)).fetchone()[0]
        != "The Big Day"
    )


def test_clips_follow_their_episode_into_a_new_series(catalog: sqlite3.Connection) -> None:
    clock = FakeClock()
    fid = add_file(catalog, "PAD/PAD S12/PAD S12 EP05.mp4", duration=1000)
    with db.transaction(catalog):
        contents.refresh(catalog, [fid], now=clock)
        import_hands(catalog, f"id,file_id,start_sec,end_sec\nh9,{fid},10,20\n", now=clock)
    catalog.execute("UPDATE files SET path = 'PAD/PAD S13/PAD S13 EP05.mp4' WHERE id = ?", (fid,))
    with db.transaction(catalog):
        contents.refresh(catalog, [fid], now=clock)
    episode = catalog.execute("SELECT * FROM contents WHERE kind = 'episode'").fetchone()
    clip = catalog.execute("SELECT * FROM contents WHERE kind = 'clip'").fetchone()
    assert clip["series_id"] == episode["series_id"]
    assert clip["parent_id"] == episode["id"]


def test_manual_edit_of_unknown_field_is_refused(catalog: sqlite3.Connection) -> None:
    with pytest.raises(CatalogError):
        contents.set_manual(catalog, "contents", "x", "id", "y", now=FakeClock())
    with pytest.raises(NotFound):
        contents.set_manual(catalog, "contents", "x", "title", "y", now=FakeClock())


def test_titles_unique_in_the_catalog_over_a_generated_archive(
    catalog: sqlite3.Connection,
) -> None:
    clock = FakeClock()
    samples = generate()
    with db.transaction(catalog):
        ids = [add_file(catalog, s.path, is_media=int(s.media)) for s in samples]
        for start in range(0, len(ids), 500):  # the scanner's batches
            contents.refresh(catalog, ids[start : start + 500], now=clock)
    media = sum(s.media for s in samples)
    assert catalog.execute("SELECT count(*) FROM contents").fetchone()[0] == media
    clashes = catalog.execute(
        "SELECT series_id, lower(title), count(*) FROM contents "
        "GROUP BY series_id, lower(title) HAVING count(*) > 1"
    ).fetchall()
    assert [tuple(r) for r in clashes] == []
    unsorted = catalog.execute(
        "SELECT count(*) FROM contents WHERE catalog_id = 'unsorted'"
    ).fetchone()[0]
    assert unsorted == 0


def test_disambiguated_titles_are_stable_across_refreshes(catalog: sqlite3.Connection) -> None:
    clock = FakeClock()
    eu = "WSOP/WSOP-BR/WSOP-EUROPE/2025 WSOP-Europe/2025 WSOP-EUROPE MAIN EVENT"
    ids = [
        add_file(catalog, f"{eu}/Day 2/Main Event Day 2.mp4"),
        add_file(catalog, f"{eu}/NO COMMENTARY WITH GRAPHICS VER/Day 2/Main Event Day 2.mp4"),
        add_file(catalog, f"{eu}/Day 2/Main Event Day 2.mov"),
    ]
    with db.transaction(catalog):
        contents.refresh(catalog, ids, now=clock)
    titles = sorted(r[0] for r in catalog.execute("SELECT title FROM contents"))
    assert len(set(titles)) == 3
    before = catalog.execute("SELECT max(updated_at) FROM contents").fetchone()[0]
    for fid in ids:  # one file at a time, as the watcher does
        with db.transaction(catalog):
            contents.refresh(catalog, [fid], now=clock)
    assert sorted(r[0] for r in catalog.execute("SELECT title FROM contents")) == titles
    assert catalog.execute("SELECT max(updated_at) FROM contents").fetchone()[0] == before


def test_series_facts_come_from_folders_not_file_names(catalog: sqlite3.Connection) -> None:
    clock = FakeClock()
    ids = [
        add_file(catalog, "WSOP/WSOP-C/2024 WSOP-C LA/2024 WSOP-C LA STREAM/Cyprus recap.mp4"),
        add_file(catalog, "WSOP/WSOP-C/2024 WSOP-C LA/2024 WSOP-C LA STREAM/Day 2.mp4"),
        add_file(catalog, "WSOP/WSOP-C/2024 WSOP-C LA/WSOP-SC 2019 recap.mp4"),
    ]
    with db.transaction(catalog):
        contents.refresh(catalog, ids, now=clock)
    series = catalog.execute("SELECT * FROM series").fetchall()
    assert len(series) == 1
    assert (series[0]["location"], series[0]["sub_brand"], series[0]["year"]) == (
        "la",
        "WSOP-C",
        2024,
    )
    stamp = series[0]["updated_at"]
    for fid in reversed(ids):
        with db.transaction(catalog):
            contents.refresh(catalog, [fid], now=clock)
    assert catalog.execute("SELECT updated_at FROM series").fetchone()[0] == stamp


def test_series_title_does_not_flip_between_spellings(catalog: sqlite3.Connection) -> None:
    clock = FakeClock()
    a = add_file(catalog, "WSOP/wsop 2003/WSOP 2003 Episode 1.mp4")
    b = add_file(catalog, "WSOP/WSOP 2003/WSOP 2003 Episode 2.mp4")
    for fid in (a, b, a, b):
        with db.transaction(catalog):
            contents.refresh(catalog, [fid], now=clock)
    rows = catalog.execute("SELECT title, updated_at FROM series").fetchall()
    assert [r["title"] for r in rows] == ["WSOP 2003"]
    stamp = rows[0]["updated_at"]
    with db.transaction(catalog):
        contents.refresh(catalog, [a], now=clock)
    assert catalog.execute("SELECT updated_at FROM series").fetchone()[0] == stamp
