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
    from archive_analyzer.catalog import db as catalog_db
    from archive_analyzer.errors import ConfigError
    from archive_analyzer.previews import make, options
    from archive_analyzer.previews import store as preview_store
    from archive_analyzer.scan.progress import for_terminal
    from archive_analyzer.sources import open_source

    cfg = settings(db, config, source=source)
    path = existing_catalog(cfg)
    if not cfg.source:
        raise ConfigError("no source given: pass --source or set ARCHIVE_SOURCE / source in TOML")
    conn = catalog_db.connect(path)
    src = open_source(cfg.source, cfg)
    bar = for_terminal("previews")
    try:
        src.connect()
        todo = preview_store.pending(conn, src.name, 1_000_000)
        bar.start(len(todo))

        def advance(item: preview_store.Pending, record: preview_store.PreviewRecord) -> None:
            bar.advance(1, record.bytes_read)
            if as_json:
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

        result = make.sweep(conn, src, options.from_settings(cfg), on_item=advance)
    finally:
        bar.finish()
        src.close()
        conn.close()
    if not as_json:
        typer.echo(f"previews: {result.made} made, {result.failed} failed")
