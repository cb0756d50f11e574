"""``archive-analyzer run``: the main job on the configured (or demo) source.

Interim version (scan owner): scan, then watch in this process. The jobs layer (issue 7) takes
this command over to start its writer and workers.
"""

from __future__ import annotations

from typing import Annotated

import typer

from archive_analyzer.cli.app import ConfigOption, DbOption, app, settings


@app.command()
def run(
    db: DbOption = None,
    config: ConfigOption = None,
    interval: Annotated[
        float | None,
        typer.Option("--interval", min=1.0, help="Seconds between polls [default 60]."),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Scan and probe, then stop.")] = False,
) -> None:
    """Scan the configured source (with none, a generated demo archive of real media files),
    probe it, then keep watching it for changes."""
    from archive_analyzer import pipeline
    from archive_analyzer.demo import ensure_demo_archive

    cfg = settings(db, config, poll_interval_s=interval)
    if not cfg.source:
        root = ensure_demo_archive(cfg.data_dir.resolve() / "demo")
        typer.echo(f"no source configured: using the demo archive in {root}", err=True)
        cfg = cfg.model_copy(update={"source": str(root)})
    summary = pipeline.scan(cfg)
    result = summary.scan
    typer.echo(
        f"scan {result.status}: {result.files_seen} files ({result.new} new), "
        f"probed {summary.probed}, catalog {cfg.db}",
        err=True,
    )
    if not once:
        pipeline.watch(cfg)
