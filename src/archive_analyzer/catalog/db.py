"""Opening the catalog database: pragmas, versioned migrations, the clock for ``updated_at``.

One process writes the catalog at a time; readers use WAL and never block it. Migrations are the
numbered ``migrations/NNNN_name.sql`` files, applied in order inside one transaction each, and
tracked with ``PRAGMA user_version``, so an existing database upgrades in place.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from archive_analyzer.errors import CatalogError

Clock = Callable[[], datetime]

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def utc_now() -> datetime:
    """The real clock (inject another in tests)."""
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    """The catalog's text form of a moment: ISO 8601 UTC with microseconds, sortable as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> datetime:
    """Inverse of :func:`timestamp`."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def json_list(text: str | None) -> list[Any]:
    """A JSON-array column's items; [] for NULL, bad JSON or another JSON value (readers show
    what they can rather than fail on one bad cell)."""
    try:
        parsed = json.loads(text or "[]")
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else []


def new_id() -> str:
    """A stable catalog id: random, never derived from a path."""
    return uuid.uuid4().hex


def migrations() -> list[tuple[int, str, str]]:
    """All shipped migrations as (version, name, sql), in order."""
    found: list[tuple[int, str, str]] = []
    for entry in resources.files("archive_analyzer.catalog").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise CatalogError("two migrations share a version number")
    return found


def require_existing(path: Path) -> Path:
    """``path`` when a catalog file exists there; else ``CatalogError`` (callers that read or
    amend a catalog: opening would create an empty one, and a mistyped ``--db`` would then
    read as "nothing in the archive")."""
    if not path.exists():
        raise CatalogError(f"catalog not found: {path} (check --db / ARCHIVE_DB, or scan first)")
    return path


def connect(
    path: Path | str, *, readonly: bool = False, migrate: bool = True
) -> sqlite3.Connection:
    """Open the catalog at ``path`` with the project's pragmas and (for writers) migrate it.

    Returns a connection in autocommit mode (``isolation_level=None``): callers group writes
    with explicit ``BEGIN IMMEDIATE`` / ``COMMIT`` (see :func:`transaction`). Raises
    ``CatalogError`` when the file cannot be opened or is not a database.
    """
    target = Path(path)
    try:
        if readonly:
            if not target.exists():
                raise CatalogError(f"catalog not found: {target}")
            conn = sqlite3.connect(
                f"file:{target}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
            )
        else:
            if target.parent and not target.parent.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            if migrate:  # before the WAL pragma, which would change a foreign file too
                _check_is_catalog(conn, target)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            if migrate:
                apply_migrations(conn)
        return conn
    except sqlite3.DatabaseError as exc:
        raise CatalogError(f"cannot open catalog {target}: {exc}") from exc


def _check_is_catalog(conn: sqlite3.Connection, target: Path) -> None:
    """Refuse to migrate another program's SQLite file or a catalog newer than this program.

    A version-0 file with tables is someone else's database (a mistyped ``--db`` pointing at
    the job queue, say): the catalog's tables would be written into it.
    """
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version == 0:
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
        if int(tables.fetchone()[0]):
            conn.close()
            raise CatalogError(f"{target} is an SQLite database but not an archive catalog")
        return
    newest = migrations()[-1][0]
    if version > newest:
        conn.close()
        raise CatalogError(
            f"catalog {target} has schema {version}, newer than this program's {newest}"
        )


def apply_migrations(conn: sqlite3.Connection) -> int:
    """Bring the schema up to the newest migration; returns the resulting version."""
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    pending = [m for m in migrations() if m[0] > current]
    if not pending:
        return current
    # SQLite's procedure for changing a table's definition (create new, copy, drop, rename):
    # foreign keys off while it runs (a DROP would otherwise cascade into the children),
    # checked before each commit. The pragma is a no-op inside a transaction, so it is here.
    enforced = bool(conn.execute("PRAGMA foreign_keys").fetchone()[0])
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        for version, name, sql in pending:
            try:
                conn.execute("BEGIN IMMEDIATE")
                for statement in _split_sql(sql):
                    conn.execute(statement)
                broken = conn.execute("PRAGMA foreign_key_check").fetchone()
                if broken is not None:
                    raise sqlite3.IntegrityError(f"foreign key violated in table {broken[0]}")
                conn.execute(f"PRAGMA user_version = {version}")
                conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise CatalogError(f"migration {name} failed: {exc}") from exc
            current = version
    finally:
        if enforced:
            conn.execute("PRAGMA foreign_keys = ON")
    return current


def _split_sql(sql: str) -> list[str]:
    """Split a migration into statements (``executescript`` would commit on its own)."""
    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        if line.strip().startswith("--") and not buffer.strip():
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


class transaction:  # lower case: used like a function, ``with transaction(conn):``
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self._conn.execute("BEGIN IMMEDIATE")
        return self._conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self._conn.execute("COMMIT")
        else:
            self._conn.execute("ROLLBACK")
