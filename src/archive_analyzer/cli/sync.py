"""``archive-analyzer sync``: publish catalog changes to Firestore (see docs/sync.md)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
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
from archive_analyzer.sync.replicator import Progress

log = logging.getLogger(__name__)


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress]:
    """A rich progress bar on a terminal, log lines otherwise."""
    if not enabled or not sys.stderr.isatty():

        def log_line(done: int, total: int) -> None:
            log.info("sync: %d/%d rows", done, total)

        yield log_line
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("sync", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@app.command()
def sync(
    db: DbOption = None,
    config: ConfigOption = None,
    full: Annotated[
        bool,
        typer.Option("--full", help="Rewrite every document and prune ones the catalog lacks."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be written; write nothing.")
    ] = False,
    allow_mass_delete: Annotated[
        bool,
        typer.Option(
            "--allow-mass-delete",
            help="Let --full prune from an empty catalog or more than sync_prune_max_share "
            "(default 20%) of the documents.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Publish catalog changes since the last sync to Firestore (off until a project is set:
    ARCHIVE_FIRESTORE_PROJECT or GOOGLE_CLOUD_PROJECT; exits 0 with a note when it is off)."""
    from archive_analyzer.sync.engine import NOT_CONFIGURED, run_sync

    cfg = settings(db, config)
    existing_catalog(cfg)  # a mistyped --db must not be created, nor read as an empty archive
    if not cfg.sync_enabled and not dry_run:
        typer.echo(NOT_CONFIGURED, err=True)
        if as_json:
            emit_json({"status": "disabled"})
        return
    with _progress(not as_json) as progress:
        report = run_sync(
            cfg,
            full=full,
            dry_run=dry_run,
            progress=progress,
            allow_mass_delete=allow_mass_delete,
        )
    if report is None:  # not configured (checked above; kept for the type)
        return
    if as_json:
        emit_json(asdict(report))
        return
    verb = "would write" if dry_run else "wrote"
    typer.echo(
        f"sync {report.kind}{' (dry run)' if dry_run else ''}: {report.rows} rows, {verb} "
        f"{report.docs_set} documents and {report.docs_deleted} deletes in {report.batches} "
        f"batches, {report.unchanged} unchanged; watermark {report.watermark}"
    )
