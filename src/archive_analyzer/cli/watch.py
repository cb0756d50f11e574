"""``archive-analyzer watch``: poll a source and keep the catalog current."""

from __future__ import annotations

from typing import Annotated

import typer

from archive_analyzer.cli.app import ConfigOption, DbOption, NotifyOption, app, settings
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
    notify: NotifyOption = None,
) -> None:
    """Watch the source: change notifications bring uploads, moves and deletions into the
    catalog within seconds (a file is probed once its writer has closed it), and a poll every
    INTERVAL seconds catches whatever they miss (what only a poll sees is probed once its size
    and mtime hold across two polls)."""
    from archive_analyzer import pipeline

    cfg = settings(db, config, source=source, poll_interval_s=interval, notify=notify)
    pipeline.watch(cfg, max_polls=polls)
