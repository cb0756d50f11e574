"""HTTP byte ranges (RFC 9110 section 14) as browsers and ffmpeg send them: parsing.

Pure functions: a ``Range`` header and the representation's size in, a byte span (or a verdict)
out. Clients ask for one range at a time (``bytes=0-``, ``bytes=1000-``, ``bytes=-500``);
multi-range requests are answered with the whole body, which RFC 9110 allows. Used by the web
app's ``/stream`` and by the loopback server that feeds ffmpeg (``sources/loopback.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


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
