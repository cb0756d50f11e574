"""Accounts, session secret and the users CLI."""

from __future__ import annotations

import io
import sqlite3
import stat
from pathlib import Path

import pytest

from archive_analyzer.catalog import db
from archive_analyzer.config import Settings
from archive_analyzer.errors import AuthError, ConfigError
from archive_analyzer.web import accounts
from archive_analyzer.web.security import session_secret


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    return db.connect(tmp_path / "a.db")


def test_add_and_authenticate(conn: sqlite3.Connection) -> None:
    user = accounts.add_user(conn, "Alice", "long enough words", role="admin")
    assert user.is_admin
    row = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert row.startswith("$argon2id$") and "long enough words" not in row
    assert accounts.authenticate(conn, "alice", "long enough words", "1.2.3.4").id == user.id
    with pytest.raises(AuthError):
        accounts.authenticate(conn, "alice", "wrong one again", "1.2.3.4")
    with pytest.raises(AuthError):
        accounts.authenticate(conn, "nobody", "long enough words", "1.2.3.4")
    with pytest.raises(AuthError, match="exists"):
        accounts.add_user(conn, "ALICE", "long enough words")


@pytest.mark.parametrize("name", ["", "a b", "x/y", "../x", "a" * 65, "semi;colon"])
def test_bad_usernames(conn: sqlite3.Connection, name: str) -> None:
    with pytest.raises(AuthError):
        accounts.add_user(conn, name, "long enough words")


def test_short_and_weak_passwords(conn: sqlite3.Connection) -> None:
    with pytest.raises(AuthError, match="at least 10"):
        accounts.add_user(conn, "bob", "short")
    with pytest.raises(AuthError, match="too easy to guess"):
        accounts.add_user(conn, "bob", "password123")
    with pytest.raises(AuthError, match="user name"):
        accounts.add_user(conn, "bobby", "bobby likes green tea")
    assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0


@pytest.mark.parametrize("blank", [" " * 12, "\t" * 10 + "  ", "\u3000" * 11, ""])
def test_whitespace_only_password(conn: sqlite3.Connection, blank: str) -> None:
    with pytest.raises(AuthError, match="only whitespace"):
        accounts.add_user(conn, "bob", blank)
    accounts.add_user(conn, "bob", "  spaced out lanterns  ")  # spaces inside are fine
    with pytest.raises(AuthError, match="only whitespace"):
        accounts.set_password(conn, "bob", blank)


def test_roles_and_disable(conn: sqlite3.Connection) -> None:
    boss = accounts.add_user(conn, "boss", "long enough words", role="admin")
    eve = accounts.add_user(conn, "eve", "long enough words", role=accounts.Role.EDITOR)
    assert eve.is_editor and not eve.is_admin and eve.may(accounts.Role.VIEWER)
    assert not eve.may(accounts.Role.ADMIN) and boss.may(accounts.Role.EDITOR)
    with pytest.raises(AuthError, match="unknown role"):
        accounts.set_role(conn, "eve", "owner")
    with pytest.raises(AuthError, match="last enabled admin"):
        accounts.set_role(conn, "boss", "viewer")
    with pytest.raises(AuthError, match="last enabled admin"):
        accounts.set_disabled(conn, "boss", True)
    assert accounts.set_role(conn, "eve", "admin").is_admin
    assert accounts.set_role(conn, "boss", "viewer").role is accounts.Role.VIEWER
    off = accounts.set_disabled(conn, "eve", False)
    assert not off.disabled
    accounts.set_role(conn, "boss", "admin")
    disabled = accounts.set_disabled(conn, "eve", True)
    assert disabled.disabled and not disabled.may(accounts.Role.VIEWER)
    with pytest.raises(AuthError, match="disabled"):
        accounts.authenticate(conn, "eve", "long enough words", "1.2.3.4")


def test_first_admin_password_is_not_subject_to_rules(conn: sqlite3.Connection) -> None:
    # a random one-time password (it must be changed at first login)
    assert accounts.ensure_first_admin(conn)


