"""What a container parser returns, and the byte reader it reads through.

Parsers (``mp4.py``, ``mkv.py``, ``ts.py``, ``mxf.py``, ``avi.py``, ``asf.py``) are pure: they
take a ``Reader`` and return ``Facts``. The engine adds size, bytes read, timing and strategy to
make a ``ProbeResult``, and computes ``bit_rate`` as size x 8 / duration where the parser left
it None (what ffprobe reports as the format bit rate for most containers).
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from archive_analyzer.errors import ParseError
from archive_analyzer.probe.result import AudioInfo, ProbeStatus, VideoInfo


class Reader(Protocol):
    """Random access to one file's bytes under a byte budget.

    ``read`` returns up to ``length`` bytes at ``offset`` (fewer only at end of file) and
    raises ``archive_analyzer.errors.BudgetExceeded`` rather than read past the budget.
    """

    @property
    def size(self) -> int:
        """The file's size in bytes."""
        ...

    def read(self, offset: int, length: int) -> bytes:
        """Bytes at ``offset``; see the class docstring."""
        ...


@dataclass(frozen=True, slots=True)
class Facts:
    """The technical facts a parser found. ``container`` is ffprobe's ``format_name``."""

    container: str
    format_long_name: str | None = None
    status: ProbeStatus = ProbeStatus.OK
    duration_s: float | None = None
    bit_rate: int | None = None
    video: VideoInfo | None = None
    audio: tuple[AudioInfo, ...] = field(default_factory=tuple)
    subtitle_count: int = 0
    creation_time: str | None = None
    error: str | None = None
    timecode: str | None = None  # the start timecode label, "HH:MM:SS:FF" / "HH:MM:SS;FF"


class Parser(Protocol):
    """A container parser strategy: ``parse(reader) -> Facts``.

    Raises ``archive_analyzer.errors.ParseError`` when the bytes do not make sense (the engine
    then falls back to libavformat under the same budget) and lets ``BudgetExceeded`` through.
    """

    def __call__(self, reader: Reader) -> Facts: ...


# What reading nonsense raises inside a parser: a record cut short (IndexError, struct.error),
# a value out of range (ValueError, OverflowError), a zero scale (ZeroDivisionError).
MALFORMED = (IndexError, struct.error, ValueError, ZeroDivisionError, OverflowError)


def malformed_is_parse_error(
    what: str,
) -> Callable[[Callable[[Reader], Facts]], Callable[[Reader], Facts]]:
    """Decorate a container parser so that malformed bytes raise ``ParseError("<what> (...)")``.

    ``ParseError``, ``BudgetExceeded`` and I/O errors pass through unchanged.
    """

    def decorate(parse: Callable[[Reader], Facts]) -> Callable[[Reader], Facts]:
        @functools.wraps(parse)
        def guarded(reader: Reader) -> Facts:
            try:
                return parse(reader)
            except MALFORMED as exc:
                raise ParseError(f"{what} ({exc})") from exc

        return guarded

    return decorate
