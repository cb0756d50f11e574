"""The audit log: who did what, when, from where (table ``audit_log``, migration 0020).

Any feature that changes something a person is accountable for records one event with
:func:`record`: logins and lockouts, role changes, token use, re-probes, exports. Web routes
call it through ``web.deps.audit(request, conn, action, ...)``, which fills in the actor, the
client address and the clock; the CLI and jobs call it directly. Details are a small JSON
object and never hold a secret. :func:`prune` drops events older than the retention.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from archive_analyzer.catalog.db import timestamp, transaction

# The actions the app records (others may add theirs: the column is free text).
LOGIN = "login"
LOGIN_FAILED = "login_failed"
LOCKOUT = "lockout"
LOGOUT = "logout"
PASSWORD = "password"
USER_ADD = "user_add"
ROLE = "role"
DISABLE = "disable"
ENABLE = "enable"
BRANDS = "brands"
SESSION_END = "session_end"
TOKEN_CREATE = "token_create"
TOKEN_REVOKE = "token_revoke"
TOKEN_USE = "token_use"
STREAM_LINK = "stream_link"
REPROBE = "reprobe"
EXPORT = "export"
UNLOCK = "unlock"


@dataclass(frozen=True, slots=True)
class Event:
    """One audit entry as stored."""

    id: int
    at: str
    action: str
    actor: str | None
    ip: str | None
    target: str | None
    detail: dict[str, Any]


def record(
    conn: sqlite3.Connection,
    action: str,
    *,
    at: datetime,
    actor: str | None = None,
    actor_id: str | None = None,
    ip: str | None = None,
    target: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Append one event (in the caller's transaction when one is open, else its own)."""
    values = (
        timestamp(at),
        action,
        actor,
        actor_id,
        ip,
        target,
        json.dumps(dict(detail), ensure_ascii=False, default=str) if detail else None,
    )
    sql = (
        "INSERT INTO audit_log (at, action, actor, actor_id, ip, target, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    if conn.in_transaction:
        conn.execute(sql, values)
        return
    with transaction(conn):
        conn.execute(sql, values)


def prune(conn: sqlite3.Connection, *, now: datetime, keep: timedelta) -> int:
    """Delete events older than ``keep``; returns how many went."""
    with transaction(conn):
        cursor = conn.execute("DELETE FROM audit_log WHERE at < ?", (timestamp(now - keep),))
    return cursor.rowcount


def recent(
    conn: sqlite3.Connection,
    *,
    action: str | None = None,
    actor: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Event]:
    """Events newest first, optionally of one action and/or one actor."""
    where: list[str] = []
    params: list[Any] = []
    if action:
        where.append("action = ?")
        params.append(action)
    if actor:
        where.append("actor = ?")
        params.append(actor)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = conn.execute(
        f"SELECT id, at, action, actor, ip, target, detail FROM audit_log {clause} "
        "ORDER BY at DESC, id DESC LIMIT ? OFFSET ?",
        (*params, limit, offset),
    ).fetchall()
    return [
        Event(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]) if r[6] else {}) for r in rows
    ]


def actions(conn: sqlite3.Connection) -> list[str]:
    """The actions present in the log (for the filter)."""
    return [r[0] for r in conn.execute("SELECT DISTINCT action FROM audit_log ORDER BY action")]
