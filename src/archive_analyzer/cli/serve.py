"""CLI commands: ``serve`` (the viewer web app) and ``users`` (accounts)."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from archive_analyzer.cli.app import (
    ConfigOption,
    DbOption,
    JsonOption,
    app,
    emit_json,
    existing_catalog,
    settings,
)

users_app = typer.Typer(help="Manage viewer accounts.", no_args_is_help=True)
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
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            from archive_analyzer.errors import AuthError

            raise AuthError("no password on stdin: pipe it in, or run on a terminal to be asked")
        return line
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Repeat password: ")
    if first != second:
        raise typer.BadParameter("the passwords differ")
    return first


@users_app.command("add")
def users_add(
    username: str,
    admin: Annotated[bool, typer.Option("--admin", help="Give the admin role.")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Create an account; the password is read from stdin (or prompted twice on a terminal)."""
    from archive_analyzer.catalog import db as catalog_db
    from archive_analyzer.web import accounts

    cfg = settings(db, config)
    accounts.validate_username(username)
    password = _read_password()
    conn = catalog_db.connect(cfg.db)
    try:
        user = accounts.add_user(conn, username, password, role="admin" if admin else "viewer")
    finally:
        conn.close()
    if json:
        emit_json({"username": user.username, "role": user.role, "created_at": user.created_at})
    else:
        typer.echo(f"created {user.role} {user.username}")


@users_app.command("passwd")
def users_passwd(
    username: str,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Set a user's password (ends their sessions); read from stdin or prompted twice."""
    from archive_analyzer.catalog import db as catalog_db
    from archive_analyzer.web import accounts

    cfg = settings(db, config)
    conn = catalog_db.connect(existing_catalog(cfg))
    try:
        if accounts.find_user(conn, username) is None:
            from archive_analyzer.errors import AuthError

            raise AuthError(f"no such user: {username}")
        accounts.set_password(conn, username, _read_password())
    finally:
        conn.close()
    typer.echo(f"password changed for {username}")


@users_app.command("list")
def users_list(db: DbOption = None, config: ConfigOption = None, json: JsonOption = False) -> None:
    """List accounts: name, role, last login."""
    from archive_analyzer.catalog import db as catalog_db
    from archive_analyzer.web import accounts

    cfg = settings(db, config)
    conn = catalog_db.connect(existing_catalog(cfg))
    try:
        users = accounts.list_users(conn)
    finally:
        conn.close()
    for user in users:
        if json:
            emit_json(
                {
                    "username": user.username,
                    "role": user.role,
                    "last_login_at": user.last_login_at,
                    "created_at": user.created_at,
                }
            )
        else:
            typer.echo(f"{user.username}\t{user.role}\t{user.last_login_at or '-'}")
