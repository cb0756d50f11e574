"""Series order (catalog/series_order.ORDER): (year, season, event, day, part, episode, date,
title), final tables last, hands by start time, and each content's previous and next one."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from archive_analyzer.catalog import db, series_order


def _catalog(tmp_path: Path) -> tuple[sqlite3.Connection, Callable[..., None]]:
    conn = db.connect(tmp_path / "c.db")
    now = db.timestamp(db.utc_now())
    conn.execute(
        "INSERT INTO catalogs (id, title, sort_order, created_at, updated_at) "
        "VALUES ('wsop', 'WSOP', 1, ?, ?)",
        (now, now),
    )
    conn.execute(
        "INSERT INTO series (id, catalog_id, key, title, year, created_at, updated_at) "
        "VALUES ('s', 'wsop', 'k', 'S', 2024, ?, ?)",
        (now, now),
    )

    def content(cid: str, **values: object) -> None:
        values = {"kind": "episode", "series_id": "s", "title": cid, **values}
        cols = ", ".join(["id", *values, "created_at", "updated_at"])
        marks = ", ".join("?" * (len(values) + 3))
        conn.execute(
            f"INSERT INTO contents ({cols}) VALUES ({marks})", (cid, *values.values(), now, now)
        )

    return conn, content


def test_order_of_a_tournament(tmp_path: Path) -> None:
    conn, content = _catalog(tmp_path)
    content("d2", title="Day 2", year=2024, day="2")
    content("d1b", title="Day 1B", year=2024, day="1B")
    content("d1a2", title="Day 1A (Part 2)", year=2024, day="1A", part=2)
    content("d1a1", title="Day 1A (Part 1)", year=2024, day="1A", part=1)
    content("ft", title="WSOP 2024 Main Event Final Table", year=2024)
    content("d10", title="Day 10", year=2024, day="10")
    content("final", title="Something", year=2024, day="FINAL")
    content("intro", title="Intro", year=2024)
    assert series_order.series_ids(conn, "s") == [
        "intro",
        "d1a1",
        "d1a2",
        "d1b",
        "d2",
        "d10",
        "ft",
        "final",
    ]
    assert series_order.is_final_table("메인 이벤트 파이널 테이블")
    assert series_order.is_final_table(
        "Main Event FINAL TABLE"
    ) and not series_order.is_final_table("Finals")


def test_year_event_day_part_episode_then_title(tmp_path: Path) -> None:
    conn, content = _catalog(tmp_path)
    content("b", title="a", year=2024, event_number=1, day="1")
    content("a", title="b", year=2023, event_number=5, day="3")
    content("e12", title="EP12", year=2020, season=9, episode=12)
    content("e2", title="EP02", year=2020, season=9, episode=2)
    content("p2e1", title="x", year=2021, part=2, episode=1)
    content("p1e2", title="y", year=2021, part=1, episode=2)
    assert series_order.series_ids(conn, "s") == ["e2", "e12", "p1e2", "p2e1", "a", "b"]


def test_neighbours_in_the_catalog(tmp_path: Path) -> None:
    conn, content = _catalog(tmp_path)
    now = db.timestamp(db.utc_now())
    content("day2", day="2", year=2024)
    content("day1a", day="1A", year=2024)
    content("day1b", day="1B", year=2024)
    content("gone", day="1C", year=2024, status="deleted")
    conn.execute(
        "INSERT INTO files (id, source, path, name, ext, size, mtime, status, first_seen, "
        "last_seen, updated_at) "
        "VALUES ('f', 'src', 'c.mp4', 'c.mp4', 'mp4', 1, 1, 'active', ?, ?, ?)",
        (now, now, now),
    )
    content(
        "clipfile", kind="clip", year=2024, file_id="f"
    )  # a clip cut as its own file: not an episode
    content("h2", kind="clip", series_id=None, parent_id="day1a", start_sec=50.0, end_sec=60.0)
    content("h1", kind="clip", series_id=None, parent_id="day1a", start_sec=10.0, end_sec=20.0)
    n = series_order.neighbours
    assert n(conn, "day1a") == series_order.Neighbours(None, "day1b")
    assert n(conn, "day1b") == series_order.Neighbours("day1a", "day2")  # the deleted 1C skipped
    assert n(conn, "day2") == series_order.Neighbours("day1b", None)
    assert n(conn, "clipfile") == series_order.Neighbours()
    assert n(conn, "h1") == series_order.Neighbours(None, "h2")  # hands of the episode by time
    assert n(conn, "h2") == series_order.Neighbours("h1", None)
    assert n(conn, "nothing") == series_order.Neighbours()
    assert series_order.series_ids(conn, "s") == [
        "day1a",
        "day1b",
        "day2",
        "clipfile",
    ]
