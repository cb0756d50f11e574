"""Poster frames: one per corpus video, made with a seek (bytes read recorded and bounded),
cached, shown on lists; over SMB the frame and HLS segments come through the loopback endpoint.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from archive_analyzer.catalog import db
from archive_analyzer.pipeline import source_opener
from archive_analyzer.web import accounts
from archive_analyzer.web.app import create_app
from archive_analyzer.web.server import SourceRegistry
from tests.fixtures.browser import serve_app
from tests.web.conftest import PASSWORD, login
from tests.web.playback_data import VIDEOS, seed_corpus
from tests.web.test_hls import make_site

pytestmark = pytest.mark.slow

# A poster frame of a tiny corpus file reads it whole (the demuxer's probe). A long MP4 costs
# its index (ffmpeg parses the whole moov: 4 MB for 2 hours at 25 fps) plus one GOP; a
# fragmented one seeks by its mfra index. Never a full read.
BUDGET = 6 * 1024 * 1024


def test_every_corpus_video_has_a_thumbnail(tmp_path: Path, corpus: dict[str, Path]) -> None:
    site = make_site(tmp_path, corpus, VIDEOS)
    with TestClient(site.app, follow_redirects=False) as client:
        login(client)
        for name, cid in site.ids.items():
            response = client.get(f"/thumb/{cid}")
            assert response.status_code == 200, name
            assert response.headers["content-type"] == "image/jpeg", name
            assert response.content[:2] == b"\xff\xd8", name  # JPEG SOI
        conn = db.connect(site.settings.db, migrate=False)
        rows = {
            r["name"]: dict(r)
            for r in conn.execute(
                "SELECT f.name, f.size, t.bytes_read, t.position_s, t.error FROM thumbnails t "
                "JOIN files f ON f.id = t.file"
            )
        }
        conn.close()
        assert len(rows) == len(VIDEOS)
        for name, row in rows.items():
            assert row["error"] is None, (name, row)
            assert 0 < row["bytes_read"] <= BUDGET, (name, row)
        for long_file in ("mp4_2h_moov_end.mp4", "mp4_frag_2h.mp4"):
            row = rows[long_file]
            assert row["position_s"] == pytest.approx(720, abs=1)
            assert row["bytes_read"] < row["size"] / 5, row
        # cached: a second request is the same file, made no new record
        first = client.get(f"/thumb/{site.ids['mkv']}")
        assert first.content == client.get(f"/thumb/{site.ids['mkv']}").content
        # shown on lists and pages
        home = client.get("/").text
        assert f'src="/thumb/{site.ids["mkv"]}"' in home
        page = client.get(f"/content/{site.ids['mkv']}").text
        assert f'poster="/thumb/{site.ids["mkv"]}"' in page


def test_unplayable_content_gets_a_placeholder(tmp_path: Path, corpus: dict[str, Path]) -> None:
    site = make_site(tmp_path, corpus, ("random_bytes",))
    with TestClient(site.app, follow_redirects=False) as client:
        assert client.get(f"/thumb/{site.ids['random_bytes']}").status_code == 401
        login(client)
        response = client.get(f"/thumb/{site.ids['random_bytes']}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("image/svg+xml")


def test_thumbnail_and_hls_over_smb(
    tmp_path: Path, corpus: dict[str, Path], smb_folder: Any
) -> None:
    from argon2 import PasswordHasher

    shutil.copy(corpus["mxf_closed"], smb_folder.root / "mxf_closed.mxf")
    settings = smb_folder.settings(
        db=tmp_path / "web.db",
        data_dir=tmp_path / "data",
        source=smb_folder.url,
        hls_segment_s=2.0,
        transcode_max_height=90,
    )
    source = source_opener(settings)(smb_folder.url)
    source.connect()
    conn = db.connect(settings.db)
    try:
        ids = seed_corpus(conn, corpus, ("mxf_closed",), source=source)
        previous = accounts.hasher()
        accounts.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        accounts.add_user(conn, "viewer", PASSWORD)
        accounts.use_hasher(previous)
    finally:
        conn.close()
        source.close()
    registry = SourceRegistry(settings)
    app = create_app(
        settings,
        conn_factory=lambda: db.connect(settings.db, migrate=False),
        source_factory=registry,
    )
    cid = ids["mxf_closed"]
    try:
        with serve_app(app) as server, httpx.Client(base_url=server.url, timeout=60) as client:
            import re

            page = client.get("/login")
            token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
            assert token
            client.post(
                "/login",
                data={"username": "viewer", "password": PASSWORD, "csrf": token.group(1)},
            )
            thumb = client.get(f"/thumb/{cid}")
            assert thumb.headers["content-type"] == "image/jpeg"
            segment = client.get(f"/hls/{cid}/1.ts")
            assert segment.status_code == 200 and segment.content[:1] == b"G"
            # every ffmpeg input request closed its file (ffmpeg hangs up on most of them)
            smb_folder.server.wait_no_open_files()
    finally:
        registry.close()
    conn = db.connect(settings.db, migrate=False)
    row = conn.execute("SELECT bytes_read, error FROM thumbnails").fetchone()
    conn.close()
    assert row["error"] is None and 0 < row["bytes_read"] <= BUDGET
