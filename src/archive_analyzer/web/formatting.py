"""Values as a person reads them, in the page's language: counts, sizes, relative times with
the exact time on hover, languages and containers by name (Babel's CLDR data for numbers,
times and language names, so Korean and English read naturally without our own tables)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from babel import Locale
from babel.core import get_global
from babel.dates import format_timedelta
from babel.numbers import format_decimal
from markupsafe import Markup, escape

from archive_analyzer.catalog.db import Clock, utc_now

# ffprobe's format names (what the probe stores in media_info.container) -> a name people use;
# the file's extension decides where one format name covers several containers.
_MOV_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"
_BY_EXTENSION = {
    (_MOV_FAMILY, "mov"): "QuickTime (MOV)",
    (_MOV_FAMILY, "mp4"): "MP4",
    (_MOV_FAMILY, "m4v"): "MP4",
    (_MOV_FAMILY, "m4a"): "MP4 (audio)",
    (_MOV_FAMILY, "3gp"): "3GP",
    ("matroska,webm", "webm"): "WebM",
}
_BY_FORMAT = {
    _MOV_FAMILY: "MP4 / QuickTime",
    "matroska,webm": "Matroska (MKV)",
    "matroska": "Matroska (MKV)",
    "webm": "WebM",
    "mpegts": "MPEG-TS",
    "mpeg": "MPEG-PS",
    "mxf": "MXF",
    "avi": "AVI",
    "asf": "Windows Media (ASF)",
    "flv": "Flash Video (FLV)",
    "gxf": "GXF",
    "mp4": "MP4",
    "mov": "QuickTime (MOV)",
}
# Undetermined / not given: ISO 639-2 "und", "zxx" (no linguistic content), "mis", "mul".
_NO_LANGUAGE = frozenset({"", "und", "zxx", "mis", "qaa"})


def container_name(container: str | None, ext: str | None = None) -> str | None:
    """``("mov,mp4,m4a,3gp,3g2,mj2", "mov")`` -> ``"QuickTime (MOV)"``; ``"mxf"`` -> ``"MXF"``
    (pure). Unknown formats come back upper-cased, None stays None."""
    if not container:
        return None
    fmt = container.strip().lower()
    named = _BY_EXTENSION.get((fmt, (ext or "").lower().lstrip(".")))
    if named is None:
        named = _BY_FORMAT.get(fmt)
    return named or fmt.split(",")[0].upper()


def language_code(code: str | None) -> str | None:
    """An ISO 639-1/639-2 (B or T) code as a CLDR language id (``kor`` -> ``ko``, ``ger`` ->
    ``de``), or None when the stream's language is not known (pure)."""
    value = (code or "").strip().replace("_", "-").lower()
    if value in _NO_LANGUAGE:
        return None
    primary = value.split("-")[0]
    alias = get_global("language_aliases").get(primary)
    return str(alias) if alias else primary


def language_name(code: str | None, lang: str) -> str | None:
    """The language of a stream, named in ``lang`` (``kor`` -> ``한국어`` / ``Korean``);
    None when unknown (the caller says "unknown"); an unrecognised code as given."""
    found = language_code(code)
    if found is None:
        return None
    name = Locale.parse(lang).languages.get(found)
    return str(name) if name else code


def count(value: int | float | None, lang: str) -> str:
    """``1234567`` -> ``1,234,567``; None -> ``""``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return format_decimal(value, locale=lang)


def size(value: int | None, lang: str) -> str:
    """Bytes in binary units: ``1536`` -> ``1.5 KB``, ``7_340_032`` -> ``7 MB``."""
    if value is None:
        return ""
    amount = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(amount) < 1024 or unit == "TB":
            digits = "#,##0" if unit == "B" or amount >= 100 else "#,##0.#"
            return f"{format_decimal(amount, format=digits, locale=lang)} {unit}"
        amount /= 1024
    return str(value)


def parse_moment(text: str | None) -> datetime | None:
    """A catalog timestamp (``2026-01-01T12:00:00.000000Z``, or any ISO 8601 form) as an aware
    datetime; None when empty or not a time."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def exact(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class Formatter:
    """The page's formatting functions (``fmt`` in templates), bound to its language and clock."""

    lang: str
    clock: Clock = utc_now

    def count(self, value: int | float | None) -> str:
        return count(value, self.lang)

    def size(self, value: int | None) -> str:
        return size(value, self.lang)

    def ago(self, text: str | None, never: str = "") -> Markup:
        """A relative time (``3 min ago``) in a ``<time>`` element whose title is the exact
        time; ``never`` when there is no time."""
        moment = parse_moment(text)
        if moment is None:
            return Markup(escape(text if text else never))
        delta = moment - self.clock()
        if abs(delta.total_seconds()) < 45:
            words = "방금" if self.lang == "ko" else "just now"
        else:
            words = format_timedelta(delta, add_direction=True, threshold=1.0, locale=self.lang)
        return Markup('<time datetime="{}" title="{}">{}</time>').format(
            moment.isoformat(), exact(moment), words
        )

    def seconds(self, value: float | None) -> str:
        """A span of seconds as words: ``90`` -> ``1 min``, ``7200`` -> ``2 hr``."""
        if value is None:
            return ""
        from datetime import timedelta

        if abs(value) < 1:
            return format_timedelta(
                timedelta(seconds=value), granularity="second", locale=self.lang
            )
        return format_timedelta(timedelta(seconds=value), threshold=1.0, locale=self.lang)

    def language(self, code: str | None) -> str | None:
        return language_name(code, self.lang)

    def container(self, container: str | None, ext: str | None = None) -> str | None:
        return container_name(container, ext)
