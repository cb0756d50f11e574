"""CLI commands: ``serve`` (the viewer web app) and ``users`` (accounts)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer

from archive_analyzer.cli.app import (
    ConfigOption,
    DbOption,
    JsonOption,
    app,
    emit_json,
    open_catalog,
    settings,
)

users_app = typer.Typer(help="Manage accounts: roles, brands, passwords.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@app.command()
def serve(
    db: DbOption = None,
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
) -> None:
    """Serve the viewer web app (browse, search, stream; login required)."""
    from archive_analyzer.catalog import db as catalog_db
    from archive_analyzer.web import accounts, server

    cfg = settings(db, config, host=host, port=port)
    check_can_listen(cfg.host, cfg.port)
    conn = catalog_db.connect(cfg.db)
    try:
        announce_first_admin(accounts.ensure_first_admin(conn))
    finally:
        conn.close()
    server.serve(cfg)


def check_can_listen(host: str, port: int) -> None:
    """Raise ``ConfigError`` when ``host:port`` cannot be bound (in use, not our address).

    Checked before anything else so a busy port is one clear line and exit 1, not uvicorn's
    log lines and exit 3 after the one-time admin password went by.
    """
    import socket

    from archive_analyzer.errors import ConfigError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            # as uvicorn does: a port in TIME_WAIT from a previous run is not "in use"
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(f"cannot listen on {host}:{port}: {reason}") from None


def announce_first_admin(password: str | None) -> None:
    """Print the first admin's one-time password (once: it exists only as a hash afterwards)."""
    if password is None:
        return
    sys.stderr.write(
        "\nNo accounts existed: created user 'admin' with the one-time password\n\n"
        f"    {password}\n\nLog in and choose a new password; this one is not shown again.\n\n"
    )
    sys.stderr.flush()


def _read_password() -> str:
    """The new password: prompted twice on a terminal; else one line of stdin, or two that
    must match (``printf 'pw\npw\n' | archive-analyzer users add x``)."""
    from archive_analyzer.errors import AuthError

    if not sys.stdin.isatty():
        first = sys.stdin.readline().rstrip("\r\n")
        if not first:
            raise AuthError("no password on stdin: pipe it in, or run on a terminal to be asked")
        second = sys.stdin.readline()
        if second and second.rstrip("\r\n") != first:
            raise AuthError("the two passwords on stdin differ")
        return first
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Repeat password: ")
    if first != second:
        raise AuthError("the passwords differ")
    return first


def _audit(conn: object, action: str, target: str, detail: dict[str, object] | None = None) -> None:
    """Record a ``users`` command in the audit log (actor ``cli``: whoever runs it on the host)."""
    import sqlite3

    from archive_analyzer.catalog import audit
    from archive_analyzer.catalog.db import utc_now

    assert isinstance(conn, sqlite3.Connection)
    audit.record(conn, action, at=utc_now(), actor="cli", target=target, detail=detail)


RoleOption = Annotated[
    str | None,
    typer.Option(
        "--role", help="viewer (watch, search), editor (also edit, mark, export) or admin."
    ),
]
BrandOption = Annotated[
    list[str] | None,
    typer.Option("--brand", help="Limit the account to this brand (catalog id); repeatable."),
]


