"""Viewer accounts: argon2id password hashes, roles, login throttling, the first admin.

Passwords are hashed with argon2-cffi's ``PasswordHasher`` (argon2id, its default parameters)
and never stored or logged in clear. A password change bumps ``session_version``, which ends
every session signed before it. Failed logins are recorded in ``login_attempts``; more than
``USER_IP_LIMIT`` failures for one user from one address (or ``IP_LIMIT`` from one address for
any users) within ``WINDOW`` refuse further attempts until the window has passed.
"""

from __future__ import annotations

import functools
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from archive_analyzer.catalog.db import Clock, new_id, timestamp, transaction, utc_now
from archive_analyzer.errors import AuthError, LoginThrottled

Role = Literal["viewer", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "admin")
WINDOW = timedelta(minutes=15)
USER_IP_LIMIT = 5
IP_LIMIT = 50
MIN_PASSWORD = 8
FIRST_ADMIN = "admin"

_USERNAME = re.compile(r"^[\w.@-]{1,64}$")
_hashers: list[PasswordHasher] = []


def hasher() -> PasswordHasher:
    """The password hasher: argon2-cffi's defaults (argon2id, RFC 9106 low-memory profile)."""
    if not _hashers:
        _hashers.append(PasswordHasher())
    return _hashers[0]


def use_hasher(replacement: PasswordHasher) -> None:
    """Swap the hasher (tests use cheap parameters; hashes record their own parameters)."""
    _hashers[:] = [replacement]
    _dummy_hash.cache_clear()


@functools.cache
def _dummy_hash() -> str:
    # Verified against when the user does not exist, so both cases take the same time.
    return hasher().hash("not a password: timing equaliser")


@dataclass(frozen=True, slots=True)
class User:
    """An account as the app sees it (no hash)."""

    id: str
    username: str
    role: Role
    session_version: int
    must_change_password: bool
    last_login_at: str | None
    created_at: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_editor(self) -> bool:
        """May edit the catalog's presentation (posters); issue 14 adds the editor role, until
        then admins do it."""
        return self.role in ("editor", "admin")


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        username=row["username"],
        role=row["role"],
        session_version=int(row["session_version"]),
        must_change_password=bool(row["must_change_password"]),
        last_login_at=row["last_login_at"],
        created_at=row["created_at"],
    )


def validate_username(username: str) -> str:
    """The username if acceptable (1-64 letters, digits, ``._@-``); else ``AuthError``."""
    if not _USERNAME.match(username):
        raise AuthError("username must be 1-64 letters, digits or . _ @ -")
    return username


def validate_password(password: str) -> str:
    """The password if acceptable (at least ``MIN_PASSWORD`` characters, as the web form's
    ``minlength``, and not only whitespace); else ``AuthError``."""
    if not password.strip():
        # eight spaces pass a length rule but are no secret (and read as "no password")
        raise AuthError("password must not be empty or only whitespace")
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"password must have at least {MIN_PASSWORD} characters")
    return password


def get_user(conn: sqlite3.Connection, user_id: str) -> User | None:
    """The user with this id, or None."""
    row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    return _user(row) if row else None


def find_user(conn: sqlite3.Connection, username: str) -> User | None:
    """The user with this name (case-insensitive), or None."""
    row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    return _user(row) if row else None


def list_users(conn: sqlite3.Connection) -> list[User]:
    """Every account, by username."""
    return [_user(r) for r in conn.execute("SELECT * FROM users ORDER BY username")]


def add_user(
    conn: sqlite3.Connection,
    username: str,
    password: str,
    *,
    role: Role = "viewer",
    must_change_password: bool = False,
    now: Clock = utc_now,
) -> User:
    """Create an account; ``AuthError`` when the name is taken or a value is invalid."""
    validate_username(username)
    validate_password(password)
    if role not in ROLES:
        raise AuthError(f"unknown role: {role}")
    stamp = timestamp(now())
    with transaction(conn):
        if conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
            raise AuthError(f"user already exists: {username}")
        user_id = new_id()
        conn.execute(
            "INSERT INTO users (id, username, password_hash, role, must_change_password, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                user_id,
                username,
                hasher().hash(password),
                role,
                int(must_change_password),
                stamp,
                stamp,
            ),
        )
    user = get_user(conn, user_id)
    assert user is not None
    return user


def set_password(
    conn: sqlite3.Connection, username: str, password: str, *, now: Clock = utc_now
) -> User:
    """Replace a user's password and end their other sessions; ``AuthError`` if unknown."""
    validate_password(password)
    stamp = timestamp(now())
    with transaction(conn):
        cursor = conn.execute(
            "UPDATE users SET password_hash = ?, session_version = session_version + 1, "
            "must_change_password = 0, updated_at = ? WHERE username = ?",
            (hasher().hash(password), stamp, username),
        )
        if cursor.rowcount == 0:
            raise AuthError(f"no such user: {username}")
    user = find_user(conn, username)
    assert user is not None
    return user


def authenticate(
    conn: sqlite3.Connection, username: str, password: str, ip: str, *, now: Clock = utc_now
) -> User:
    """The user whose name and password these are; records the attempt.

    Raises ``LoginThrottled`` (before checking the password) when this user+address or this
    address has failed too often within ``WINDOW``, and ``AuthError`` for a wrong name or
    password (the same message for both).
    """
    moment = now()
    since = timestamp(moment - WINDOW)
    username = username.strip()[:64]
    user_ip = conn.execute(
        "SELECT count(*) FROM login_attempts WHERE username = ? AND ip = ? AND at > ? "
        "AND success = 0 AND at > coalesce((SELECT max(at) FROM login_attempts "
        "WHERE username = ? AND ip = ? AND success = 1), '')",
        (username, ip, since, username, ip),
    ).fetchone()[0]
    per_ip = conn.execute(
        "SELECT count(*) FROM login_attempts WHERE ip = ? AND at > ? AND success = 0",
        (ip, since),
    ).fetchone()[0]
    if user_ip >= USER_IP_LIMIT or per_ip >= IP_LIMIT:
        raise LoginThrottled("too many failed logins; try again later")
    row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    ok = _verify(row["password_hash"] if row else _dummy_hash(), password) and row is not None
    stamp = timestamp(moment)
    with transaction(conn):
        conn.execute(
            "INSERT INTO login_attempts (username, ip, at, success) VALUES (?, ?, ?, ?)",
            (username, ip, stamp, int(ok)),
        )
        conn.execute("DELETE FROM login_attempts WHERE at < ?", (timestamp(moment - 8 * WINDOW),))
        if ok:
            conn.execute("UPDATE users SET last_login_at = ? WHERE id = ?", (stamp, row["id"]))
            if hasher().check_needs_rehash(row["password_hash"]):
                conn.execute(
                    "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
                    (hasher().hash(password), stamp, row["id"]),
                )
    if not ok:
        raise AuthError("wrong username or password")
    return _user(row)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def ensure_first_admin(conn: sqlite3.Connection, *, now: Clock = utc_now) -> str | None:
    """When there are no users at all, create ``admin`` with a random one-time password.

    Returns that password (the caller prints it once; it is stored only as a hash and must be
    changed at first login), or None when accounts exist already.
    """
    if conn.execute("SELECT 1 FROM users LIMIT 1").fetchone():
        return None
    password = secrets.token_urlsafe(12)
    add_user(conn, FIRST_ADMIN, password, role="admin", must_change_password=True, now=now)
    return password
