"""Timecode labels and frame counts, checked against OpenTimelineIO's ``opentime``."""

from __future__ import annotations

import opentimelineio as otio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive_analyzer.timecode import (
    Timecode,
    at_seconds,
    base_for,
    clean_label,
    seconds_from,
)

# (base, drop-frame, the real frame rate OTIO counts at)
RATES = [(24, False, 24.0), (25, False, 25.0), (30, False, 30.0), (50, False, 50.0)]
RATES += [(30, True, 30000 / 1001), (60, True, 60000 / 1001)]


@pytest.mark.parametrize(("fps", "drop", "rate"), RATES)
@given(data=st.data())
def test_labels_agree_with_opentimelineio(
    fps: int, drop: bool, rate: float, data: st.DataObject
) -> None:
    # OTIO wraps at 24 hours; our labels do not (a file's start is always below that anyway)
    frames = data.draw(st.integers(0, 24 * 3600 * int(rate) - 1))
    ours = Timecode(frames, fps, drop)
    theirs = otio.opentime.to_timecode(otio.opentime.RationalTime(frames, rate), rate, drop)
    assert ours.label == theirs
    assert Timecode.parse(ours.label, fps) == ours


def test_drop_frame_labels() -> None:
    assert Timecode.parse("10:00:00;00", 30).frames == 1_078_920
    assert Timecode(1_078_920, 30, True).label == "10:00:00;00"
    # minute 1 starts at ;02: labels ;00 and ;01 do not exist
    assert Timecode(1800, 30, True).label == "00:01:00;02"
    with pytest.raises(ValueError, match="does not exist"):
        Timecode.parse("00:01:00;00", 30)
    assert Timecode.parse("00:10:00;00", 30).frames == 17_982  # every tenth minute keeps them


def test_parse_rejects_nonsense() -> None:
    for text in ("1:00:00", "01:00:00:25x", "01:60:00:00", "aa:bb:cc:dd"):
        with pytest.raises(ValueError):
            Timecode.parse(text, 25)
    with pytest.raises(ValueError, match="frame 25"):
        Timecode.parse("01:00:00:25", 25)


def test_rates_and_seconds() -> None:
    assert base_for(25.0) == (25, False)
    assert base_for(30000 / 1001) == (30, True)
    assert base_for(24000 / 1001) == (24, False)
    start = Timecode.parse("01:00:00:00", 25)
    assert at_seconds(start, 2.0, 25.0).label == "01:00:02:00"
    assert seconds_from(start, Timecode.parse("01:00:05:00", 25), 25.0) == 5.0
    with pytest.raises(ValueError, match="before the file's start"):
        seconds_from(start, Timecode.parse("00:59:59:24", 25), 25.0)
    df = Timecode.parse("10:00:00;00", 30)
    # one real minute of 29.97 fps video is 1798.2 frames: the label keeps up with the clock
    assert at_seconds(df, 60.06, 30000 / 1001).label == "10:01:00;02"


def test_clean_label() -> None:
    assert clean_label(" 01:00:00:00 ") == "01:00:00:00"
    assert clean_label("10:00:00;00") == "10:00:00;00"
    assert clean_label("the first take") is None
