"""Duplicate groups (pure) and versions joined from them."""

from __future__ import annotations

import sqlite3

from archive_analyzer.catalog import db, file_facts, versions
from archive_analyzer.catalog.duplicates import FileFacts, groups
from tests.catalog.catalog_rows import T0, add_file

SAME = {1.0: "c3c3c3c3c3c3c3c3", 3.0: "0f0f0f0f0f0f0f0f", 5.0: "ffff0000ffff0000"}
OTHER = {1.0: "3c3c3c3c3c3c3c3c", 3.0: "f0f0f0f0f0f0f0f0", 5.0: "0000ffff0000ffff"}


def test_identical_candidates_and_same_programme() -> None:
    facts = [
        FileFacts("1", "a/x.mov", 100, sample="s1", xxh128="h1"),
        FileFacts("2", "b/복사본/x.mov", 100, sample="s1", xxh128="h1", copy_marked=True),
        FileFacts("3", "c/y.bin", 50, sample="s2"),
        FileFacts("4", "d/y.bin", 50, sample="s2", xxh128="h9"),
        FileFacts("5", "m/ep.mov", 900, duration_s=12.0, frames=SAME),
        FileFacts("6", "w/ep.mp4", 90, duration_s=12.3, frames=SAME),
        FileFacts("7", "w/other.mp4", 95, duration_s=12.1, frames=OTHER),
        FileFacts("8", "w/late.mp4", 80, duration_s=13.0, frames=SAME),  # 1 s off: no
    ]
    found = {(g.kind, g.confirmed): g for g in groups(facts)}
    same = found[("same_programme", True)]
    assert [f.path for f in same.files] == ["m/ep.mov", "w/ep.mp4"]
    assert same.bytes_reclaimable == 90 and same.evidence["frames"][0]["matched"] == 3
    identical = found[("identical", True)]
    assert [f.path for f in identical.files] == ["a/x.mov", "b/복사본/x.mov"]
    assert identical.as_json()["bytes_reclaimable"] == 100
    candidate = found[("identical", False)]
    assert [f.path for f in candidate.files] == ["c/y.bin", "d/y.bin"]
    assert candidate.as_json()["evidence"] == "size+sample"


def _content(conn: sqlite3.Connection, fid: str, *, duplicate: int = 0) -> str:
    cid = db.new_id()
    stamp = db.timestamp(T0)
    conn.execute(
        "INSERT INTO contents (id, kind, file_id, title, duplicate, created_at, updated_at) "
        "VALUES (?, 'episode', ?, 't', ?, ?, ?)",
        (cid, fid, duplicate, stamp, stamp),
    )
    return cid


def test_versions_join_play_the_browser_playable_one_and_split(
    catalog: sqlite3.Connection,
) -> None:
    master = add_file(catalog, "m/ep.mov", duration=12.0)
    web = add_file(catalog, "w/ep.mp4", duration=12.2)
    catalog.execute("UPDATE media_info SET browser_playable = 1 WHERE id = ?", (web,))
    c_master, c_web = _content(catalog, master), _content(catalog, web, duplicate=1)
    facts = [
        FileFacts(master, "m/ep.mov", 900, duration_s=12.0, frames=SAME, content_id=c_master),
        FileFacts(web, "w/ep.mp4", 90, duration_s=12.2, frames=SAME, content_id=c_web,
                  copy_marked=True),
    ]  # fmt: skip
    with db.transaction(catalog):
        assert versions.reconcile(catalog, groups(facts), T0) == 1
    assert versions.primary_of(catalog, c_web) == c_master
    assert versions.played_file(catalog, c_master) == web  # the browser plays it directly
    # the joined version is hidden, but a page opened before the join still plays its file
    joined = file_facts.played_file(catalog, c_web)
    assert joined is not None and joined.id == web
    listed = versions.versions_of(catalog, c_master)
    assert [(v.path, v.member, v.played) for v in listed] == [
        ("m/ep.mov", False, False),
        ("w/ep.mp4", True, True),
    ]
    with db.transaction(catalog):
        assert versions.reconcile(catalog, groups(facts), T0) == 0  # idempotent
        versions.split(catalog, c_web, user="editor", now=T0)
    assert versions.primary_of(catalog, c_web) is None
    assert versions.played_file(catalog, c_master) == master
    with db.transaction(catalog):
        assert versions.reconcile(catalog, groups(facts), T0) == 0  # the split holds
    assert versions.primary_of(catalog, c_web) is None
