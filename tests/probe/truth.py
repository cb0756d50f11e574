"""Comparing a ProbeResult with ffprobe's truth for a corpus file (shared by tests and bench)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archive_analyzer.probe.ffprobe import facts_from_json
from archive_analyzer.probe.result import ProbeResult
from tests.fixtures.corpus import BY_NAME, expected_statuses, truth


def truth_for(name: str, corpus: dict[str, Path]) -> dict[str, Any]:
    """ffprobe truth for ``name``: its own, or its closed sibling's for open/live files."""
    like = BY_NAME[name].truth_like
    return truth(corpus[like or name])


def mismatches(name: str, result: ProbeResult, corpus: dict[str, Path]) -> list[str]:
    """What ``result`` gets wrong for corpus item ``name`` (empty when everything is right).

    Tolerances: duration within max(0.25 s, 0.5%), bit_rate within 2%, frame rate within 1%;
    codecs, sizes, video profile / pix_fmt / field_order (None where ffprobe has none),
    the start timecode (ffprobe's ``timecode`` tag, else the item's own, else None) and audio
    streams exact. Open/live files are compared with their closed
    sibling's truth, without bit rate (their size differs).
    """
    problems: list[str] = []
    if result.status.value not in expected_statuses(name):
        problems.append(f"status {result.status.value} not in {expected_statuses(name)}")
    data = truth_for(name, corpus)
    expected = facts_from_json(data)
    if expected is None:
        return problems  # nothing ffprobe could read: the status is the whole answer
    like = BY_NAME[name].truth_like
    if result.container != expected.container:
        problems.append(f"container {result.container!r} != {expected.container!r}")
    want_d = expected.duration_s
    got_d = result.duration_s
    if want_d is not None and (got_d is None or abs(got_d - want_d) > max(0.25, want_d * 0.005)):
        problems.append(f"duration {got_d} != {want_d}")
    want_b = expected.bit_rate
    if (
        like is None
        and want_b
        and (not result.bit_rate or abs(result.bit_rate - want_b) > 0.02 * want_b)
    ):
        problems.append(f"bit_rate {result.bit_rate} != {want_b}")
    ev, gv = expected.video, result.video
    if (ev is None) != (gv is None):
        problems.append(f"video {gv} != {ev}")
    elif ev is not None and gv is not None:
        if (gv.codec, gv.width, gv.height) != (ev.codec, ev.width, ev.height):
            problems.append(
                f"video {(gv.codec, gv.width, gv.height)} != {(ev.codec, ev.width, ev.height)}"
            )
        got_f = (gv.profile, gv.pix_fmt, gv.field_order)
        want_f = (ev.profile, ev.pix_fmt, ev.field_order)
        if got_f != want_f:
            problems.append(f"video (profile, pix_fmt, field_order) {got_f} != {want_f}")
        rates = _rates(data)
        if rates and (
            gv.frame_rate is None or not any(abs(gv.frame_rate - r) <= 0.01 * r for r in rates)
        ):
            problems.append(f"frame_rate {gv.frame_rate} not within 1% of {rates}")
    want_tc = expected.timecode or BY_NAME[name].timecode
    if result.timecode != want_tc:
        problems.append(f"timecode {result.timecode!r} != {want_tc!r}")
    got_a = [(a.codec, a.channels, a.sample_rate) for a in result.audio]
    want_a = [(a.codec, a.channels, a.sample_rate) for a in expected.audio]
    if got_a != want_a:
        problems.append(f"audio {got_a} != {want_a}")
    return problems


def _rates(data: dict[str, Any]) -> list[float]:
    """The first video stream's avg and r frame rates (either is an accepted answer)."""
    from fractions import Fraction

    for stream in data.get("streams", []):
        if stream.get("codec_type") == "video":
            found = []
            for key in ("avg_frame_rate", "r_frame_rate"):
                try:
                    value = Fraction(stream.get(key) or "0/1")
                except (ValueError, ZeroDivisionError):
                    continue
                if value > 0:
                    found.append(float(value))
            return found
    return []
