"""``archive-analyzer status``: one report assembled from every stage's section."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from archive_analyzer.catalog.report import Section, collect
from archive_analyzer.cli.app import (
    ConfigOption,
    DbOption,
    JsonOption,
    app,
    emit_json,
    open_catalog,
    settings,
)


@app.command()
def status(
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    limit: Annotated[int, typer.Option(help="Rows per list section.")] = 10,
) -> None:
    """Show scans, polls, counts, failures, incoming and missing files, events and sync lag."""
    cfg = settings(db, config)
    with open_catalog(cfg) as conn:
        sections = collect(conn, limit=limit)
    if as_json:
        for section in sections:
            emit_json({"section": section.key, "title": section.title, "rows": section.rows})
        return
    _print(sections)


def _print(sections: list[Section]) -> None:
    console = Console()
    for section in sections:
        if not section.rows:
            console.print(f"[bold]{section.title}[/bold]: none")
            continue
        table = Table(title=section.title, title_justify="left", show_lines=False)
        columns = list(section.rows[0].keys())
        for column in columns:
            table.add_column(column)
        for row in section.rows:
            table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
        console.print(table)
