"""Server-side login sessions (table ``sessions``): listed, ended one by one or all at once.

The session cookie (Starlette's signed ``SessionMiddleware`` cookie) carries a random secret;
the table keeps only its SHA-256, with the account, when it was created and last seen, the
client address and browser. A session ends on logout, when its owner or an admin ends it,
on a password change, when the account is disabled, after ``idle`` without a request and
after ``lifetime`` in any case. ``last_seen_at`` is written at most every ``TOUCH_EVERY`` (a
player's range requests must not each write the catalog).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from archive_analyzer.catalog.db import new_id, parse_timestamp, timestamp, transaction

log = logging.getLogger(__name__)

TOUCH_EVERY = timedelta(seconds=60)
KEEP_ENDED = timedelta(days=30)  # ended sessions stay listed (and audited) this long
USER_AGENT_MAX = 300


@dataclass(frozen=True, slots=True)
class Lifetimes:
    idle: timedelta
    lifetime: timedelta


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    user_id: str
    created_at: str
    last_seen_at: str
    ip: str | None
    user_agent: str | None
    ended_at: str | None
    end_reason: str | None

    @property
    def active(self) -> bool:
        return self.ended_at is None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _session(row: sqlite3.Row) -> Session:
    return Session(
        row["id"],
        row["user_id"],
        row["created_at"],
        row["last_seen_at"],
        row["ip"],
        row["user_agent"],
        row["ended_at"],
        row["end_reason"],
    )


def create(
    conn: sqlite3.Connection, user_id: str, ip: str, user_agent: str, now: datetime
) -> tuple[Session, str]:
    """A new session for ``user_id``; returns it and the secret for the cookie."""
    secret = secrets.token_urlsafe(32)
    session_id = new_id()
    stamp = timestamp(now)
    with transaction(conn):
        conn.execute(
            "INSERT INTO sessions (id, secret_hash, user_id, created_at, last_seen_at, ip, "
            "user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (session_id, _hash(secret), user_id, stamp, stamp, ip, user_agent[:USER_AGENT_MAX]),
        )
    return Session(session_id, user_id, stamp, stamp, ip, user_agent, None, None), secret


def resolve(
    conn: sqlite3.Connection, secret: str, now: datetime, limits: Lifetimes
) -> Session | None:
    """The live session whose cookie secret this is, or None (unknown, ended, timed out: a
    timed-out one is ended now)."""
    row = conn.execute("SELECT * FROM sessions WHERE secret_hash = ?", (_hash(secret),)).fetchone()
    if row is None or row["ended_at"] is not None:
        return None
    found = _session(row)
    reason = None
    if now - parse_timestamp(found.created_at) > limits.lifetime:
        reason = "expired"
    elif now - parse_timestamp(found.last_seen_at) > limits.idle:
        reason = "idle"
    if reason is not None:
        _quietly(
            conn,
            "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL",
            (timestamp(now), reason, found.id),
        )
        return None
    return found


def touch(conn: sqlite3.Connection, found: Session, ip: str, now: datetime) -> None:
    """Record activity (at most every ``TOUCH_EVERY``; skipped when the catalog is busy)."""
    if now - parse_timestamp(found.last_seen_at) < TOUCH_EVERY and ip == found.ip:
        return
    _quietly(
        conn,
        "UPDATE sessions SET last_seen_at = ?, ip = ? WHERE id = ?",
        (timestamp(now), ip, found.id),
    )


def _quietly(conn: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> None:
    # A busy catalog (the writer mid-batch) must not fail a viewer's request over bookkeeping.
    try:
        with transaction(conn):
            conn.execute(sql, params)
    except sqlite3.OperationalError as exc:
        log.debug("session bookkeeping skipped: %s", exc)


def end(
    conn: sqlite3.Connection,
    session_id: str,
    reason: str,
    now: datetime,
    *,
    user_id: str | None = None,
) -> bool:
    """End one session (only one of ``user_id`` when given); whether one was live."""
    sql = "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL"
    params: tuple[object, ...] = (timestamp(now), reason, session_id)
    if user_id is not None:
        sql += " AND user_id = ?"
        params += (user_id,)
    with transaction(conn):
        return conn.execute(sql, params).rowcount > 0


def owner_name(conn: sqlite3.Connection, session_id: str) -> str | None:
    """The username a session (live or ended) belongs to, or None when there is no such one."""
    row = conn.execute(
        "SELECT u.username FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?",
        (session_id,),
    ).fetchone()
    return None if row is None else str(row[0])


def end_all(
    conn: sqlite3.Connection,
    user_id: str,
    reason: str,
    now: datetime,
    *,
    keep: str | None = None,
) -> int:
    """End every live session of ``user_id`` but ``keep``; bumps ``session_version`` so the
    account's stream links die too. Returns how many sessions ended."""
    stamp = timestamp(now)
    with transaction(conn):
        ended = conn.execute(
            "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE user_id = ? "
            "AND ended_at IS NULL AND id IS NOT ?",
            (stamp, reason, user_id, keep),
        ).rowcount
        conn.execute(
            "UPDATE users SET session_version = session_version + 1 WHERE id = ?", (user_id,)
        )
    return ended


def of_user(
    conn: sqlite3.Connection, user_id: str, now: datetime, limits: Lifetimes
) -> list[Session]:
    """The account's sessions: live ones first (newest activity first), then recently ended."""
    rows = conn.execute(
        "SELECT * FROM sessions WHERE user_id = ? AND (ended_at IS NULL OR ended_at > ?) "
        "ORDER BY ended_at IS NOT NULL, last_seen_at DESC LIMIT 50",
        (user_id, timestamp(now - KEEP_ENDED)),
    ).fetchall()
    found = [_session(r) for r in rows]
    return [s if not _timed_out(s, now, limits) else _as_ended(s) for s in found]


def _timed_out(found: Session, now: datetime, limits: Lifetimes) -> bool:
    return found.active and (
        now - parse_timestamp(found.created_at) > limits.lifetime
        or now - parse_timestamp(found.last_seen_at) > limits.idle
    )


def _as_ended(found: Session) -> Session:
    return Session(
        found.id,
        found.user_id,
        found.created_at,
        found.last_seen_at,
        found.ip,
        found.user_agent,
        found.last_seen_at,
        "idle",
    )


def live(conn: sqlite3.Connection, now: datetime, limits: Lifetimes) -> list[tuple[Session, str]]:
    """Every live session with its username, newest activity first (the admin's list)."""
    rows = conn.execute(
        "SELECT s.*, u.username FROM sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.ended_at IS NULL ORDER BY s.last_seen_at DESC LIMIT 500"
    ).fetchall()
    found = [(_session(r), str(r["username"])) for r in rows]
    return [(s, name) for s, name in found if not _timed_out(s, now, limits)]


def live_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Live (not ended) sessions per user id."""
    return {
        r[0]: int(r[1])
        for r in conn.execute(
            "SELECT user_id, count(*) FROM sessions WHERE ended_at IS NULL GROUP BY user_id"
        )
    }


def prune(conn: sqlite3.Connection, now: datetime, limits: Lifetimes) -> int:
    """Delete sessions ended (or dead by the lifetime) longer than ``KEEP_ENDED`` ago."""
    cutoff = timestamp(now - KEEP_ENDED)
    with transaction(conn):
        return conn.execute(
            "DELETE FROM sessions WHERE (ended_at IS NOT NULL AND ended_at < ?) OR created_at < ?",
            (cutoff, timestamp(now - limits.lifetime - KEEP_ENDED)),
        ).rowcount
