"""Login throttling by account and by client address, over the ``login_attempts`` table.

* By account, across every address: after ``account_free`` failures since the account's last
  success (within ``lookback``) the account is locked; each further failure locks it again,
  for twice as long as the one before (``lock_base`` doubling up to ``lock_max``). Changing
  the client address does not help an attacker.
* That lock does not hold against a browser the owner logged in from before: a successful
  login leaves a signed *device cookie* (``security.device_token``), and failures made with a
  valid one are counted per device instead (``device_limit`` within ``window``). An attacker
  hammering the admin's name locks out strangers, not the admin's own browser (the approach
  OWASP calls device cookies); from a new browser the lock lasts at most ``lock_max``.
* By client address (``trusted_proxies`` decides which address that is): ``address_limit``
  failures within ``window`` for any names refuse that address.

Throttled attempts are refused before the password is checked and are not recorded.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from archive_analyzer.catalog.db import parse_timestamp, timestamp
from archive_analyzer.errors import LoginThrottled


@dataclass(frozen=True, slots=True)
class Limits:
    window: timedelta = timedelta(minutes=15)
    address_limit: int = 50
    account_free: int = 5
    lock_base: timedelta = timedelta(minutes=1)
    lock_max: timedelta = timedelta(minutes=15)
    lookback: timedelta = timedelta(hours=24)
    device_limit: int = 5
    keep: timedelta = timedelta(days=2)  # attempts older than this are deleted


LIMITS = Limits()


class Throttled(LoginThrottled):
    """Refused for now; ``retry_after`` seconds until the next try may be checked."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def lock_length(failures: int, limits: Limits = LIMITS) -> timedelta | None:
    """How long the failure number ``failures`` locks the account (None: not at all)."""
    if failures < limits.account_free:
        return None
    doublings = min(failures - limits.account_free, 16)
    length: timedelta = min(limits.lock_base * (2**doublings), limits.lock_max)
    return length


def _last_success(conn: sqlite3.Connection, username: str) -> str:
    row = conn.execute(
        "SELECT max(at) FROM login_attempts WHERE username = ? AND success = 1", (username,)
    ).fetchone()
    return str(row[0] or "")


def account_lock(
    conn: sqlite3.Connection, username: str, now: datetime, limits: Limits = LIMITS
) -> datetime | None:
    """When the account's current lock ends (None: not locked). Counts the failures made
    without a valid device cookie since the last success, within ``lookback``."""
    since = max(_last_success(conn, username), timestamp(now - limits.lookback))
    row = conn.execute(
        "SELECT count(*), max(at) FROM login_attempts WHERE username = ? AND success = 0 "
        "AND device IS NULL AND at > ?",
        (username, since),
    ).fetchone()
    failures, last = int(row[0]), row[1]
    length = lock_length(failures, limits)
    if length is None or last is None:
        return None
    until = parse_timestamp(last) + length
    return until if until > now else None


def device_blocked(
    conn: sqlite3.Connection, username: str, device: str, now: datetime, limits: Limits = LIMITS
) -> bool:
    """Whether this known device has failed too often for the account lately."""
    since = max(_last_success(conn, username), timestamp(now - limits.window))
    row = conn.execute(
        "SELECT count(*) FROM login_attempts WHERE username = ? AND device = ? AND success = 0 "
        "AND at > ?",
        (username, device, since),
    ).fetchone()
    return int(row[0]) >= limits.device_limit


def check(
    conn: sqlite3.Connection,
    username: str,
    ip: str,
    device: str | None,
    now: datetime,
    limits: Limits = LIMITS,
) -> str | None:
    """Raise ``Throttled`` when this attempt must be refused unchecked.

    Returns the device id to record the attempt under: ``device`` when it exempts the attempt
    from the account lock, else None (the device has failed too often: it counts as unknown).
    """
    per_address = conn.execute(
        "SELECT count(*), min(at) FROM login_attempts WHERE ip = ? AND at > ? AND success = 0",
        (ip, timestamp(now - limits.window)),
    ).fetchone()
    if int(per_address[0]) >= limits.address_limit:
        oldest = parse_timestamp(per_address[1])
        wait = max(1, int((oldest + limits.window - now).total_seconds()) + 1)
        raise Throttled("too many failed logins from this address; try again later", wait)
    if device is not None and not device_blocked(conn, username, device, now, limits):
        return device
    until = account_lock(conn, username, now, limits)
    if until is not None:
        wait = max(1, int((until - now).total_seconds()) + 1)
        raise Throttled("too many failed logins for this account; try again later", wait)
    return None


def record(
    conn: sqlite3.Connection,
    username: str,
    ip: str,
    device: str | None,
    success: bool,
    now: datetime,
    limits: Limits = LIMITS,
) -> timedelta | None:
    """Store one checked attempt (in the caller's transaction). Returns the length of the lock
    this failure starts, if it starts one (for the audit log)."""
    conn.execute(
        "INSERT INTO login_attempts (username, ip, at, success, device) VALUES (?, ?, ?, ?, ?)",
        (username, ip, timestamp(now), int(success), device),
    )
    conn.execute("DELETE FROM login_attempts WHERE at < ?", (timestamp(now - limits.keep),))
    if success or device is not None:
        return None
    until = account_lock(conn, username, now, limits)
    return until - now if until is not None else None


def clear(conn: sqlite3.Connection, username: str) -> None:
    """Forget an account's failures (an admin unlocking it)."""
    conn.execute("DELETE FROM login_attempts WHERE username = ? AND success = 0", (username,))
