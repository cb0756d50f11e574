"""Accounts: argon2id password hashes, roles, per-brand visibility, logins, the first admin.

Passwords are hashed with argon2-cffi's ``PasswordHasher`` (argon2id, its default parameters)
and never stored or logged in clear; the rules are ``web/passwords.py``. A password change
bumps ``session_version`` and ends the account's other sessions. Logins are throttled by
account and by address (``web/throttle.py``) and recorded in the audit log.

Roles, each including the one before: ``viewer`` (watch, search, own progress), ``editor``
(also edits catalog fields, marks clips, exports), ``admin`` (also users, re-probe, admin
pages). A non-admin account can be limited to some brands (``user_brands``).
"""

from __future__ import annotations

import functools
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from archive_analyzer.catalog import audit
from archive_analyzer.catalog.db import Clock, new_id, timestamp, transaction, utc_now
from archive_analyzer.errors import AuthError
from archive_analyzer.web import passwords, sessions, throttle


class Role(StrEnum):
    """Account roles, lowest first; each may do everything the ones before it may."""

    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        """Whether this role may do what ``needed`` may."""
        return self.rank >= needed.rank


ROLES: tuple[str, ...] = tuple(r.value for r in Role)
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
    """An account as the app sees it (no hash). ``brands`` None: every brand."""

    id: str
    username: str
    role: Role
    session_version: int
    must_change_password: bool
    last_login_at: str | None
    created_at: str
    disabled_at: str | None = None
    brands: frozenset[str] | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_editor(self) -> bool:
        return self.role.allows(Role.EDITOR)

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    def may(self, needed: Role) -> bool:
        """Whether the account's role allows what ``needed`` allows (and it is enabled)."""
        return not self.disabled and self.role.allows(needed)


def _user(conn: sqlite3.Connection, row: sqlite3.Row) -> User:
    brands: frozenset[str] | None = None
    if row["role"] != Role.ADMIN:
        limited = conn.execute(
            "SELECT catalog_id FROM user_brands WHERE user_id = ?", (row["id"],)
        ).fetchall()
        brands = frozenset(r[0] for r in limited) or None
    return User(
        id=row["id"],
        username=row["username"],
        role=Role(row["role"]),
        session_version=int(row["session_version"]),
        must_change_password=bool(row["must_change_password"]),
        last_login_at=row["last_login_at"],
        created_at=row["created_at"],
        disabled_at=row["disabled_at"],
        brands=brands,
    )


