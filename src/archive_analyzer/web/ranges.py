"""HTTP validators for ranged responses (RFC 9110 sections 8.8 and 13): ETag, Last-Modified,
If-Range, If-None-Match.

Pure functions. Parsing the ``Range`` header itself is ``archive_analyzer.byteranges``, shared
with the loopback server that feeds ffmpeg (``sources/loopback.py``).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime


def etag(file_id: str, size: int, mtime: float) -> str:
    """A strong validator for one version of a file: changes when its size or mtime changes."""
    digest = hashlib.blake2s(f"{file_id}:{size}:{mtime!r}".encode(), digest_size=12).hexdigest()
    return f'"{digest}"'


def http_date(mtime: float) -> str:
    """``mtime`` (POSIX seconds) as an HTTP date (``Last-Modified``)."""
    return format_datetime(datetime.fromtimestamp(int(mtime), UTC), usegmt=True)


def if_range_allows(if_range: str | None, current_etag: str, mtime: float) -> bool:
    """Whether a ``Range`` may be honoured given the request's ``If-Range`` (RFC 9110 13.1.5).

    No header: yes. An entity tag: only a strong, exact match. A date: only when it equals the
    file's ``Last-Modified`` (to the second). Anything else (weak tag, bad date): no, so the
    client gets the whole, current body instead of a mixed one.
    """
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith('"') or value.startswith("W/"):
        return value == current_etag
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        return False
    return int(when.timestamp()) == int(mtime)


def none_match(if_none_match: str | None, current_etag: str) -> bool:
    """True when ``If-None-Match`` lists the current tag (weak comparison) or is ``*``."""
    if not if_none_match:
        return False
    tags = [t.strip() for t in if_none_match.split(",")]
    bare = current_etag.removeprefix("W/")
    return any(t == "*" or t.removeprefix("W/") == bare for t in tags)
