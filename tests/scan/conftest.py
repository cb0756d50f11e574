"""Shared pieces of the scan tests: a tree on a local folder or the real Samba share, a clock
the test moves by hand, and a watcher harness that drives polls directly."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from archive_analyzer import pipeline
from archive_analyzer.catalog import db
from archive_analyzer.config import Settings
from archive_analyzer.sources import Source


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Tree:
    """A folder the test writes into (``root``) and the source spec that lists it."""

    kind: str
    root: Path
    spec: str
    settings: Settings

    def write(self, rel: str, data: bytes = b"x") -> Path:
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if self.kind == "smb":
            _open_up(self.root, target)
        return target

    def mkdir(self, rel: str) -> Path:
        target = self.root / rel
        target.mkdir(parents=True, exist_ok=True)
        if self.kind == "smb":
            _open_up(self.root, target)
        return target

    def source(self) -> Source:
        src = pipeline.source_opener(self.settings)(self.spec)
        src.connect()
        return src


def _open_up(root: Path, target: Path) -> None:
    """Let smbd's unprivileged user read what the test (root) wrote."""
    current = target
    while True:
        current.chmod(0o755 if current.is_dir() else 0o644)
        if current == root:
            break
        current = current.parent


def make_settings(db_path: Path, **values: Any) -> Settings:
    base: dict[str, Any] = {"db": db_path, "missing_grace_s": 3600.0, "poll_interval_s": 5.0}
    base.update(values)
    return Settings(**base)


@pytest.fixture(params=["local", "smb"])
def tree(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Tree]:
    """A clean tree on a local folder, then on the real Samba share."""
    db_path = tmp_path / "catalog.db"
    if request.param == "local":
        root = tmp_path / "share"
        root.mkdir()
        yield Tree("local", root, str(root), make_settings(db_path, source=str(root)))
        return
    folder = request.getfixturevalue("smb_folder")
    settings = folder.settings(db=db_path, missing_grace_s=3600.0, source=folder.url)
    yield Tree("smb", folder.root, folder.url, settings)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = db.connect(tmp_path / "catalog.db")
    try:
        yield connection
    finally:
        connection.close()