def test_set_password_bumps_session_version(conn: sqlite3.Connection) -> None:
    user = accounts.add_user(conn, "dave", "long enough words")
    updated = accounts.set_password(conn, "dave", "another long phrase here")
    assert updated.session_version == user.session_version + 1
    with pytest.raises(AuthError):
        accounts.set_password(conn, "nobody", "another long phrase here")


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
            main([*args, "--db", str(database)])
        return int(exit_info.value.code or 0)

    def one_error_line() -> str:
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1, err
        return err

    assert run(["users", "add", "erin", "--admin"], "silver kettle drum\n") == 0
    assert run(["users", "add", "frank"], "orange parade lamps\norange parade lamps\n") == 0
    assert "created viewer frank" in capsys.readouterr().out
    assert run(["users", "add", "frank"], "orange parade lamps\n") == 1
    assert "error: user already exists: frank" in one_error_line()
    assert run(["users", "add", "gus"], "short\n") == 1
    assert "at least 10" in one_error_line()
    assert run(["users", "add", "gus"], "password\npassword\n") == 1
    assert "error: password must have at least 10" in one_error_line()
    assert run(["users", "add", "gus"], "password12345\n") == 1
    assert "too easy to guess" in one_error_line()
    assert run(["users", "add", "gus"], "orange parade lamps\norange parade lumps\n") == 1
    assert "differ" in one_error_line()
    assert run(["users", "add", "gus"], " " * 12 + "\n") == 1
    assert "error: password must not be empty or only whitespace" in one_error_line()
    assert run(["users", "add", "gus", "--role", "owner"], "orange parade lamps\n") == 1
    assert "unknown role: owner" in one_error_line()
    assert run(["users", "add", "gus", "--role", "viewer", "--admin"], "x\n") == 1
    assert "contradicts" in one_error_line()
    assert run(["users", "add", "ed", "--role", "editor"], "orange parade lamps\n") == 0
    assert run(["users", "add", "viv", "--brand", "nope"], "orange parade lamps\n") == 1
    assert "unknown brand: nope" in one_error_line()
    assert run(["users", "role", "frank", "editor"]) == 0
    assert "frank is now editor" in capsys.readouterr().out
    assert run(["users", "role", "erin", "viewer"]) == 1
    assert "last enabled admin" in one_error_line()
    assert run(["users", "disable", "ed"]) == 0
    assert run(["users", "disable", "nobody"]) == 1
    assert "no such user: nobody" in one_error_line()
    assert run(["users", "list", "--json"]) == 0
    listed = capsys.readouterr().out
    assert '"username": "erin", "role": "admin"' in listed and "frank" in listed
    assert '"username": "ed", "role": "editor", "disabled": true' in listed
    assert "silver" not in listed
    assert run(["users", "enable", "ed"]) == 0
    assert run(["users", "passwd", "frank"], "violet harbour crane\n") == 0
    assert run(["users", "passwd", "frank"], "frank is the best\n") == 1
    assert "user name" in one_error_line()
    assert run(["users", "passwd", "nobody"], "violet harbour crane\n") == 1
    conn = db.connect(database)
    assert accounts.authenticate(conn, "frank", "violet harbour crane", "127.0.0.1")
    actions = [r[0] for r in conn.execute("SELECT action FROM audit_log WHERE actor = 'cli'")]
    assert {"user_add", "role", "disable", "enable", "password"} <= set(actions)
    conn.close()


def test_users_add_piped_weak_password_is_one_line(tmp_path: Path) -> None:
    """The issue's own check, through the installed command and a real pipe."""
    import subprocess
    import sys

    command = Path(sys.executable).with_name("archive-analyzer")
    done = subprocess.run(
        [
            "sh",
            "-c",
            f"printf 'password\\npassword\\n' | {command} users add x --db {tmp_path}/p.db",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: password"), done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


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
