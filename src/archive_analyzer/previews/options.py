"""Building ``PreviewOptions`` from the settings (at the entrance: CLI, jobs, web)."""

from __future__ import annotations

from archive_analyzer.config import Settings
from archive_analyzer.previews.make import PreviewOptions


def from_settings(settings: Settings) -> PreviewOptions:
    data = settings.data_dir
    return PreviewOptions(
        root=data / "previews",
        thumbs_root=data / "thumbs",
        interval_s=settings.trickplay_interval_s,
        width=settings.thumb_width,
        cap_bytes=settings.previews_cache_bytes,
    )
