"""A content's clip, cut from its original: what ``export clip`` and the export job both run."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from archive_analyzer.errors import ExportError
from archive_analyzer.export import clip
from archive_analyzer.export.cache import clip_key
from archive_analyzer.export.selection import ClipTarget
from archive_analyzer.sources.base import Source
from archive_analyzer.sources.loopback import ffmpeg_input


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """Everything exports need, built at the entrance (``pipeline.export_options``)."""

    clip: clip.ClipOptions
    cache_dir: Path
    cache_bytes: int
    media_root: str  # what edit lists put in front of a catalog path


def media_root_of(source_spec: str | None) -> str:
    """The default media root for edit lists: the source as a URL without a user name
    (``file:///srv/archive``, ``smb://nas/ARCHIVE/dir``)."""
    from archive_analyzer.sources import url

    if not source_spec:
        return ""  # edit lists then name catalog paths alone
    spec = url.parse(source_spec)
    if isinstance(spec, url.SMBSpec):
        port = "" if spec.port == url.DEFAULT_SMB_PORT else f":{spec.port}"
        tail = f"/{quote(spec.path)}" if spec.path else ""
        return f"smb://{spec.host}{port}/{quote(spec.share)}{tail}"
    return spec.root.expanduser().absolute().as_uri()


def key(target: ClipTarget, exact: bool, options: clip.ClipOptions) -> str:
    """The export cache key of ``target`` cut fast or exact with ``options``."""
    encoding = f"{options.exact_codec}-{options.preset}-{options.crf}" if exact else "copy"
    return clip_key(
        target.file_id, target.size, target.mtime, target.start, target.end, exact, encoding
    )


def extension(target: ClipTarget, exact: bool, options: clip.ClipOptions) -> str:
    return clip.extension(target.ext, exact, options)


def download_name(target: ClipTarget, ext: str) -> str:
    """A file name for the browser: the content's title, safe on Windows and macOS."""
    title = unicodedata.normalize("NFC", target.title)
    safe = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", title).strip(" .") or target.content_id
    return f"{safe[:150]}.{ext}"


def make(
    source: Source,
    target: ClipTarget,
    out: Path,
    *,
    exact: bool,
    options: clip.ClipOptions,
    progress: clip.Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> clip.ClipResult:
    """Cut ``target`` from ``source`` into ``out``; the clip starts at the source timecode of
    its real in point when the original has one."""
    if target.end <= target.start:
        raise ExportError(f"{target.title}: nothing to cut (no probed duration)")
    timecode_at = target.clock.label_at if target.clock.frame_rate else None
    with ffmpeg_input(source, target.path) as input_arg:
        return clip.cut(
            input_arg,
            out,
            target.start,
            target.end,
            exact=exact,
            options=options,
            progress=progress,
            cancelled=cancelled,
            timecode_at=timecode_at,
        )
