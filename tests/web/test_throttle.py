"""Login throttling by account (any address), by device and by address (web/throttle.py)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from archive_analyzer.catalog import db
from archive_analyzer.errors import AuthError, LoginThrottled
from archive_analyzer.web import accounts, throttle
from tests.web.conftest import FakeClock

GOOD = "long enough words"


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    connection = db.connect(tmp_path / "t.db")
    accounts.add_user(connection, "carol", GOOD, role="admin")
    return connection


def _fail(conn: sqlite3.Connection, clock: FakeClock, ip: str, device: str | None = None) -> None:
    with pytest.raises(AuthError) as caught:
        accounts.authenticate(conn, "carol", "bad guess", ip, now=clock, device=device)
    assert not isinstance(caught.value, LoginThrottled)


def test_account_lock_holds_across_addresses(conn: sqlite3.Connection) -> None:
    clock = FakeClock()
    for i in range(throttle.LIMITS.account_free):
        _fail(conn, clock, f"10.0.0.{i}")
    with pytest.raises(throttle.Throttled) as caught:
        # a new address, and even the right password: refused unchecked
        accounts.authenticate(conn, "carol", GOOD, "10.9.9.9", now=clock)
    assert 0 < caught.value.retry_after <= 61
    clock.advance(seconds=61)
    assert accounts.authenticate(conn, "carol", GOOD, "10.9.9.9", now=clock)
    # the success reset the count
    _fail(conn, clock, "10.0.0.1")
    assert accounts.authenticate(conn, "carol", GOOD, "10.0.0.1", now=clock)


def test_lock_grows_and_is_capped(conn: sqlite3.Connection) -> None:
    clock = FakeClock()
    lengths = []
    for _ in range(throttle.LIMITS.account_free - 1):
        _fail(conn, clock, "10.0.0.1")
    for _ in range(8):
        _fail(conn, clock, "10.0.0.1")
        until = throttle.account_lock(conn, "carol", clock())
        assert until is not None
        lengths.append(until - clock())
        with pytest.raises(throttle.Throttled):
            accounts.authenticate(conn, "carol", "bad guess", "10.0.0.1", now=clock)
        clock.now = until + timedelta(seconds=1)
    minutes = [round(length.total_seconds() / 60) for length in lengths]
    assert minutes == [1, 2, 4, 8, 15, 15, 15, 15]
    assert throttle.lock_length(4) is None


def test_lockout_is_audited_once_per_lock(conn: sqlite3.Connection) -> None:
    clock = FakeClock()
    for _ in range(throttle.LIMITS.account_free):
        _fail(conn, clock, "10.0.0.1")
    rows = conn.execute("SELECT action, actor, ip, detail FROM audit_log ORDER BY id").fetchall()
    actions = [r[0] for r in rows]
    assert actions.count("login_failed") == 5 and actions.count("lockout") == 1
    assert rows[-1][1:] == ("carol", "10.0.0.1", '{"seconds": 60}')


def test_known_device_is_not_locked_out_by_an_attacker(conn: sqlite3.Connection) -> None:
    clock = FakeClock()
    for i in range(20):  # the attacker keeps the account locked
        with pytest.raises(AuthError):  # wrong password or already locked
            accounts.authenticate(conn, "carol", "bad guess", f"198.51.100.{i}", now=clock)
        clock.advance(seconds=30)
    with pytest.raises(LoginThrottled):
        accounts.authenticate(conn, "carol", GOOD, "10.1.1.1", now=clock)
    # the owner's browser (valid device cookie) still gets in, mistyping included
    _fail(conn, clock, "10.1.1.1", device="owner-laptop")
    assert accounts.authenticate(conn, "carol", GOOD, "10.1.1.1", now=clock, device="owner-laptop")
    # a device that fails too often loses its exemption: it counts as a stranger again
    clock.advance(seconds=1)
    for _ in range(throttle.LIMITS.device_limit + throttle.LIMITS.account_free):
        _fail(conn, clock, "10.1.1.1", device="stolen-cookie")
    with pytest.raises(LoginThrottled):
        accounts.authenticate(conn, "carol", GOOD, "10.1.1.1", now=clock, device="stolen-cookie")
    assert accounts.authenticate(conn, "carol", GOOD, "10.1.1.1", now=clock, device="owner-laptop")


def test_throttling_per_address(conn: sqlite3.Connection) -> None:
    clock = FakeClock()
    for i in range(throttle.LIMITS.address_limit):
        with pytest.raises(AuthError):
            accounts.authenticate(conn, f"user{i}", "bad guess", "10.9.9.9", now=clock)
    with pytest.raises(LoginThrottled):
        accounts.authenticate(conn, "carol", GOOD, "10.9.9.9", now=clock)
    assert accounts.authenticate(conn, "carol", GOOD, "10.9.9.8", now=clock)
    clock.advance(minutes=16)
    assert accounts.authenticate(conn, "carol", GOOD, "10.9.9.9", now=clock)


def test_unknown_names_are_throttled_too(conn: sqlite3.Connection) -> None:
    clock = FakeClock()
    for _ in range(throttle.LIMITS.account_free):
        with pytest.raises(AuthError):
            accounts.authenticate(conn, "ghost", "bad guess", "10.0.0.1", now=clock)
    with pytest.raises(LoginThrottled):  # same answer as for a real account: no enumeration
        accounts.authenticate(conn, "ghost", "bad guess", "10.0.0.2", now=clock)


def test_password_change_and_unlock_clear_the_lock(conn: sqlite3.Connection) -> None:
    clock = FakeClock()
    for _ in range(throttle.LIMITS.account_free):
        _fail(conn, clock, "10.0.0.1")
    assert throttle.account_lock(conn, "carol", clock()) is not None
    accounts.set_password(conn, "carol", "another long phrase here", now=clock)
    assert throttle.account_lock(conn, "carol", clock()) is None
