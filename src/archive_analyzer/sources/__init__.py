"""Sources: where the archive lives (a local folder or an SMB share).

``open_source(spec, smb)`` is the one way to get a ``Source`` from a spec string; ``SourcePool``
keeps opened ones for reuse by worker threads.
"""

from __future__ import annotations

from archive_analyzer.sources.base import FileInfo, Source
from archive_analyzer.sources.credentials import SMBOptions
from archive_analyzer.sources.local import LocalSource
from archive_analyzer.sources.pool import SourceOpener, SourcePool
from archive_analyzer.sources.smb import SMBSource
from archive_analyzer.sources.url import LocalSpec, SMBSpec, parse

__all__ = ["FileInfo", "SMBOptions", "Source", "SourceOpener", "SourcePool", "open_source"]


def open_source(spec: str, smb: SMBOptions | None = None) -> Source:
    """A source for ``spec`` (a folder or ``smb://[user@]host[:port]/share/path``), not yet
    connected. SMB credentials and time-outs come from ``smb`` (without it an SMB spec has no
    password). Raises ``ConfigError`` for a bad spec or missing SMB credentials.
    """
    parsed = parse(spec)
    if isinstance(parsed, LocalSpec):
        return LocalSource(parsed.root)
    assert isinstance(parsed, SMBSpec)
    return SMBSource(parsed, smb or SMBOptions())
