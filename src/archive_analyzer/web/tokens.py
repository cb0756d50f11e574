"""Personal access tokens (``Authorization: Bearer``) and signed stream links for players.

Tokens: a user creates a named token for scripts; it is shown once (``aat_`` + 43 random
characters), stored as its SHA-256, may expire, can be revoked, and has the read-only scope:
GET and HEAD of the API, streams, HLS and thumbnails as its owner (role and brands), nothing
else. Its use is audited (at most once an hour per token) and shown as "last used".

Stream links: ``/stream/{id}?u=USER&exp=UNIX&sig=HMAC`` opens one content's stream without a
cookie (VLC, mpv, ffprobe, curl). The HMAC-SHA256 (a key derived from the session secret)
covers the content id, the user, the expiry and the user's ``session_version``, so a link
works only for that content, until it expires, and dies with a password change or "end all
sessions". The owner's account, role and brand limits are checked on every request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from archive_analyzer.catalog.db import new_id, parse_timestamp, timestamp, transaction
from archive_analyzer.errors import AuthError

PREFIX = "aat_"
NAME_MAX = 60
USE_AUDIT_EVERY = timedelta(hours=1)
READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class Token:
    id: str
    user_id: str
    name: str
    scope: str
    created_at: str
    expires_at: str | None
    last_used_at: str | None
    last_used_ip: str | None
    revoked_at: str | None

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or parse_timestamp(self.expires_at) > now
        )


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _token(row: sqlite3.Row) -> Token:
    return Token(
        row["id"],
        row["user_id"],
        row["name"],
        row["scope"],
        row["created_at"],
        row["expires_at"],
        row["last_used_at"],
        row["last_used_ip"],
        row["revoked_at"],
    )


def create(
    conn: sqlite3.Connection,
    user_id: str,
    name: str,
    now: datetime,
    *,
    expires_in: timedelta | None = None,
) -> tuple[Token, str]:
    """A new read-only token; returns it and the secret value (shown once, never stored)."""
    name = " ".join(name.split())[:NAME_MAX]
    if not name:
        raise AuthError("a token needs a name")
    raw = PREFIX + secrets.token_urlsafe(32)
    token_id = new_id()
    expires = timestamp(now + expires_in) if expires_in is not None else None
    with transaction(conn):
        taken = conn.execute(
            "SELECT 1 FROM api_tokens WHERE user_id = ? AND name = ? AND revoked_at IS NULL",
            (user_id, name),
        ).fetchone()
        if taken:
            raise AuthError(f"you already have a token named {name}")
        conn.execute(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, scope, created_at, "
            "expires_at) VALUES (?, ?, ?, ?, 'read', ?, ?)",
            (token_id, user_id, name, _hash(raw), timestamp(now), expires),
        )
    row = conn.execute("SELECT * FROM api_tokens WHERE id = ?", (token_id,)).fetchone()
    return _token(row), raw


def resolve(conn: sqlite3.Connection, raw: str, now: datetime) -> Token | None:
    """The live token with this value, or None (unknown, revoked or expired)."""
    if not raw.startswith(PREFIX) or len(raw) > 100:
        return None
    row = conn.execute("SELECT * FROM api_tokens WHERE token_hash = ?", (_hash(raw),)).fetchone()
    if row is None:
        return None
    found = _token(row)
    return found if found.live(now) else None


def mark_used(conn: sqlite3.Connection, found: Token, ip: str, now: datetime) -> bool:
    """Record a use; True when it is the first within ``USE_AUDIT_EVERY`` (audit it then)."""
    last = found.last_used_at
    if (
        last is not None
        and now - parse_timestamp(last) < USE_AUDIT_EVERY
        and ip == found.last_used_ip
    ):
        return False
    try:
        with transaction(conn):
            conn.execute(
                "UPDATE api_tokens SET last_used_at = ?, last_used_ip = ? WHERE id = ?",
                (timestamp(now), ip, found.id),
            )
    except sqlite3.OperationalError:  # the catalog is busy: skip the bookkeeping, not the call
        return False
    return last is None or now - parse_timestamp(last) >= USE_AUDIT_EVERY


def revoke(
    conn: sqlite3.Connection, token_id: str, now: datetime, *, user_id: str | None = None
) -> Token | None:
    """Revoke a token (only one of ``user_id`` when given); the token, or None if not live."""
    sql = "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"
    params: tuple[object, ...] = (timestamp(now), token_id)
    if user_id is not None:
        sql += " AND user_id = ?"
        params += (user_id,)
    with transaction(conn):
        if conn.execute(sql, params).rowcount == 0:
            return None
    row = conn.execute("SELECT * FROM api_tokens WHERE id = ?", (token_id,)).fetchone()
    return _token(row)


def of_user(conn: sqlite3.Connection, user_id: str) -> list[Token]:
    """The account's tokens, live ones first, newest first."""
    rows = conn.execute(
        "SELECT * FROM api_tokens WHERE user_id = ? ORDER BY revoked_at IS NOT NULL, "
        "created_at DESC LIMIT 100",
        (user_id,),
    ).fetchall()
    return [_token(r) for r in rows]


# --- signed stream links ---------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def link_signature(
    key: bytes, content_id: str, user_id: str, session_version: int, expires: int
) -> str:
    """The HMAC of one stream link (base64url, 43 characters)."""
    message = f"stream\n{content_id}\n{user_id}\n{session_version}\n{expires}".encode()
    return _b64(hmac.new(key, message, hashlib.sha256).digest())


def link_query(
    key: bytes, content_id: str, user_id: str, session_version: int, expires: int
) -> str:
    """The query string of a signed link: ``u=...&exp=...&sig=...``."""
    sig = link_signature(key, content_id, user_id, session_version, expires)
    return f"u={user_id}&exp={expires}&sig={sig}"


def link_valid(
    key: bytes,
    content_id: str,
    user_id: str,
    session_version: int,
    expires: int,
    sig: str,
    now: datetime,
) -> bool:
    """Whether ``sig`` signs this content, user and expiry, and the link has not expired."""
    if expires <= int(now.timestamp()):
        return False
    expected = link_signature(key, content_id, user_id, session_version, expires)
    return hmac.compare_digest(expected.encode(), sig.encode())