def role_of(value: str) -> Role:
    """The role named ``value``; ``AuthError`` naming the choices otherwise."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise AuthError(f"unknown role: {value} (choose {', '.join(ROLES)})") from None


def validate_username(username: str) -> str:
    """The username if acceptable (1-64 letters, digits, ``._@-``); else ``AuthError``."""
    if not _USERNAME.match(username):
        raise AuthError("username must be 1-64 letters, digits or . _ @ -")
    return username


def validate_password(password: str, username: str = "") -> str:
    """The password if the rules accept it (``passwords.check``); else ``WeakPassword``."""
    return passwords.check(password, username)


def get_user(conn: sqlite3.Connection, user_id: str) -> User | None:
    """The user with this id, or None."""
    row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    return _user(conn, row) if row else None


def find_user(conn: sqlite3.Connection, username: str) -> User | None:
    """The user with this name (case-insensitive), or None."""
    row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    return _user(conn, row) if row else None


def require_user(conn: sqlite3.Connection, username: str) -> User:
    """``find_user`` or ``AuthError("no such user")``."""
    user = find_user(conn, username)
    if user is None:
        raise AuthError(f"no such user: {username}")
    return user


def list_users(conn: sqlite3.Connection) -> list[User]:
    """Every account, by username."""
    rows = conn.execute("SELECT * FROM users ORDER BY username").fetchall()
    return [_user(conn, r) for r in rows]


def add_user(
    conn: sqlite3.Connection,
    username: str,
    password: str,
    *,
    role: Role | str = Role.VIEWER,
    must_change_password: bool = False,
    now: Clock = utc_now,
    check_strength: bool = True,
) -> User:
    """Create an account; ``AuthError`` when the name is taken or a value is invalid.

    ``check_strength=False`` only for generated one-time passwords (random, not chosen).
    """
    validate_username(username)
    chosen = role_of(role)
    if check_strength:
        validate_password(password, username)
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
                chosen.value,
                int(must_change_password),
                stamp,
                stamp,
            ),
        )
    user = get_user(conn, user_id)
    assert user is not None
    return user


def set_password(
    conn: sqlite3.Connection,
    username: str,
    password: str,
    *,
    now: Clock = utc_now,
    keep_session: str | None = None,
) -> User:
    """Replace a user's password and end their sessions (all but ``keep_session``, a session
    id) and stream links; ``AuthError`` if unknown, ``WeakPassword`` if refused."""
    user = require_user(conn, username)
    validate_password(password, user.username)
    moment = now()
    stamp = timestamp(moment)
    with transaction(conn):
        conn.execute(
            "UPDATE users SET password_hash = ?, session_version = session_version + 1, "
            "must_change_password = 0, updated_at = ? WHERE id = ?",
            (hasher().hash(password), stamp, user.id),
        )
        conn.execute(
            "UPDATE sessions SET ended_at = ?, end_reason = 'password' WHERE user_id = ? "
            "AND ended_at IS NULL AND id IS NOT ?",
            (stamp, user.id, keep_session),
        )
        throttle.clear(conn, user.username)
    updated = get_user(conn, user.id)
    assert updated is not None
    return updated


def set_role(
    conn: sqlite3.Connection, username: str, role: Role | str, *, now: Clock = utc_now
) -> User:
    """Give an account another role (its sessions stay; the role is read on every request)."""
    user = require_user(conn, username)
    chosen = role_of(role)
    with transaction(conn):
        if user.is_admin and chosen is not Role.ADMIN:
            _keep_an_admin(conn, user.id)
        conn.execute(
            "UPDATE users SET role = ?, updated_at = ? WHERE id = ?",
            (chosen.value, timestamp(now()), user.id),
        )
    updated = get_user(conn, user.id)
    assert updated is not None
    return updated


def set_disabled(
    conn: sqlite3.Connection, username: str, disabled: bool, *, now: Clock = utc_now
) -> User:
    """Disable an account (no login; its sessions, tokens and links stop at once) or enable it."""
    user = require_user(conn, username)
    stamp = timestamp(now())
    with transaction(conn):
        if disabled:
            if user.is_admin:
                _keep_an_admin(conn, user.id)
            conn.execute(
                "UPDATE users SET disabled_at = coalesce(disabled_at, ?), updated_at = ? "
                "WHERE id = ?",
                (stamp, stamp, user.id),
            )
            conn.execute(
                "UPDATE sessions SET ended_at = ?, end_reason = 'disabled' WHERE user_id = ? "
                "AND ended_at IS NULL",
                (stamp, user.id),
            )
        else:
            conn.execute(
                "UPDATE users SET disabled_at = NULL, updated_at = ? WHERE id = ?",
                (stamp, user.id),
            )
    updated = get_user(conn, user.id)
    assert updated is not None
    return updated


def set_brands(
    conn: sqlite3.Connection, username: str, brands: list[str] | None, *, now: Clock = utc_now
) -> User:
    """Limit a non-admin account to these brands (catalog ids), or None/[] for every brand.

    ``AuthError`` for an unknown brand or an admin (admins see everything).
    """
    user = require_user(conn, username)
    wanted = sorted(set(brands or ()))
    if wanted and user.is_admin:
        raise AuthError("admins see every brand; give the account another role first")
    known = {r[0] for r in conn.execute("SELECT id FROM catalogs")}
    unknown = [b for b in wanted if b not in known]
    if unknown:
        raise AuthError(f"unknown brand: {', '.join(unknown)}")
    with transaction(conn):
        conn.execute("DELETE FROM user_brands WHERE user_id = ?", (user.id,))
        conn.executemany(
            "INSERT INTO user_brands (user_id, catalog_id) VALUES (?, ?)",
            [(user.id, b) for b in wanted],
        )
        conn.execute("UPDATE users SET updated_at = ? WHERE id = ?", (timestamp(now()), user.id))
    updated = get_user(conn, user.id)
    assert updated is not None
    return updated


def _keep_an_admin(conn: sqlite3.Connection, leaving: str) -> None:
    others = conn.execute(
        "SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL AND id != ?",
        (leaving,),
    ).fetchone()[0]
    if not others:
        raise AuthError("this is the last enabled admin; make another admin first")


def authenticate(
    conn: sqlite3.Connection,
    username: str,
    password: str,
    ip: str,
    *,
    now: Clock = utc_now,
    device: str | None = None,
    limits: throttle.Limits = throttle.LIMITS,
    purpose: str = audit.LOGIN,
) -> User:
    """The user whose name and password these are; records the attempt and audits it.

    ``device`` is the id from a valid device cookie of this account (see ``web/throttle.py``).
    Raises ``throttle.Throttled`` (a ``LoginThrottled``, before checking the password) when
    the account or the address has failed too often, and ``AuthError`` for a wrong name or
    password (the same message for both) or a disabled account.
    """
    moment: datetime = now()
    username = username.strip()[:64]
    counted_device = throttle.check(conn, username, ip, device, moment, limits)
    row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    ok = _verify(row["password_hash"] if row else _dummy_hash(), password) and row is not None
    stamp = timestamp(moment)
    disabled = ok and row["disabled_at"] is not None
    detail: dict[str, str] = {} if purpose == audit.LOGIN else {"purpose": purpose}
    if disabled:
        detail["reason"] = "disabled"
    with transaction(conn):
        locked = throttle.record(conn, username, ip, counted_device, ok, moment, limits)
        if ok and not disabled:
            if purpose == audit.LOGIN:
                conn.execute("UPDATE users SET last_login_at = ? WHERE id = ?", (stamp, row["id"]))
                audit.record(
                    conn, audit.LOGIN, at=moment, actor=username, actor_id=row["id"], ip=ip
                )
            if hasher().check_needs_rehash(row["password_hash"]):
                conn.execute(
                    "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
                    (hasher().hash(password), stamp, row["id"]),
                )
        else:
            audit.record(conn, audit.LOGIN_FAILED, at=moment, actor=username, ip=ip, detail=detail)
        if locked is not None:
            audit.record(
                conn,
                audit.LOCKOUT,
                at=moment,
                actor=username,
                ip=ip,
                target=username,
                detail={"seconds": int(locked.total_seconds())},
            )
    if not ok:
        raise AuthError("wrong username or password")
    if disabled:
        raise AuthError("this account is disabled")
    return _user(conn, row)


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
    add_user(
        conn,
        FIRST_ADMIN,
        password,
        role=Role.ADMIN,
        must_change_password=True,
        now=now,
        check_strength=False,
    )
    return password


def housekeeping(
    conn: sqlite3.Connection,
    now: datetime,
    *,
    audit_keep: timedelta,
    lifetimes: sessions.Lifetimes,
) -> None:
    """Drop audit events past their retention and long-dead sessions (at start and on login)."""
    audit.prune(conn, now=now, keep=audit_keep)
    sessions.prune(conn, now, lifetimes)
