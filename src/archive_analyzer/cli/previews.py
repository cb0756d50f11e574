"""``archive-analyzer previews``: make every missing poster and scrubbing strip now."""

from __future__ import annotations

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


@app.command()
def previews(
    db: DbOption = None,
    config: ConfigOption = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="Folder or smb:// URL [env ARCHIVE_SOURCE]."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Make the scrubbing previews (thumbnail strips and WebVTT track) and poster frames of
    every content that lacks them, newest first, reading key frames by seeking."""
    from archive_analyzer import pipeline
    from archive_analyzer.previews import store
    from archive_analyzer.scan.progress import for_terminal

    cfg = settings(db, config, source=source)
    existing_catalog(cfg)

    def line(item: store.Pending, record: store.PreviewRecord) -> None:
        emit_json(
            {
                "path": item.path,
                "status": record.status,
                "frames": record.frames,
                "bytes_read": record.bytes_read,
                "ms": record.ms,
                "error": record.error,
            }
        )

    result = pipeline.make_previews(
        cfg, progress=for_terminal("previews"), on_item=line if as_json else None
    )
    if not as_json:
        typer.echo(f"previews: {result.made} made, {result.failed} failed")
