"""``archive-analyzer export``: hand-off files made from the catalog (see the subcommands)."""

from __future__ import annotations

import typer

from archive_analyzer.cli.app import app

export_app = typer.Typer(help="Export manifests and edit material.", no_args_is_help=True)
app.add_typer(export_app, name="export")
