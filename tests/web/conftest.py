"""Fixtures for the web tests: a seeded catalog, the app, a logged-in client."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from archive_analyzer.catalog import db
from archive_analyzer.config import Settings
from archive_analyzer.sources.local import LocalSource
from archive_analyzer.web import accounts
from archive_analyzer.web.app import create_app
from archive_analyzer.web.server import SourceRegistry
from tests.web.catalog_data import Seeded, media_root, seed

PASSWORD = "correct horse battery"


class FakeClock:
    """A settable clock (login throttling windows without waiting)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class WebEnv:
    settings: Settings
    db_path: Path
    root: Path
    ids: Seeded
    clock: FakeClock
    app: FastAPI

    def conn(self) -> sqlite3.Connection:
        return db.connect(self.db_path, migrate=False)


@pytest.fixture(autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """argon2 with tiny parameters: the default costs ~1 s per hash on 2 busy cores."""
    from argon2 import PasswordHasher

    previous = accounts.hasher()
    accounts.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    accounts.use_hasher(previous)


@pytest.fixture(scope="session")
def web_media() -> Path:
    return media_root()


def make_env(tmp_path: Path, root: Path, **options: Any) -> WebEnv:
    """The seeded app; ``options`` are more settings (``trusted_proxies=("10.0.0.1",)``)."""
    db_path = tmp_path / "web.db"
    source = LocalSource(root)
    settings = Settings(db=db_path, data_dir=tmp_path / "data", source=str(root), **options)
    conn = db.connect(db_path)
    ids = seed(conn, root, source.name)
    accounts.add_user(conn, "viewer", PASSWORD)
    accounts.add_user(conn, "boss", PASSWORD, role="admin")
    conn.close()
    clock = FakeClock()
    app = create_app(
        settings,
        conn_factory=lambda: db.connect(db_path, migrate=False),
        source_factory=SourceRegistry(settings),
        clock=clock,
    )
    return WebEnv(settings, db_path, root, ids, clock, app)


@pytest.fixture
def web(tmp_path: Path, web_media: Path) -> WebEnv:
    return make_env(tmp_path, web_media)


@pytest.fixture
def anon(web: WebEnv) -> Iterator[TestClient]:
    with TestClient(web.app, base_url="http://testserver", follow_redirects=False) as client:
        yield client


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client: TestClient, username: str = "viewer", password: str = PASSWORD) -> str:
    """Log ``client`` in; returns the session's CSRF token."""
    page = client.get("/login")
    token = csrf_from(page.text)
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf": token, "next": "/"}
    )
    assert response.status_code == 303, response.text
    return csrf_from(client.get("/").text)


@pytest.fixture
def client(web: WebEnv) -> Iterator[TestClient]:
    with TestClient(web.app, base_url="http://testserver", follow_redirects=False) as c:
        c.headers["X-Test-CSRF"] = login(c)
        yield c
