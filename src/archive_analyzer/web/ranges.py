"""HTTP byte ranges (RFC 9110 section 14) as browsers send them: parsing and validators.

Pure functions: a ``Range`` header and the representation's size in, a byte span (or a verdict)
out. Browsers ask for one range at a time (``bytes=0-``, ``bytes=1000-``, ``bytes=-500``);
multi-range requests are answered with the whole body, which RFC 9110 allows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime


@dataclass(frozen=True, slots=True)
class ByteSpan:
    """An inclusive byte span ``first``..``last`` of a body of ``total`` bytes."""

    first: int
    last: int
    total: int

    @property
    def length(self) -> int:
        return self.last - self.first + 1

    @property
    def content_range(self) -> str:
        return f"bytes {self.first}-{self.last}/{self.total}"


class Unsatisfiable(Exception):
    """The range lies wholly past the end of the body (answer 416)."""


def parse_range(header: str | None, total: int) -> ByteSpan | None:
    """The span a ``Range`` header asks for, or None to send the whole body.

    None for a missing, malformed or multi-range header (those are ignored, per RFC 9110).
    Raises ``Unsatisfiable`` when the single range starts at or past ``total`` or is an empty
    suffix (``bytes=-0``).
    """
    if not header:
        return None
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    spec = spec.strip()
    if "," in spec:
        return None
    first_text, dash, last_text = spec.partition("-")
    if not dash:
        return None
    first_text, last_text = first_text.strip(), last_text.strip()
    if not _digits(first_text) and not _digits(last_text):
        return None
    if first_text == "":
        suffix = int(last_text)
        if suffix == 0 or total == 0:
            raise Unsatisfiable
        return ByteSpan(max(0, total - suffix), total - 1, total)
    if not _digits(first_text) or (last_text and not _digits(last_text)):
        return None
    first = int(first_text)
    last = int(last_text) if last_text else total - 1
    if last_text and last < first:
        return None
    if first >= total:
        raise Unsatisfiable
    return ByteSpan(first, min(last, total - 1), total)


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


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
