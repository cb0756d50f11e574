"""ffprobe strategies: JSON -> facts, the ladder's steps, a hung ffprobe is killed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from archive_analyzer.errors import ProbeTimeout
from archive_analyzer.probe import ffprobe


def test_facts_from_json_skips_cover_art_and_counts_subtitles() -> None:
    data = {
        "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "12.5", "bit_rate": "800"},
        "streams": [
            {"codec_type": "video", "codec_name": "mjpeg", "disposition": {"attached_pic": 1}},
            {
                "codec_type": "video",
                "codec_name": "h264",
                "width": 1280,
                "height": 720,
                "avg_frame_rate": "30000/1001",
            },
            {"codec_type": "audio", "codec_name": "aac", "channels": 2, "sample_rate": "44100"},
            {"codec_type": "subtitle", "codec_name": "mov_text"},
        ],
    }
    facts = ffprobe.facts_from_json(data)
    assert facts is not None
    assert facts.video is not None and facts.video.codec == "h264"
    assert facts.video.frame_rate == pytest.approx(29.97, rel=1e-3)
    assert facts.audio[0].sample_rate == 44100
    assert (facts.duration_s, facts.bit_rate, facts.subtitle_count) == (12.5, 800, 1)
    assert ffprobe.facts_from_json({"format": None, "streams": []}) is None


def test_hung_ffprobe_is_killed_at_the_deadline() -> None:
    """ffprobe waiting forever on a stdin that never delivers is killed, not waited for."""
    release = threading.Event()

    def stalled() -> Iterator[bytes]:
        yield b"\x00" * 16
        release.wait(30)  # a source that stopped answering

    try:
        with pytest.raises(ProbeTimeout):
            ffprobe.run(ffprobe.LADDER_ARGS, stalled(), time.monotonic() + 1.0)
    finally:
        release.set()
