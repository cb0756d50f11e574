"""The command line: thin commands over ``pipeline``; errors become one-line messages here."""

from __future__ import annotations

import logging
import sqlite3
import sys

import typer
from typer._click import exceptions as click_exc  # typer vendors click since 0.22

from archive_analyzer.cli.app import app, build_command
from archive_analyzer.errors import ArchiveError

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``archive-analyzer``: run a command, turning errors into one line."""
    command = build_command()
    try:
        # Without standalone mode click *returns* the code of a ``typer.Exit`` (and typer
        # turns Ctrl-C into ``Exit(130)``) instead of raising it: the code must not be lost.
        code = command.main(args=argv, prog_name="archive-analyzer", standalone_mode=False)
        if isinstance(code, int) and not isinstance(code, bool) and code != 0:
            if code == 130:
                print("interrupted", file=sys.stderr)
            sys.exit(code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except click_exc.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except ArchiveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    except OSError as exc:
        print(f"error: {_os_message(exc)}", file=sys.stderr)
        sys.exit(1)
    except sqlite3.Error as exc:  # escaped a catalog module: still the catalog's problem
        hint = " (another process is writing it; try again)" if "locked" in str(exc) else ""
        print(f"error: catalog database: {_first_line(exc)}{hint}", file=sys.stderr)
        sys.exit(1)
    except Exception as exc:  # a bug, not bad input: still one line; the traceback with -v
        logging.getLogger("archive_analyzer").debug("unexpected error", exc_info=True)
        print(f"error: unexpected {type(exc).__name__}: {_first_line(exc)}", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)


def _os_message(exc: OSError) -> str:
    """``strerror: filename`` (the file matters: --db, --config and CSV paths all end here)."""
    if not exc.strerror:
        return _first_line(exc)
    if exc.filename is None:
        return exc.strerror
    return f"{exc.strerror}: {exc.filename}"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else "(no message)"
