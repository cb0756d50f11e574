"""Where ``Settings`` becomes each stage's own small frozen options value.

The stages below the pipeline never see the settings: the entrances (this package, ``jobs``,
``cli``, ``web``) build ``smb_options``, ``probe_options``, ``diff_rules``, ``source_opener``,
``preview_options``, ``export_options`` here and hand them down.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence

from archive_analyzer.catalog import db
from archive_analyzer.catalog.rules import Rules
from archive_analyzer.config import Settings
from archive_analyzer.export.clip import ClipOptions
from archive_analyzer.export.clips import ExportOptions, media_root_of
from archive_analyzer.previews import make as previews
from archive_analyzer.probe.engine import ProbeOptions
from archive_analyzer.scan.diff import DiffRules
from archive_analyzer.scan.feed import NotifyOptions
from archive_analyzer.scan.watcher import Checker, RefreshHook
from archive_analyzer.sources import SMBOptions, Source, SourceOpener, open_source
from archive_analyzer.sources.changes import Notifying


def diff_rules(settings: Settings) -> DiffRules:
    """The watcher's diff thresholds."""
    return DiffRules(
        missing_grace_s=settings.missing_grace_s,
        vanish_threshold=settings.vanish_threshold,
        vanish_confirm_s=settings.vanish_confirm_s,
    )


def notify_options(settings: Settings) -> NotifyOptions:
    """The change feed's timing."""
    return NotifyOptions(settle_s=settings.notify_settle_s)


def checker_for(source: Source, settings: Settings) -> Checker | None:
    """The source's upload completion check, when notifications are on and it has one."""
    if settings.notify and isinstance(source, Notifying):
        return source.upload_states
    return None


def smb_options(settings: Settings) -> SMBOptions:
    """What SMB sources need: the password or credentials file, time-out, concurrency, and
    how files are read."""
    return SMBOptions(
        password=settings.smb_password,
        credentials_file=settings.smb_credentials_file,
        timeout_s=settings.smb_timeout_s,
        list_concurrency=settings.smb_list_concurrency,
        read_chunk_kib=settings.smb_read_chunk_kib,
        read_window=settings.smb_read_window,
        recheck_s=settings.smb_recheck_s,
        signing=settings.smb_signing,
        read_connections=settings.smb_read_connections,
    )


def source_opener(settings: Settings) -> SourceOpener:
    """``open_source`` with the SMB options of ``settings``."""
    return functools.partial(open_source, smb=smb_options(settings))


def probe_options(settings: Settings, strategy: str | None = None) -> ProbeOptions:
    """The probe strategy (``strategy`` overrides the setting), budget, time-out, concurrency."""
    return ProbeOptions(
        strategy=strategy or settings.probe_strategy,
        budget=settings.probe_budget_bytes,
        timeout_s=settings.probe_timeout_s,
        concurrency=settings.probe_concurrency,
    )


def preview_options(settings: Settings) -> previews.PreviewOptions:
    """Where strips and posters go in the data folder, their interval, width and cap."""
    data = settings.data_dir
    return previews.PreviewOptions(
        root=data / "previews",
        thumbs_root=data / "thumbs",
        interval_s=settings.trickplay_interval_s,
        width=settings.thumb_width,
        cap_bytes=settings.previews_cache_bytes,
    )


def contents_hook(now: db.Clock, rules: Rules | None = None) -> RefreshHook:
    """The catalog model's ``contents.refresh`` with ``rules`` (None: the shipped rules),
    called inside scan/poll transactions."""
    from archive_analyzer.catalog import contents

    def refresh(conn: sqlite3.Connection, file_ids: Sequence[str]) -> None:
        contents.refresh(conn, file_ids, now=now, rules=rules)

    return refresh


def source_spec(settings: Settings, source: Source) -> str:
    """The spec a probe job carries for ``source`` so any host can open it (the configured
    spec, else the source's name)."""
    return settings.source or source.name


def export_options(settings: Settings) -> ExportOptions:
    """The export options of ``settings`` (clip encoding, cache, media root)."""
    return ExportOptions(
        clip=ClipOptions(
            exact_codec=settings.export_exact_codec,
            preset=settings.export_preset,
            crf=settings.export_crf,
            timeout_s=settings.export_timeout_s,
        ),
        cache_dir=settings.export_cache_dir or settings.data_dir / "exports",
        cache_bytes=settings.export_cache_bytes,
        media_root=settings.export_media_root or media_root_of(settings.source),
    )
