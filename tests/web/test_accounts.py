"""Accounts, session secret and the users CLI."""

from __future__ import annotations

import io
import sqlite3
import stat
from pathlib import Path

import pytest

from archive_analyzer.catalog import db
from archive_analyzer.config import Settings
from archive_analyzer.errors import AuthError, ConfigError, LoginThrottled
from archive_analyzer.web import accounts
from archive_analyzer.web.security import session_secret
from tests.web.conftest import FakeClock


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    return db.connect(tmp_path / "a.db")


def test_add_and_authenticate(conn: sqlite3.Connection) -> None:
    user = accounts.add_user(conn, "Alice", "long enough", role="admin")
    assert user.is_admin
    row = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert row.startswith("$argon2id$") and "long enough" not in row
    assert accounts.authenticate(conn, "alice", "long enough", "1.2.3.4").id == user.id
    with pytest.raises(AuthError):
        accounts.authenticate(conn, "alice", "wrong one", "1.2.3.4")
    with pytest.raises(AuthError):
        accounts.authenticate(conn, "nobody", "long enough", "1.2.3.4")
    with pytest.raises(AuthError, match="exists"):
        accounts.add_user(conn, "ALICE", "long enough")


@pytest.mark.parametrize("name", ["", "a b", "x/y", "../x", "a" * 65, "semi;colon"])
def test_bad_usernames(conn: sqlite3.Connection, name: str) -> None:
    with pytest.raises(AuthError):
        accounts.add_user(conn, name, "long enough")


def test_short_password(conn: sqlite3.Connection) -> None:
    with pytest.raises(AuthError, match="at least"):
        accounts.add_user(conn, "bob", "short")


@pytest.mark.parametrize("blank", [" " * 12, "\t" * 8 + "  ", "\u3000" * 9, ""])
def test_whitespace_only_password(conn: sqlite3.Connection, blank: str) -> None:
    with pytest.raises(AuthError, match="only whitespace"):
        accounts.add_user(conn, "bob", blank)
    accounts.add_user(conn, "bob", "  spaced out  ")  # spaces inside a real one are fine
    with pytest.raises(AuthError, match="only whitespace"):
        accounts.set_password(conn, "bob", blank)


def test_throttling_per_user_and_ip(conn: sqlite3.Connection) -> None:
    clock = FakeClock()
    accounts.add_user(conn, "carol", "long enough")
    for _ in range(accounts.USER_IP_LIMIT):
        with pytest.raises(AuthError):
            accounts.authenticate(conn, "carol", "bad", "10.0.0.1", now=clock)
    with pytest.raises(LoginThrottled):
        accounts.authenticate(conn, "carol", "long enough", "10.0.0.1", now=clock)
    # another address is not locked out by someone else's failures
    assert accounts.authenticate(conn, "carol", "long enough", "10.0.0.2", now=clock)
    clock.advance(minutes=16)
    assert accounts.authenticate(conn, "carol", "long enough", "10.0.0.1", now=clock)


def test_throttling_per_ip(conn: sqlite3.Connection) -> None:
    clock = FakeClock()
    for i in range(accounts.IP_LIMIT):
        with pytest.raises(AuthError):
            accounts.authenticate(conn, f"user{i}", "bad", "10.9.9.9", now=clock)
    with pytest.raises(LoginThrottled):
        accounts.authenticate(conn, "someone", "bad", "10.9.9.9", now=clock)


def test_set_password_bumps_session_version(conn: sqlite3.Connection) -> None:
    user = accounts.add_user(conn, "dave", "long enough")
    updated = accounts.set_password(conn, "dave", "another long one")
    assert updated.session_version == user.session_version + 1
    with pytest.raises(AuthError):
        accounts.set_password(conn, "nobody", "another long one")


def test_first_admin(conn: sqlite3.Connection) -> None:
    password = accounts.ensure_first_admin(conn)
    assert password is not None and len(password) >= 12
    admin = accounts.find_user(conn, "admin")
    assert admin is not None and admin.is_admin and admin.must_change_password
    assert accounts.authenticate(conn, "admin", password, "127.0.0.1")
    assert accounts.ensure_first_admin(conn) is None


def test_session_secret_file(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "x.db", data_dir=tmp_path / "data")
    first = session_secret(settings)
    path = tmp_path / "data" / "session_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert session_secret(settings) == first
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="readable"):
        session_secret(settings)
    explicit = Settings(db=tmp_path / "x.db", session_secret="s" * 32)  # type: ignore[arg-type]
    assert session_secret(explicit) == "s" * 32


def test_users_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from archive_analyzer.cli import main

    database = tmp_path / "cli.db"

    def run(args: list[str], stdin: str = "") -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        with pytest.raises(SystemExit) as exit_info:
            main(args)
        return int(exit_info.value.code or 0)

    assert run(["users", "add", "erin", "--admin", "--db", str(database)], "s3cret-pass\n") == 0
    assert run(["users", "add", "frank", "--db", str(database)], "another-pass\n") == 0
    assert run(["users", "add", "frank", "--db", str(database)], "another-pass\n") == 1
    assert "error: user already exists: frank" in capsys.readouterr().err
    assert run(["users", "add", "gus", "--db", str(database)], "short\n") == 1
    assert "at least 8" in capsys.readouterr().err
    assert run(["users", "add", "gus", "--db", str(database)], " " * 10 + "\n") == 1
    assert "error: password must not be empty or only whitespace" in capsys.readouterr().err
    assert run(["users", "list", "--db", str(database), "--json"]) == 0
    listed = capsys.readouterr().out
    assert '"username": "erin", "role": "admin"' in listed and "frank" in listed
    assert "s3cret" not in listed
    assert run(["users", "passwd", "frank", "--db", str(database)], "brand-new-pass\n") == 0
    assert run(["users", "passwd", "nobody", "--db", str(database)], "brand-new-pass\n") == 1
    conn = db.connect(database)
    assert accounts.authenticate(conn, "frank", "brand-new-pass", "127.0.0.1")


def test_first_admin_password_is_announced_once(capsys: pytest.CaptureFixture[str]) -> None:
    from archive_analyzer.cli.serve import announce_first_admin

    announce_first_admin(None)
    assert capsys.readouterr().err == ""
    announce_first_admin("one-time-pw")
    err = capsys.readouterr().err
    assert "one-time-pw" in err and "admin" in err


def test_connection_pool_reuses_and_rolls_back(tmp_path: Path) -> None:
    from archive_analyzer.web.server import ConnectionPool

    db.connect(tmp_path / "p.db").close()
    pool = ConnectionPool(tmp_path / "p.db", max_idle=1)
    first = pool.acquire()
    first.execute("BEGIN")
    pool.release(first)
    assert not first.in_transaction
    assert pool.acquire() is first
    second = pool.acquire()
    assert second is not first
    pool.release(first)
    pool.release(second)  # over max_idle: closed
    with pytest.raises(sqlite3.ProgrammingError):
        second.execute("SELECT 1")
    pool.close()
