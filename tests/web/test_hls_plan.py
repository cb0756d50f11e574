"""Pure playback planning (``web/hls.py``), the segment cache, slots and the ffmpeg runner."""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import psutil
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive_analyzer.catalog.media import AudioTrack, MediaInfo
from archive_analyzer.errors import Busy
from archive_analyzer.web import hls, thumbs
from archive_analyzer.web.transcode import (
    Cancelled,
    Processes,
    SegmentCache,
    Slots,
    TranscodeFailed,
    run,
)

T = TypeVar("T")


def _in_fresh_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a new event loop in its own thread (Playwright's sync API may hold a
    running loop in this one when browser tests ran earlier in the session)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def facts(
    codec: str | None,
    container: str = "mpegts",
    audio: tuple[str, ...] = ("aac",),
    pix: str | None = "yuv420p",
    playable: bool = False,
) -> MediaInfo:
    return MediaInfo(
        container=container,
        video_codec=codec,
        pix_fmt=pix,
        audio=tuple(AudioTrack(a) for a in audio),
        duration_s=60.0,
        height=1080,
        browser_playable=playable,
    )


@pytest.mark.parametrize(
    ("given_facts", "mode"),
    [
        (facts("h264", "mov,mp4,m4a,3gp,3g2,mj2", playable=True), hls.Mode.DIRECT),
        (facts("h264", "mov,mp4,m4a,3gp,3g2,mj2", audio=()), hls.Mode.DIRECT),
        (facts("h264", "mov,mp4,m4a,3gp,3g2,mj2", audio=("pcm_s16le",)), hls.Mode.REMUX),
        (facts("h264", "mpegts"), hls.Mode.REMUX),
        (facts("h264", "matroska,webm", audio=("ac3",)), hls.Mode.REMUX),
        (facts("h264", "mxf", pix="yuv422p10le"), hls.Mode.TRANSCODE),  # AVC-Intra / XAVC
        (facts("prores", "mov,mp4,m4a,3gp,3g2,mj2"), hls.Mode.TRANSCODE),
        (facts("mpeg2video", "mxf", audio=("pcm_s24le",)), hls.Mode.TRANSCODE),
        (facts("hevc", "mov,mp4,m4a,3gp,3g2,mj2"), hls.Mode.TRANSCODE),
        (facts("wmv2", "asf"), hls.Mode.TRANSCODE),
    ],
)
def test_plan(given_facts: MediaInfo, mode: hls.Mode) -> None:
    assert hls.plan(given_facts).mode is mode
    assert hls.hls_plan(given_facts).mode is not hls.Mode.DIRECT


def test_remux_copies_aac_and_converts_other_audio() -> None:
    assert hls.plan(facts("h264", audio=("aac",))).copy_audio
    assert not hls.plan(facts("h264", audio=("mp2",))).copy_audio
    assert hls.plan(facts("mpeg2video", audio=())).has_audio is False


@settings(deadline=None)  # a pure check; a loaded machine made it DeadlineExceeded
@given(
    duration=st.floats(min_value=0.05, max_value=3_000, allow_nan=False),
    segment=st.sampled_from([2.0, 4.0, 6.0, 10.0]),
)
def test_segments_tile_the_duration(duration: float, segment: float) -> None:
    count = hls.segment_count(duration, segment)
    spans = [hls.segment_span(n, duration, segment) for n in range(count)]
    assert spans[0][0] == 0
    for (start, length), (next_start, _) in itertools.pairwise(spans):
        assert math.isclose(start + length, next_start, abs_tol=1e-6)
    assert all(length > 0 for _, length in spans)
    assert sum(length for _, length in spans) == pytest.approx(duration)
    for n, (start, length) in enumerate(spans):
        assert hls.segment_at(start + min(length, segment) / 2, segment) == n


def test_playlist_lists_every_segment() -> None:
    text = hls.playlist(14.0, 6.0)
    assert text.startswith("#EXTM3U\n") and text.endswith("#EXT-X-ENDLIST\n")
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in text and "#EXT-X-TARGETDURATION:6" in text
    assert [line for line in text.splitlines() if line.endswith(".ts")] == [
        "0.ts",
        "1.ts",
        "2.ts",
        "3.ts",
        "4.ts",
    ]
    # the ramp (1, 2, 3 s) ends at 6 s, then 6 s segments; the last one is shorter
    extinf = [line for line in text.splitlines() if line.startswith("#EXTINF:")]
    assert extinf == [f"#EXTINF:{d:.3f}," for d in (1, 2, 3, 6, 2)]


