"""The scrubbing-previews sweep the ``previews`` job and CLI command run."""

from __future__ import annotations

from collections.abc import Callable

from archive_analyzer.catalog import db
from archive_analyzer.config import Settings
from archive_analyzer.errors import ConfigError
from archive_analyzer.pipeline.options import preview_options, source_opener
from archive_analyzer.previews import make as previews
from archive_analyzer.previews import store as preview_store
from archive_analyzer.scan.progress import NullProgress, Progress

OnPreview = Callable[[preview_store.Pending, preview_store.PreviewRecord], None]


def make_previews(
    settings: Settings,
    *,
    limit: int | None = None,
    progress: Progress | None = None,
    on_item: OnPreview | None = None,
    clock: db.Clock = db.utc_now,
    should_stop: Callable[[], bool] = lambda: False,
) -> previews.SweepResult:
    """Make the strips and posters ``settings.source``'s files lack, newest content first, up
    to ``limit`` files (None: all). ``progress`` counts files and the bytes they read.

    Raises ``ConfigError`` without a source, ``SourceError`` when it cannot be reached."""
    if not settings.source:
        raise ConfigError("no source given: pass --source or set ARCHIVE_SOURCE / source in TOML")
    source = source_opener(settings)(settings.source)
    conn = db.connect(settings.db)  # migrates a catalog older than the previews table
    bar = progress or NullProgress()

    def advance(item: preview_store.Pending, record: preview_store.PreviewRecord) -> None:
        bar.advance(1, record.bytes_read)
        if on_item is not None:
            on_item(item, record)

    try:
        source.connect()
        bar.start(preview_store.count_pending(conn, source.name) if limit is None else None)
        return previews.sweep(
            conn,
            source,
            preview_options(settings),
            now=clock,
            limit=limit,
            on_item=advance,
            should_stop=should_stop,
        )
    finally:
        bar.finish()
        source.close()
        conn.close()
