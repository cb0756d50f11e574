"""SMPTE timecode labels (``HH:MM:SS:FF``, ``HH:MM:SS;FF`` for drop-frame) and frame counts.

A ``Timecode`` is a frame count on a nominal (integer) timecode base, 24, 25, 30, 50, 60...,
with drop-frame numbering for the NTSC rates (29.97 and 59.94 count on bases 30 and 60 and
skip labels ``:00`` and ``:01`` (``:00``-``:03`` at 60) at the start of every minute that is
not a multiple of ten, so the labels keep up with the clock). The prober reports a file's start
timecode as a label; hand times are this start plus the hand's seconds at the file's frame
rate; edit lists write labels. Pure values, no I/O. Exports use OpenTimelineIO, whose
``opentime`` agrees with these labels (checked by the tests); this module exists because the
prober, the catalog and the web app need labels without pulling in OTIO.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_LABEL = re.compile(r"^\s*(\d{1,3}):([0-5]\d):([0-5]\d)([:;])(\d{1,3})\s*$")


@dataclass(frozen=True, slots=True)
class Timecode:
    """``frames`` counted from label 00:00:00:00 on a base of ``fps`` frames per second."""

    frames: int
    fps: int
    drop: bool = False

    def __post_init__(self) -> None:
        if self.fps <= 0:
            raise ValueError(f"timecode base must be positive, not {self.fps}")
        if self.drop and self.fps % 30:
            raise ValueError(f"drop-frame timecode needs a base of 30 or 60, not {self.fps}")
        if self.frames < 0:
            raise ValueError("a timecode cannot be negative")

    @property
    def label(self) -> str:
        """``HH:MM:SS:FF`` (``;`` before the frames for drop-frame); hours are not wrapped."""
        frames = self.frames
        if self.drop:
            frames += _dropped_before(frames, self.fps)
        fps = self.fps
        hours, rest = divmod(frames, fps * 3600)
        minutes, rest = divmod(rest, fps * 60)
        seconds, ff = divmod(rest, fps)
        sep = ";" if self.drop else ":"
        return f"{hours:02d}:{minutes:02d}:{seconds:02d}{sep}{ff:02d}"

    def __str__(self) -> str:
        return self.label

    def plus(self, frames: int) -> Timecode:
        """This timecode ``frames`` later (earlier when negative; never before zero)."""
        return Timecode(max(0, self.frames + frames), self.fps, self.drop)

    @classmethod
    def parse(cls, text: str, fps: int | None = None) -> Timecode:
        """A label ``HH:MM:SS:FF`` / ``HH:MM:SS;FF`` on base ``fps``. Without ``fps``: 30 for
        drop-frame labels, else 25. (``HH:MM:SS.FF`` is not read as drop-frame: a ``.`` means
        fractions of a second in the hands sheets.)

        Raises ``ValueError`` for anything else, frames beyond the base, or a label that
        drop-frame numbering skips.
        """
        match = _LABEL.match(text)
        if match is None:
            raise ValueError(f"not a timecode: {text!r} (expected HH:MM:SS:FF)")
        hh, mm, ss = (int(match.group(i)) for i in (1, 2, 3))
        drop = match.group(4) != ":"
        ff = int(match.group(5))
        base = fps or (30 if drop else 25)
        if drop and base % 30:
            base = 30 * max(1, round(base / 30))
        if ff >= base:
            raise ValueError(f"timecode {text!r}: frame {ff} is not below {base}")
        total_minutes = hh * 60 + mm
        frames = (total_minutes * 60 + ss) * base + ff
        if drop:
            step = base // 15  # labels skipped per minute: 2 at 30, 4 at 60
            if ss == 0 and ff < step and mm % 10:
                raise ValueError(f"timecode {text!r} does not exist in drop-frame numbering")
            frames -= step * (total_minutes - total_minutes // 10)
        return cls(frames, base, drop)


def clean_label(text: str) -> str | None:
    """``text`` stripped when it is a timecode label (``HH:MM:SS:FF`` or ``HH:MM:SS;FF``), else
    None: free-text tags (Matroska ``TIMECODE``) are reported only when they are labels."""
    stripped = text.strip()
    match = _LABEL.match(stripped)
    return stripped if match is not None else None


def _dropped_before(frames: int, fps: int) -> int:
    """Labels skipped by drop-frame numbering before frame number ``frames``."""
    step = fps // 15
    per_ten = fps * 600 - 9 * step  # frames in ten minutes
    per_minute = fps * 60 - step  # frames in a dropping minute
    tens, rest = divmod(frames, per_ten)
    skipped = 9 * step * tens
    if rest > step:
        skipped += step * ((rest - step) // per_minute)
    return skipped


def base_for(rate: float) -> tuple[int, bool]:
    """The timecode base and drop-frame default for a frame rate: 29.97 -> (30, True),
    25 -> (25, False), 23.976 -> (24, False)."""
    if rate <= 0 or not math.isfinite(rate):
        raise ValueError(f"no timecode base for frame rate {rate}")
    fps = round(rate)
    ntsc = abs(rate - fps * 1000 / 1001) < 0.005 and fps % 30 == 0
    return fps, ntsc


def at_seconds(start: Timecode, seconds: float, rate: float) -> Timecode:
    """The label ``seconds`` into a file whose first frame is ``start``, at ``rate`` frames
    per second (the file's own rate: 29.97 for a drop-frame file). Rounded to the nearest frame."""
    return start.plus(round(seconds * rate))


def seconds_from(start: Timecode, label: Timecode, rate: float) -> float:
    """Seconds from the file's first frame (``start``) to ``label``, at ``rate`` fps.

    Raises ``ValueError`` when ``label`` comes before ``start``.
    """
    offset = label.frames - start.frames
    if offset < 0:
        raise ValueError(f"timecode {label} is before the file's start {start}")
    return offset / rate