def test_segment_args_seek_before_input_and_keep_the_timeline() -> None:
    chosen = hls.hls_plan(facts("prores", "mov,mp4,m4a,3gp,3g2,mj2"))
    args = hls.segment_args("file:/x.mov", "/out.ts", chosen, 4, 60.0, 6.0)
    assert args.index("-ss") < args.index("-i")
    assert args[args.index("-ss") + 1] == "12.000"
    assert args[args.index("-output_ts_offset") + 1] == "12.000"
    assert args[args.index("-use_mfra_for") + 1] == "pts"  # seek fragmented MP4 by mfra
    assert "libx264" in args and args[-1] == "/out.ts"
    assert args[args.index("-preset") + 1] == "veryfast"
    # the ramp segments: short, and made with the start preset (a cold start waits for them)
    ramp = hls.segment_args("file:/x.mov", "/out.ts", chosen, 0, 60.0, 6.0)
    assert ramp[ramp.index("-t") + 1] == "1.000"
    assert ramp[ramp.index("-preset") + 1] == "ultrafast"
    first = hls.segment_args("in.ts", "o.ts", hls.hls_plan(facts("h264")), 0, 60.0, 6.0)
    assert "-ss" not in first and first[first.index("-c:v") + 1] == "copy"
    assert "-use_mfra_for" not in first


def test_thumbnail_statistics_are_summed_over_inputs() -> None:
    stderr = (
        "[AVIOContext @ 0x1] Statistics: 1000 bytes read, 2 seeks\n"
        "[AVIOContext @ 0x2] Statistics: 500 bytes written, 0 seeks, 1 writeouts\n"
        "[AVIOContext @ 0x3] Statistics: 24 bytes read, 1 seeks\n"
    )
    assert thumbs.read_stats(stderr) == (1024, 3)
    assert thumbs.position(7200.0) == 720.0 and thumbs.position(None) == 0.0


def test_cache_evicts_least_recently_used(tmp_path: Path) -> None:
    cache = SegmentCache(tmp_path / "c", cap_bytes=250)
    for name in ("a", "b", "c"):
        temp = cache.temp_path(f"f/{name}.ts")
        temp.write_bytes(b"x" * 100)
        cache.put(f"f/{name}.ts", temp)
        if name == "b":
            assert cache.get("f/a.ts") is not None  # a is now more recent than b
    assert cache.get("f/b.ts") is None and cache.get("f/a.ts") and cache.get("f/c.ts")
    assert cache.disk_bytes() <= 250 and cache.evictions == 1
    # a new process picks up what is on disk and drops leftovers of a killed writer
    cache.temp_path("f/d.ts").write_bytes(b"partial")
    again = SegmentCache(tmp_path / "c", cap_bytes=250)
    assert again.total_bytes == 200
    assert not list((tmp_path / "c").rglob(".partial-*"))


def test_slots_refuse_with_a_clear_message() -> None:
    async def scenario() -> str:
        slots = Slots(1, wait_s=0.05)
        async with slots.hold():
            try:
                async with slots.hold():
                    return "entered"
            except Busy as exc:
                return str(exc)

    message = _in_fresh_loop(scenario())
    assert message.startswith("busy: 1 transcodes running (limit 1)")


def test_run_kills_on_disconnect_and_reports_failures() -> None:
    processes = Processes.empty()

    seen: list[int] = []

    async def gone() -> bool:
        seen.extend(processes.running)
        return bool(processes.running)  # the client "leaves" as soon as the process started

    async def never() -> bool:
        return False

    async def scenario() -> None:
        with pytest.raises(Cancelled):
            await run(["sleep", "30"], gone=gone, timeout_s=60, processes=processes, label="t")
        with pytest.raises(Cancelled):
            await run(["sleep", "30"], gone=never, timeout_s=0.3, processes=processes, label="t")
        with pytest.raises(TranscodeFailed, match="exited with 1"):
            await run(["false"], gone=never, timeout_s=5, processes=processes, label="t")

    _in_fresh_loop(scenario())
    assert processes.killed == 2 and processes.failed == 1 and not processes.running
    assert seen and not any(psutil.pid_exists(pid) for pid in seen)