@users_app.command("add")
def users_add(
    username: str,
    role: RoleOption = None,
    admin: Annotated[bool, typer.Option("--admin", help="Same as --role admin.")] = False,
    brand: BrandOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Create an account; the password is read from stdin (or prompted twice on a terminal).

    Passwords need 10+ characters and must not be easy to guess (zxcvbn score 3 or more)."""
    from archive_analyzer.catalog import audit
    from archive_analyzer.catalog import db as catalog_db
    from archive_analyzer.errors import AuthError
    from archive_analyzer.web import accounts

    cfg = settings(db, config)
    accounts.validate_username(username)
    chosen = accounts.role_of(role) if role else accounts.Role.VIEWER
    if admin:
        if role and chosen is not accounts.Role.ADMIN:
            raise AuthError(f"--admin contradicts --role {role}")
        chosen = accounts.Role.ADMIN
    password = _read_password()
    accounts.validate_password(password, username)
    conn = catalog_db.connect(cfg.db)
    try:
        if brand and chosen is accounts.Role.ADMIN:
            raise AuthError("admins see every brand; --brand is for viewers and editors")
        if brand:
            known = {r[0] for r in conn.execute("SELECT id FROM catalogs")}
            unknown = [b for b in brand if b not in known]
            if unknown:
                raise AuthError(f"unknown brand: {', '.join(unknown)}")
        user = accounts.add_user(conn, username, password, role=chosen)
        if brand:
            user = accounts.set_brands(conn, username, brand)
        _audit(conn, audit.USER_ADD, user.username, {"role": user.role.value})
    finally:
        conn.close()
    if json:
        emit_json(_user_json(user))
    else:
        limited = f" (brands: {', '.join(sorted(user.brands))})" if user.brands else ""
        typer.echo(f"created {user.role.value} {user.username}{limited}")


@users_app.command("passwd")
def users_passwd(
    username: str,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Set a user's password (ends their sessions); read from stdin or prompted twice."""
    from archive_analyzer.catalog import audit
    from archive_analyzer.web import accounts

    cfg = settings(db, config)
    with open_catalog(cfg) as conn:
        user = accounts.require_user(conn, username)
        accounts.set_password(conn, user.username, _read_password())
        _audit(conn, audit.PASSWORD, user.username)
    typer.echo(f"password changed for {user.username}")


@users_app.command("role")
def users_role(
    username: str,
    role: Annotated[str, typer.Argument(help="viewer, editor or admin.")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Give an account another role (viewer, editor or admin)."""
    from archive_analyzer.catalog import audit
    from archive_analyzer.web import accounts

    cfg = settings(db, config)
    with open_catalog(cfg) as conn:
        before = accounts.require_user(conn, username)
        user = accounts.set_role(conn, before.username, role)
        _audit(conn, audit.ROLE, user.username, {"from": before.role.value, "to": user.role.value})
    typer.echo(f"{user.username} is now {user.role.value}")


def _switch(username: str, disabled: bool, db: Path | None, config: Path | None) -> None:
    from archive_analyzer.catalog import audit
    from archive_analyzer.web import accounts

    cfg = settings(db, config)
    with open_catalog(cfg) as conn:
        user = accounts.set_disabled(conn, accounts.require_user(conn, username).username, disabled)
        _audit(conn, audit.DISABLE if disabled else audit.ENABLE, user.username)
    typer.echo(f"{user.username} {'disabled' if disabled else 'enabled'}")


@users_app.command("disable")
def users_disable(username: str, db: DbOption = None, config: ConfigOption = None) -> None:
    """Disable an account: no login; its sessions, tokens and stream links stop at once."""
    _switch(username, True, db, config)


@users_app.command("enable")
def users_enable(username: str, db: DbOption = None, config: ConfigOption = None) -> None:
    """Enable a disabled account again."""
    _switch(username, False, db, config)


@users_app.command("brands")
def users_brands(
    username: str,
    brands: Annotated[
        list[str] | None, typer.Argument(help="Catalog ids; none (or --all) for every brand.")
    ] = None,
    all_brands: Annotated[bool, typer.Option("--all", help="See every brand again.")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Limit an account to some brands (it sees, searches and streams nothing else)."""
    from archive_analyzer.catalog import audit
    from archive_analyzer.errors import AuthError
    from archive_analyzer.web import accounts

    if all_brands and brands:
        raise AuthError("give brands or --all, not both")
    cfg = settings(db, config)
    with open_catalog(cfg) as conn:
        user = accounts.set_brands(
            conn, accounts.require_user(conn, username).username, None if all_brands else brands
        )
        shown = sorted(user.brands) if user.brands else "all"
        _audit(conn, audit.BRANDS, user.username, {"brands": shown})
    typer.echo(f"{user.username} sees {', '.join(shown) if user.brands else 'every brand'}")


def _user_json(user: object) -> dict[str, object]:
    from archive_analyzer.web import accounts

    assert isinstance(user, accounts.User)
    return {
        "username": user.username,
        "role": user.role.value,
        "disabled": user.disabled,
        "brands": sorted(user.brands) if user.brands else None,
        "last_login_at": user.last_login_at,
        "created_at": user.created_at,
    }


@users_app.command("list")
def users_list(db: DbOption = None, config: ConfigOption = None, json: JsonOption = False) -> None:
    """List accounts: name, role, brands, status, last login."""
    from archive_analyzer.web import accounts

    cfg = settings(db, config)
    with open_catalog(cfg) as conn:
        users = accounts.list_users(conn)
    for user in users:
        if json:
            emit_json(_user_json(user))
        else:
            brands = ",".join(sorted(user.brands)) if user.brands else "*"
            state = "disabled" if user.disabled else "active"
            typer.echo(
                f"{user.username}\t{user.role.value}\t{brands}\t{state}\t"
                f"{user.last_login_at or '-'}"
            )
