"""The root Typer app, shared options and output helpers for the command modules."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click.core import Command

from archive_analyzer.config import Settings, load_settings

app = typer.Typer(
    name="archive-analyzer",
    help="Catalog, probe, sync and serve a broadcast video archive on a NAS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help: square brackets in option help ([env ...]) stay literal, not markup.
    rich_markup_mode=None,
)

# Shared option types: every command takes --db (env ARCHIVE_DB) and --config.
DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Catalog database file [env ARCHIVE_DB; default ./archive.db]."),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="TOML settings file [env ARCHIVE_CONFIG; ./archive.toml]."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON Lines.")]


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    setup_logging(logging.DEBUG if verbose else logging.INFO)


def setup_logging(level: int = logging.INFO) -> None:
    """Rich log lines on a terminal, plain timestamped lines elsewhere (stderr either way)."""
    root = logging.getLogger()
    if getattr(root, "_archive_configured", False):
        root.setLevel(level)
        return
    handler: logging.Handler
    if sys.stderr.isatty():
        from rich.logging import RichHandler

        handler = RichHandler(show_path=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = _CurrentStderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("smbprotocol", "spnego", "urllib3", "asyncio", "huey", "httpx", "grpc"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    root._archive_configured = True  # type: ignore[attr-defined]


class _CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at emit time (the CLI may run several times in one
    process, e.g. under pytest, where each run's stderr is closed afterwards)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


NotifyOption = Annotated[
    bool | None,
    typer.Option(
        "--notify/--no-notify",
        help="Change notifications beside the poll (SMB2 CHANGE_NOTIFY, inotify) "
        "[env ARCHIVE_NOTIFY; on].",
    ),
]


def settings(db: Path | None = None, config: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings for a command from its flags (unset flags fall back to env/TOML).

    The one place the process environment and the current folder become settings."""
    return load_settings(config, environ=os.environ, cwd=Path(), db=db, **overrides)


def existing_catalog(cfg: Settings) -> Path:
    """``cfg.db`` for a command that reads or amends a catalog; it must exist already.

    Raises ``CatalogError`` when it does not: opening would create an empty catalog, and a
    mistyped ``--db`` would then read as "nothing in the archive".
    """
    from archive_analyzer.catalog.db import require_existing

    return require_existing(cfg.db)


@contextlib.contextmanager
def open_catalog(cfg: Settings, *, readonly: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection to the existing catalog ``cfg.db`` (``existing_catalog``), closed after
    the block."""
    from archive_analyzer.catalog.db import connect

    conn = connect(existing_catalog(cfg), readonly=readonly)
    try:
        yield conn
    finally:
        conn.close()


def emit_json(obj: Any) -> None:
    """Print one JSON Lines record to stdout."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def build_command() -> Command:
    """The click command with every command module registered (imported here, not at import)."""
    from archive_analyzer.cli import (  # noqa: F401 - imported for their @app.command()s
        catalog,
        export,
        fixity,
        previews,
        probe,
        run,
        scan,
        serve,
        status,
        sync,
        watch,
    )

    return typer.main.get_command(app)
