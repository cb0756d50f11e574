"""Test data for the web app: small real H.264/AAC MP4 files and catalog rows pointing at them.

Media are made with ffmpeg (lavfi) once under ``~/.cache/archive-analyzer/web-<VERSION>/`` and
reused. ``seed`` inserts catalogs, series, episodes, a clip, players and tags directly (the web
app only reads these tables; the scanner and classifier own how they are produced) and, like
every catalog writer, brings the search index up to date before it commits.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from archive_analyzer.catalog import db, search_index

VERSION = "1"
CACHE_ROOT = Path(os.environ.get("ARCHIVE_CORPUS_CACHE", "~/.cache/archive-analyzer")).expanduser()

# name -> (seconds, size): keyframe every second so seeks land quickly.
MEDIA = {
    "WSOP/2024 WSOP Main Event/WSOP 2024 Main Event _ Day 1A (Part 1).mp4": (30, "320x180"),
    "WSOP/2024 WSOP Main Event/WSOP 2024 Main Event _ Day 2 (Part 2).mp4": (12, "320x180"),
    "HCL/2025/20250611 - Nik Airball, Daniel Negreanu.mp4": (8, "320x180"),
}


def media_root() -> Path:
    """The folder holding the generated media (built on first use, under a file lock)."""
    root = CACHE_ROOT / f"web-{VERSION}"
    root.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f"web-{VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for rel, (seconds, size) in MEDIA.items():
            target = root / rel
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".mp4", delete=False) as tmp:
                tmp_path = Path(tmp.name)
            subprocess.run(
                [
                    "ffmpeg",
                    "-v",
                    "error",
                    "-y",
                    "-f",
                    "lavfi",
                    "-i",
                    f"testsrc2=size={size}:rate=25:duration={seconds}",
                    "-f",
                    "lavfi",
                    "-i",
                    f"sine=frequency=440:sample_rate=48000:duration={seconds}",
                    "-c:v",
                    "libx264",
                    "-preset",
                    "ultrafast",
                    "-g",
                    "25",
                    "-pix_fmt",
                    "yuv420p",
                    "-b:v",
                    "300k",
                    "-c:a",
                    "aac",
                    "-b:a",
                    "64k",
                    "-movflags",
                    "+faststart",
                    "-shortest",
                    str(tmp_path),
                ],
                check=True,
            )
            tmp_path.rename(target)
    return root


@dataclass(frozen=True)
class Seeded:
    """Ids of the seeded rows."""

    source: str
    ep1: str
    ep2: str
    hcl1: str
    clip: str
    hidden: str
    negreanu: str
    ivey: str
    file_ep1: str


def seed(conn: db.sqlite3.Connection, root: Path, source_name: str) -> Seeded:
    """Insert a small catalog for the files under ``root``; returns the ids."""
    now = db.timestamp(db.utc_now())
    ids: dict[str, str] = {}

    def file_row(rel: str, seconds: int) -> str:
        path = root / rel
        fid = db.new_id()
        conn.execute(
            "INSERT INTO files (id, source, path, name, ext, size, mtime, status, probe_state, "
            "first_seen, last_seen, updated_at) VALUES (?,?,?,?,?,?,?,'active','done',?,?,?)",
            (
                fid,
                source_name,
                rel,
                path.name,
                "mp4",
                path.stat().st_size,
                path.stat().st_mtime,
                now,
                now,
                now,
            ),
        )
        conn.execute(
            "INSERT INTO media_info (id, status, container, duration_s, bit_rate, size, "
            "video_codec, video_profile, width, height, frame_rate, pix_fmt, field_order, audio, "
            "strategy, browser_playable, probed_at, updated_at) "
            "VALUES (?, 'ok', 'mp4', ?, 380000, ?, 'h264', 'High', 1920, 1080, 25, 'yuv420p', "
            "'progressive', ?, 'smart', 1, ?, ?)",
            (
                fid,
                float(seconds),
                path.stat().st_size,
                json.dumps([{"codec": "aac", "channels": 1, "sample_rate": 48000}]),
                now,
                now,
            ),
        )
        return fid

    def content(**values: object) -> str:
        cid = str(values.pop("id", db.new_id()))
        values.setdefault("kind", "episode")
        values.setdefault("created_at", now)
        values.setdefault("updated_at", now)
        cols = ", ".join(["id", *values])
        marks = ", ".join("?" for _ in range(len(values) + 1))
        conn.execute(f"INSERT INTO contents ({cols}) VALUES ({marks})", (cid, *values.values()))
        return cid

    with db.transaction(conn):
        conn.execute(
            "INSERT INTO catalogs (id, title, sort_order, created_at, updated_at) VALUES "
            "('wsop', 'WSOP', 1, ?, ?), ('hcl', 'HCL', 2, ?, ?)",
            (now, now, now, now),
        )
        conn.execute(
            "INSERT INTO series (id, catalog_id, key, title, year, sort_key, created_at, "
            "updated_at) VALUES ('s-wsop-2024-me', 'wsop', 'wsop/2024 main event', "
            "'2024 WSOP Main Event', 2024, 'a', ?, ?), ('s-hcl-2025', 'hcl', 'hcl/2025', "
            "'HCL 2025', 2025, 'b', ?, ?)",
            (now, now, now, now),
        )
        rels = list(MEDIA)
        f1 = file_row(rels[0], MEDIA[rels[0]][0])
        f2 = file_row(rels[1], MEDIA[rels[1]][0])
        f3 = file_row(rels[2], MEDIA[rels[2]][0])
        ids["ep1"] = content(
            file_id=f1,
            series_id="s-wsop-2024-me",
            catalog_id="wsop",
            title="WSOP 2024 Main Event _ Day 1A (Part 1)",
            sort_key="d1a-p1",
            year=2024,
            day="1A",
            part=1,
            event_name="Main Event",
        )
        ids["ep2"] = content(
            file_id=f2,
            series_id="s-wsop-2024-me",
            catalog_id="wsop",
            title="WSOP 2024 Main Event _ Day 2 (Part 2)",
            sort_key="d2-p2",
            year=2024,
            day="2",
            part=2,
        )
        ids["hcl1"] = content(
            file_id=f3,
            series_id="s-hcl-2025",
            catalog_id="hcl",
            title="20250611 - Nik Airball, Daniel Negreanu",
            sort_key="20250611",
            year=2025,
            stream_date="2025-06-11",
        )
        ids["clip"] = content(
            kind="clip",
            parent_id=ids["ep1"],
            start_sec=10.0,
            end_sec=15.0,
            title="Hand 12 - Negreanu vs Ivey",
            sort_key="h12",
            external_id="hand-12",
            highlight_score=3,
            winner="Daniel Negreanu",
            board="Ah Kd 7c 2s 2h",
        )
        ids["hidden"] = content(
            status="hidden",
            series_id="s-wsop-2024-me",
            catalog_id="wsop",
            title="Hidden Secret Episode",
            year=2024,
        )
        players = {
            "negreanu": ("Daniel Negreanu", "Daniel Negreanu", "다니엘 네그레아누", "CA"),
            "ivey": ("Phil Ivey", "Phil Ivey", "필 아이비", "US"),
            "airball": ("Nik Airball", None, None, "US"),
        }
        for key, (name, display, kr, country) in players.items():
            pid = db.new_id()
            ids[key] = pid
            conn.execute(
                "INSERT INTO players (id, name, name_key, display_name, name_kr, country, "
                "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                (pid, name, name.casefold(), display, kr, country, now, now),
            )
        links = [
            ("ep1", "negreanu"),
            ("ep1", "ivey"),
            ("clip", "negreanu"),
            ("clip", "ivey"),
            ("hcl1", "airball"),
            ("hcl1", "negreanu"),
        ]
        for content_key, player_key in links:
            conn.execute(
                "INSERT INTO content_players (content_id, player_id, updated_at) VALUES (?,?,?)",
                (ids[content_key], ids[player_key], now),
            )
        conn.execute(
            "INSERT INTO tags (id, name, kind, created_at, updated_at) "
            "VALUES ('hero_call', 'hero_call', 'play', ?, ?)",
            (now, now),
        )
        conn.execute(
            "INSERT INTO content_tags (content_id, tag_id, updated_at) VALUES (?, 'hero_call', ?)",
            (ids["clip"], now),
        )
        search_index.catch_up(conn)  # as every catalog writer does before it commits
    return Seeded(
        source=source_name,
        ep1=ids["ep1"],
        ep2=ids["ep2"],
        hcl1=ids["hcl1"],
        clip=ids["clip"],
        hidden=ids["hidden"],
        negreanu=ids["negreanu"],
        ivey=ids["ivey"],
        file_ep1=f1,
    )
