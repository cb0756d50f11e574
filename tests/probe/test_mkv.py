"""Matroska / WebM parser: EBML primitives, hand-built files, corpus accuracy, robustness."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive_analyzer.errors import BudgetExceeded, ParseError
from archive_analyzer.probe import ebml, mkv
from archive_analyzer.probe.reader import CountingReader
from archive_analyzer.probe.result import ProbeStatus
from tests.probe.parser_checks import accuracy, head_and_tail, mutations, robust

UNKNOWN = b"\x01\xff\xff\xff\xff\xff\xff\xff"


def el(el_id: int, body: bytes, *, size: bytes | None = None) -> bytes:
    """One EBML element: ID, an 8-byte size varint (or ``size`` as given), body."""
    raw_id = el_id.to_bytes((el_id.bit_length() + 7) // 8, "big")
    if size is None:
        size = (0x01 << 56 | len(body)).to_bytes(8, "big")
    return raw_id + size + body


def uint(el_id: int, value: int) -> bytes:
    return el(el_id, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def header(doctype: bytes = b"matroska") -> bytes:
    return el(ebml.EBML, el(ebml.DOCTYPE, doctype))


def tracks(*, default_duration: int | None = 40_000_000) -> bytes:
    video = [uint(ebml.TRACK_NUMBER, 1), uint(ebml.TRACK_TYPE, 1), el(ebml.CODEC_ID, b"V_VP9")]
    if default_duration:
        video.append(uint(ebml.DEFAULT_DURATION, default_duration))
    video.append(el(ebml.VIDEO, uint(ebml.PIXEL_WIDTH, 1920) + uint(ebml.PIXEL_HEIGHT, 1080)))
    audio = [
        uint(ebml.TRACK_NUMBER, 2),
        uint(ebml.TRACK_TYPE, 2),
        el(ebml.CODEC_ID, b"A_PCM/INT/LIT"),
        el(ebml.LANGUAGE, b"ger"),
        el(
            ebml.AUDIO,
            el(ebml.SAMPLING_FREQUENCY, struct.pack(">d", 48000.0))
            + uint(ebml.CHANNELS, 6)
            + uint(ebml.BIT_DEPTH, 24),
        ),
    ]
    subs = [
        uint(ebml.TRACK_NUMBER, 3),
        uint(ebml.TRACK_TYPE, 17),
        el(ebml.CODEC_ID, b"S_TEXT/UTF8"),
    ]
    entries = [el(ebml.TRACK_ENTRY, b"".join(t)) for t in (video, audio, subs)]
    return el(ebml.TRACKS, b"".join(entries))


def info(duration_ms: float | None = 7_200_000.0) -> bytes:
    body = uint(ebml.TIMECODE_SCALE, 1_000_000)
    if duration_ms is not None:
        body += el(ebml.DURATION, struct.pack(">d", duration_ms))
    body += el(ebml.DATE_UTC, (86_400 * 10**9).to_bytes(8, "big"))
    return el(ebml.INFO, body)


def cluster(timestamp: int, blocks: list[tuple[int, int]], *, crc: bool = False) -> bytes:
    body = el(ebml.CRC32, b"\0\0\0\0", size=b"\x84") if crc else b""
    body += uint(ebml.CLUSTER_TIMESTAMP, timestamp)
    for track, rel in blocks:
        body += el(ebml.SIMPLE_BLOCK, bytes([0x80 | track]) + struct.pack(">h", rel) + b"\x80xx")
    return el(ebml.CLUSTER, body)


def parse_bytes(data: bytes) -> mkv.Facts:
    return mkv.parse(CountingReader.for_bytes(data))


def test_size_varints() -> None:
    assert ebml.read_size(b"\x81", 0) == (1, 1)
    assert ebml.read_size(b"\x40\x02", 0) == (2, 2)
    assert ebml.read_size(b"\xff", 0) == (None, 1)  # all ones: unknown size
    assert ebml.read_size(UNKNOWN, 0) == (None, 8)
    assert ebml.read_size(b"\x01\x00\x00\x00\x00\x00\x01\x00", 0) == (256, 8)
    with pytest.raises(ValueError):
        ebml.read_size(b"\x00", 0)
    with pytest.raises(IndexError):
        ebml.read_size(b"\x10\x00", 0)  # a 4-byte varint cut short


def test_ids_keep_their_marker_bits() -> None:
    assert ebml.read_id(bytes.fromhex("1a45dfa3"), 0) == (ebml.EBML, 4)
    assert ebml.read_id(b"\xa3", 0) == (ebml.SIMPLE_BLOCK, 1)
    with pytest.raises(ValueError):
        ebml.read_id(b"\x08\x00\x00\x00\x00", 0)  # 5-byte IDs do not exist


def test_header_facts() -> None:
    segment_body = info() + tracks() + cluster(0, [(1, 0)])
    facts = parse_bytes(header() + el(ebml.SEGMENT, segment_body))
    assert facts.container == "matroska,webm"
    assert facts.status is ProbeStatus.OK
    assert facts.duration_s == pytest.approx(7200.0)
    assert facts.video is not None
    assert (facts.video.codec, facts.video.width, facts.video.height) == ("vp9", 1920, 1080)
    assert facts.video.frame_rate == pytest.approx(25.0)
    assert [(a.codec, a.channels, a.sample_rate, a.language) for a in facts.audio] == [
        ("pcm_s24le", 6, 48000, "ger")
    ]
    assert facts.subtitle_count == 1
    assert facts.creation_time == "2001-01-02T00:00:00.000000Z"


def test_segment_past_the_end_is_truncated_but_keeps_duration() -> None:
    segment_body = info() + tracks() + cluster(0, [(1, 0)])
    whole = header() + el(ebml.SEGMENT, segment_body + b"\0" * 10_000)
    facts = parse_bytes(whole[: len(whole) - 5_000])
    assert facts.status is ProbeStatus.TRUNCATED
    assert facts.duration_s == pytest.approx(7200.0)


def test_live_file_duration_from_last_cluster() -> None:
    clusters = cluster(0, [(1, 0), (1, 40)]) + cluster(5000, [(1, 0), (2, 10), (1, 960)])
    live = cluster(10_000, [(1, 0), (1, 40), (2, 60), (1, 80)], crc=True)
    body = info(duration_ms=None) + tracks() + clusters + live
    facts = parse_bytes(header() + el(ebml.SEGMENT, body, size=UNKNOWN))
    assert facts.status is ProbeStatus.INCOMPLETE
    # last block at 10.080 s plus one frame of the video track's DefaultDuration
    assert facts.duration_s == pytest.approx(10.12)


def test_live_cluster_with_unknown_size() -> None:
    last = el(
        ebml.CLUSTER,
        uint(ebml.CLUSTER_TIMESTAMP, 2000) + el(ebml.SIMPLE_BLOCK, b"\x81\x01\xf4\x80zz"),
        size=b"\xff",
    )
    body = info(duration_ms=None) + tracks(default_duration=None) + cluster(0, [(1, 0)]) + last
    facts = parse_bytes(header() + el(ebml.SEGMENT, body, size=UNKNOWN))
    assert facts.duration_s == pytest.approx(2.5)


def test_frame_rate_from_first_cluster_without_default_duration() -> None:
    blocks = [(1, 0), (1, 80), (2, 0), (1, 40), (1, 120), (1, 160)]  # B-frame order
    body = info() + tracks(default_duration=None) + cluster(0, blocks)
    facts = parse_bytes(header() + el(ebml.SEGMENT, body))
    assert facts.video is not None
    assert facts.video.frame_rate == pytest.approx(25.0)


def test_seekhead_points_to_tracks_after_the_clusters() -> None:
    first = info() + cluster(0, [(1, 0)])
    seek_entry = el(
        ebml.SEEK,
        el(ebml.SEEK_ID, ebml.TRACKS.to_bytes(4, "big")) + uint(ebml.SEEK_POSITION, 0),
    )
    seekhead = el(ebml.SEEKHEAD, seek_entry)
    offset = len(seekhead) + len(first)  # Tracks position relative to the Segment data
    seek_entry = el(
        ebml.SEEK,
        el(ebml.SEEK_ID, ebml.TRACKS.to_bytes(4, "big")) + uint(ebml.SEEK_POSITION, offset),
    )
    seekhead_fixed = el(ebml.SEEKHEAD, seek_entry)
    assert len(seekhead_fixed) == len(seekhead)
    facts = parse_bytes(header() + el(ebml.SEGMENT, seekhead_fixed + first + tracks()))
    assert facts.video is not None and facts.video.codec == "vp9"


@pytest.mark.parametrize(
    "data",
    [b"", b"\x1a\x45\xdf\xa3", header(b"notmkv") + el(ebml.SEGMENT, b""), header() + b"junk!!!"],
)
def test_nonsense_is_a_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError):
        parse_bytes(data)


def test_budget_is_respected() -> None:
    void = el(ebml.VOID, b"\0" * 300_000)
    body = info(duration_ms=None) + tracks() + cluster(0, [(1, 0)]) + void
    data = header() + el(ebml.SEGMENT, body, size=UNKNOWN)
    with pytest.raises(BudgetExceeded):
        mkv.parse(CountingReader.for_bytes(data, budget=32 * 1024))


@pytest.mark.parametrize(
    "name",
    [
        "mkv",
        "mkv_live",
        "mkv_truncated",
        "webm",
        "mkv_interlaced",
        "webm_vp9_10bit",
        "mkv_timecode",
    ],
)
def test_corpus_accuracy(name: str, corpus: dict[str, Path]) -> None:
    problems, read = accuracy(name, mkv.parse, corpus)
    assert problems == []
    assert read <= 256 * 1024


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_never_crash(data: bytes) -> None:
    robust(mkv.parse, header() + data)
    robust(mkv.parse, data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_files_never_crash(corpus: dict[str, Path], data: st.DataObject) -> None:
    seed = head_and_tail(corpus[data.draw(st.sampled_from(["mkv", "mkv_live", "webm"]))])
    robust(mkv.parse, data.draw(mutations(seed)), budget=128 * 1024)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(budget=st.integers(0, 256 * 1024))
def test_any_budget_is_respected(corpus: dict[str, Path], budget: int) -> None:
    robust(mkv.parse, corpus["mkv_live"].read_bytes(), budget=budget)
