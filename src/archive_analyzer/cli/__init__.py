"""The command line: thin commands over ``pipeline``; errors become one-line messages here."""

from __future__ import annotations

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
        command.main(args=argv, prog_name="archive-analyzer", standalone_mode=False)
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
        print(f"error: {exc.strerror or exc}", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)
