"""More catalog rows for the browsing tests, on top of ``catalog_data.seed``: two more WSOP
series (sorting), a final table in the 2024 Main Event (Korean "파이널 테이블"), a clip cut as
its own file (clips rows), and the Moneymaker episode (typo-tolerant search)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from archive_analyzer.catalog import db, search_index


@dataclass(frozen=True)
class More:
    final_table: str
    alpha: str
    zeta: str
    moneymaker: str
    own_clip: str


def add(conn: sqlite3.Connection, source: str) -> More:
    now = db.timestamp(db.utc_now())

    def series(sid: str, title: str, year: int) -> None:
        conn.execute(
            "INSERT INTO series (id, catalog_id, key, title, year, sort_key, created_at, "
            "updated_at) VALUES (?, 'wsop', ?, ?, ?, ?, ?, ?)",
            (sid, sid, title, year, sid, now, now),
        )

    def content(cid: str, **values: object) -> str:
        values = {"kind": "episode", "catalog_id": "wsop", **values}
        cols = ", ".join(["id", *values, "created_at", "updated_at"])
        marks = ", ".join("?" * (len(values) + 3))
        conn.execute(
            f"INSERT INTO contents ({cols}) VALUES ({marks})", (cid, *values.values(), now, now)
        )
        return cid

    with db.transaction(conn):
        clip_file = db.new_id()
        conn.execute(
            "INSERT INTO files (id, source, path, name, ext, size, mtime, status, probe_state, "
            "first_seen, last_seen, updated_at) VALUES (?, ?, 'WSOP/Clips/Hand 7.mp4', "
            "'Hand 7.mp4', 'mp4', 1000, 1, 'active', 'done', ?, ?, ?)",
            (clip_file, source, now, now, now),
        )
        series("s-alpha", "Alpha Highlights", 2019)
        series("s-zeta", "Zeta Classic", 2025)
        series("s-wsop-2003", "WSOP 2003", 2003)
        more = More(
            final_table=content(
                "final-table",
                series_id="s-wsop-2024-me",
                title="WSOP 2024 Main Event _ Final Table",
                year=2024,
                event_name="Main Event",
            ),
            alpha=content("alpha-1", series_id="s-alpha", title="Alpha Highlights EP01", year=2019),
            zeta=content("zeta-1", series_id="s-zeta", title="Zeta Classic Day 1", year=2025),
            moneymaker=content(
                "moneymaker",
                series_id="s-wsop-2003",
                title="WSOP 2003 Main Event - Chris Moneymaker",
                year=2003,
            ),
            own_clip=content(
                "own-clip",
                kind="clip",
                series_id="s-alpha",
                file_id=clip_file,
                title="Hand 7 - Alpha vs Omega",
                year=2019,
            ),
        )
        search_index.catch_up(conn)  # as every catalog writer does before it commits
    return more
