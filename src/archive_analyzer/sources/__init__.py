"""Sources: where the archive lives (a local folder or an SMB share).

``open_source(spec, settings)`` is the one way to get a ``Source`` from a spec string.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from archive_analyzer.sources.base import FileInfo, Source
from archive_analyzer.sources.url import LocalSpec, SMBSpec, parse

if TYPE_CHECKING:
    from archive_analyzer.config import Settings

__all__ = ["FileInfo", "Source", "open_source"]


def open_source(spec: str, settings: Settings) -> Source:
    """A source for ``spec`` (a folder or ``smb://[user@]host[:port]/share/path``), not yet
    connected. SMB credentials come from ``settings``. Raises ``ConfigError`` for a bad spec.
    """
    parsed = parse(spec)
    if isinstance(parsed, LocalSpec):
        from archive_analyzer.sources.local import LocalSource

        return LocalSource(parsed.root)
    assert isinstance(parsed, SMBSpec)
    from archive_analyzer.sources.smb import SMBSource

    return SMBSource(parsed, settings)
