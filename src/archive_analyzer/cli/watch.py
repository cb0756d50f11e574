"""``archive-analyzer watch``: poll a source and keep the catalog current."""

from __future__ import annotations

from typing import Annotated

import typer

from archive_analyzer.cli.app import ConfigOption, DbOption, app, settings
from archive_analyzer.cli.scan import SourceArgument


@app.command()
def watch(
    source: SourceArgument = None,
    db: DbOption = None,
    config: ConfigOption = None,
    interval: Annotated[
        float | None,
        typer.Option("--interval", min=1.0, help="Seconds between polls [default 60]."),
    ] = None,
    polls: Annotated[
        int | None, typer.Option("--polls", min=1, help="Stop after this many polls.")
    ] = None,
) -> None:
    """Poll the source every INTERVAL seconds: new, changed, moved and deleted files reach the
    catalog; files are probed once their size and mtime hold across two polls."""
    from archive_analyzer import pipeline

    cfg = settings(db, config, source=source, poll_interval_s=interval)
    pipeline.watch(cfg, max_polls=polls)
