"""``/stream`` from a real smbd through the pipelined reader, with the faults a viewer meets.

A dropped connection is invisible to the viewer (the reader reopens the file and goes on at
the same offset); a replaced file ends the body early and the re-request's ``If-Range`` no
longer matches, so the player gets the new version whole; a vanished file ends the body with
one log line; a hung server ends it after the time limit. No handle is left open on smbd.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from archive_analyzer.catalog import db
from archive_analyzer.pipeline import source_opener
from archive_analyzer.web import accounts
from archive_analyzer.web.app import create_app
from archive_analyzer.web.server import SourceRegistry
from tests.fixtures.browser import serve_app
from tests.fixtures.delay_proxy import DelayProxy
from tests.fixtures.smb import SambaServer, SMBFolder
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.smb

MIB = 1024 * 1024
NAME = "ep.mp4"


@dataclass
class Site:
    client: httpx.Client
    url: str  # /stream/<content>
    root: Path


def seed(db_path: Path, source_name: str, size: int, mtime: float) -> str:
    conn = db.connect(db_path)
    now = db.timestamp(db.utc_now())
    with db.transaction(conn):
        conn.execute(
            "INSERT INTO files (id, source, path, name, ext, size, mtime, first_seen, last_seen, "
            "updated_at) VALUES ('f1', ?, ?, ?, 'mp4', ?, ?, ?, ?, ?)",
            (source_name, NAME, NAME, size, mtime, now, now, now),
        )
        conn.execute(
            "INSERT INTO contents (id, kind, file_id, title, created_at, updated_at) "
            "VALUES ('c1', 'episode', 'f1', 'Episode', ?, ?)",
            (now, now),
        )
    accounts.add_user(conn, "viewer", PASSWORD)
    conn.close()
    return "c1"


@contextmanager
def site(
    tmp_path: Path, url: str, root: Path, server: SambaServer, **settings: Any
) -> Iterator[Site]:
    """The app over the share at ``url`` (maybe through a proxy), served by uvicorn."""
    config = server.settings(
        db=tmp_path / "web.db", data_dir=tmp_path / "data", source=url, **settings
    )
    info = (root / NAME).stat()
    content = seed(config.db, source_opener(config)(url).name, info.st_size, info.st_mtime)
    registry = SourceRegistry(config)
    app = create_app(
        config, conn_factory=lambda: db.connect(config.db, migrate=False), source_factory=registry
    )
    try:
        with serve_app(app) as live, httpx.Client(base_url=live.url, timeout=60) as client:
            page = client.get("/login")
            token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
            assert token
            client.post(
                "/login", data={"username": "viewer", "password": PASSWORD, "csrf": token.group(1)}
            )
            yield Site(client, f"/stream/{content}", root)
            # every response closed its file, a hung-up one included (checked while the
            # app's connection is still up: closing it would close the handles anyway)
            server.wait_no_open_files()
    finally:
        registry.close()


def write(path: Path, size: int, byte: bytes | None = None) -> bytes:
    data = byte * size if byte else os.urandom(size)
    path.write_bytes(data)
    path.chmod(0o644)
    return data


def test_stream_and_ranges_over_smb(tmp_path: Path, smb_folder: SMBFolder) -> None:
    data = write(smb_folder.root / NAME, 20 * MIB + 7)
    with site(tmp_path, smb_folder.url, smb_folder.root, smb_folder.server) as s:
        whole = s.client.get(s.url)
        assert whole.status_code == 200 and whole.content == data
        middle = s.client.get(s.url, headers={"Range": f"bytes={10 * MIB}-{10 * MIB + 99}"})
        assert middle.status_code == 206 and middle.content == data[10 * MIB : 10 * MIB + 100]
        assert s.client.head(s.url).headers["content-length"] == str(len(data))
        # a player that hangs up after the first bytes leaves no handle behind
        with s.client.stream("GET", s.url) as response:
            next(response.iter_bytes())


def test_connection_drop_mid_stream_is_invisible(tmp_path: Path, smb_folder: SMBFolder) -> None:
    data = write(smb_folder.root / NAME, 40 * MIB)
    server = smb_folder.server
    with DelayProxy((server.host, server.port)) as proxy:
        url = smb_folder.url.replace(f":{server.port}/", f":{proxy.port}/")
        with site(tmp_path, url, smb_folder.root, server) as s:
            digest = hashlib.sha256()
            received = 0
            dropped = False
            with s.client.stream("GET", s.url) as response:
                for piece in response.iter_bytes():
                    digest.update(piece)
                    received += len(piece)
                    if received > 5 * MIB and not dropped:
                        proxy.drop_all()
                        dropped = True
            assert dropped and received == len(data)
            assert digest.digest() == hashlib.sha256(data).digest()


def test_replaced_file_stops_the_stream_and_if_range_gets_the_new_one(
    tmp_path: Path, smb_folder: SMBFolder, caplog: pytest.LogCaptureFixture
) -> None:
    write(smb_folder.root / NAME, 40 * MIB, b"a")
    caplog.set_level(logging.WARNING, logger="archive_analyzer.web.streaming")
    with site(tmp_path, smb_folder.url, smb_folder.root, smb_folder.server) as s:
        received = 0
        with s.client.stream("GET", s.url) as response:
            tag = response.headers["etag"]
            with pytest.raises(httpx.RemoteProtocolError):  # the body ends short
                for piece in response.iter_bytes():
                    assert set(piece) == {ord("a")}  # never a byte of the new version
                    received += len(piece)
                    if received >= 2 * MIB and not (smb_folder.root / "new").exists():
                        write(smb_folder.root / "new", 30 * MIB, b"b")
                        os.replace(smb_folder.root / "new", smb_folder.root / NAME)
        assert 0 < received < 40 * MIB
        again = s.client.get(s.url, headers={"Range": f"bytes={received}-", "If-Range": tag})
        assert again.status_code == 200  # not 206: the client must not splice two versions
        assert again.headers["etag"] != tag
        assert again.content == b"b" * (30 * MIB)
    assert caplog.text.count("changed while it was read") == 1


def test_vanished_file_ends_the_stream_logged_once(
    tmp_path: Path, smb_folder: SMBFolder, caplog: pytest.LogCaptureFixture
) -> None:
    write(smb_folder.root / NAME, 40 * MIB)
    caplog.set_level(logging.INFO)
    with site(tmp_path, smb_folder.url, smb_folder.root, smb_folder.server) as s:
        received = 0
        with (
            s.client.stream("GET", s.url) as response,
            pytest.raises(httpx.RemoteProtocolError),
        ):
            for piece in response.iter_bytes():
                received += len(piece)
                if received >= 2 * MIB and (smb_folder.root / NAME).exists():
                    (smb_folder.root / NAME).unlink()
        assert received < 40 * MIB
        assert s.client.get(s.url).status_code == 404
    vanished = [r for r in caplog.records if "no longer exists" in r.getMessage()]
    assert len([r for r in vanished if r.name.endswith("streaming")]) == 1


def test_hung_server_ends_the_stream_after_the_time_limit(
    tmp_path: Path, smb_private_server: SambaServer
) -> None:
    server = smb_private_server
    write(server.root / NAME, 60 * MIB)
    with site(tmp_path, server.url, server.root, server, smb_timeout_s=1.0) as s:
        received = 0
        with s.client.stream("GET", s.url) as response:
            with pytest.raises(httpx.RemoteProtocolError):
                for piece in response.iter_bytes():
                    received += len(piece)
                    if received >= 2 * MIB and not server.paused:
                        server.pause()
                        paused_at = time.monotonic()
            assert time.monotonic() - paused_at < 10  # the limit, not a hang
        server.resume()
        assert s.client.head(s.url).status_code == 200  # and it reconnects afterwards
