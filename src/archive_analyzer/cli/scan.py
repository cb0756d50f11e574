"""``archive-analyzer scan``: a full scan of a source into the catalog, then probing."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from archive_analyzer.cli.app import ConfigOption, DbOption, JsonOption, app, emit_json, settings

SourceArgument = Annotated[
    str | None,
    typer.Argument(
        help="A folder or smb://[user@]host[:port]/share/path [env ARCHIVE_SOURCE].",
        show_default=False,
    ),
]


@app.command()
def scan(
    source: SourceArgument = None,
    db: DbOption = None,
    config: ConfigOption = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the interrupted scan after its checkpoint.")
    ] = False,
    probe: Annotated[
        bool, typer.Option("--probe/--no-probe", help="Probe new and changed media afterwards.")
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Walk the whole source, catalogue every file (new, changed, moved, missing), then probe
    the media files pending a probe."""
    from archive_analyzer import pipeline

    cfg = settings(db, config, source=source)
    summary = pipeline.scan(cfg, resume=resume, probe=probe)
    result = summary.scan
    if as_json:
        record = asdict(result)
        record.update(
            probed=summary.probed,
            probe_failed=summary.probe_failed,
            probe_dropped=summary.probe_dropped,
            probe_pending=summary.probe_pending,
        )
        emit_json(record)
        return
    typer.echo(
        f"scan {result.scan_id} {result.status}: {result.files_seen} files, {result.new} new, "
        f"{result.changed} changed, {result.moved} moved, {result.missing} missing "
        f"in {result.duration_s:.1f}s; probed {summary.probed} "
        f"({summary.probe_failed} failed, {summary.probe_pending} pending)"
    )
    if result.message:
        typer.echo(f"warning: {result.message}", err=True)
