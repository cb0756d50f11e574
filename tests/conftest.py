"""Shared fixtures. Real services (smbd, redis-server, the Firestore emulator, Chromium) are
started by the fixture modules below on loopback ports and stopped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# Hypothesis's 200 ms per-example deadline fails property tests on a loaded 2-core machine
# (DeadlineExceeded in test_hls_plan under the whole suite): no deadline, everywhere.
settings.register_profile("archive", deadline=None)
settings.load_profile("archive")

pytest_plugins = [
    "tests.fixtures.isolation",
    "tests.fixtures.smb",
    "tests.fixtures.corpus",
    "tests.fixtures.redis",
    "tests.fixtures.firestore",
    "tests.fixtures.browser",
]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A path for a fresh catalog database (created on first connect)."""
    return tmp_path / "archive.db"


@pytest.fixture
def catalog(db_path: Path) -> Iterator[object]:
    """A migrated catalog connection on a fresh database."""
    from archive_analyzer.catalog import db

    conn = db.connect(db_path)
    try:
        yield conn
    finally:
        conn.close()
