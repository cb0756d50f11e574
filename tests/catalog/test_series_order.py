"""Series order: (year, season, event, day, part, episode, date, title), final tables last,
hands by start time, and each content's previous and next one."""

from __future__ import annotations

from pathlib import Path

from archive_analyzer.catalog import db, series_order
from archive_analyzer.catalog.series_order import Place, day_key, key


def test_day_key() -> None:
    assert day_key("1A", "") == (1, "a")
    assert day_key("10", "") == (10, "")
    assert day_key("2", "") < day_key("10", "") < day_key("FINAL", "")
    assert day_key(None, "WSOP 2024 Main Event Final Table") > day_key("9", "")
    assert day_key(None, "메인 이벤트 파이널 테이블") > day_key("9", "")
    assert day_key(None, "Intro") == (0, "")


def test_order_of_a_tournament() -> None:
    titles = {
        "d2": Place("d2", "Day 2", 2024, day="2"),
        "d1b": Place("d1b", "Day 1B", 2024, day="1B"),
        "d1a2": Place("d1a2", "Day 1A (Part 2)", 2024, day="1A", part=2),
        "d1a1": Place("d1a1", "Day 1A (Part 1)", 2024, day="1A", part=1),
        "ft": Place("ft", "Final Table", 2024),
        "d10": Place("d10", "Day 10", 2024, day="10"),
    }
    ordered = [p.id for p in series_order.ordered(titles.values())]
    assert ordered == ["d1a1", "d1a2", "d1b", "d2", "d10", "ft"]
    # the order: year, event, day, part, episode, then title
    a = Place("a", "b", 2023, event_number=5, day="3")
    b = Place("b", "a", 2024, event_number=1, day="1")
    assert key(a) < key(b)
    seasons = [Place(f"e{n}", f"EP{n:02d}", 2020, season=9, episode=n) for n in (3, 1, 12, 2)]
    assert [p.episode for p in series_order.ordered(seasons)] == [1, 2, 3, 12]
    around = series_order.around(series_order.ordered(titles.values()), "d1b")
    assert (around.previous, around.next) == ("d1a2", "d2")
    assert series_order.around([], "x") == series_order.Neighbours()


def test_neighbours_in_the_catalog(tmp_path: Path) -> None:
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
    assert [p.id for p in series_order.series_places(conn, "s")] == [
        "day1a",
        "day1b",
        "day2",
        "clipfile",
    ]
