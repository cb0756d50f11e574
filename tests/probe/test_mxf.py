"""MXF parser: BER lengths, hand-built partitions and metadata, corpus accuracy, robustness."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive_analyzer.errors import ParseError
from archive_analyzer.probe import mxf
from archive_analyzer.probe.reader import CountingReader
from archive_analyzer.probe.result import ProbeStatus
from tests.probe.parser_checks import accuracy, head_and_tail, mutations, robust

PICTURE_DD = bytes.fromhex("060e2b34040101010103020201000000")
SOUND_DD = bytes.fromhex("060e2b34040101010103020202000000")
MPEG2_422P_HL = bytes.fromhex("060e2b34040101030401020201040200")
BWF_CONTAINER = bytes.fromhex("060e2b34040101010d01030102060100")
UNKNOWN_DURATION = -1


def ber(n: int) -> bytes:
    return b"\x83" + n.to_bytes(3, "big")


def klv(key: bytes, value: bytes) -> bytes:
    return key + ber(len(value)) + value


def uid(n: int) -> bytes:
    return n.to_bytes(16, "big")


def batch(*refs: bytes) -> bytes:
    return struct.pack(">II", len(refs), 16) + b"".join(refs)


def local_set(kind: int, n: int, items: dict[int, bytes]) -> bytes:
    body = struct.pack(">HH", 0x3C0A, 16) + uid(n)
    for tag, value in items.items():
        body += struct.pack(">HH", tag, len(value)) + value
    return klv(mxf._SET + bytes([kind >> 8, kind & 0xFF, 0]), body)


def partition(kind: int, status: int, *, this: int, footer: int, header: int, index: int) -> bytes:
    value = struct.pack(">HHIQQQQQIQI", 1, 3, 1, this, 0, footer, header, index, 0, 0, 1)
    value += bytes(16) + struct.pack(">II", 0, 16)
    return klv(mxf._PARTITION + bytes([kind, status, 0]), value)


def metadata(duration: int, picture: dict[int, bytes] | None = None) -> bytes:
    i64 = struct.Struct(">q").pack
    sets = [
        klv(mxf._PRIMER, struct.pack(">II", 0, 18)),
        local_set(0x0136, 1, {0x4403: batch(uid(2), uid(5))}),
        local_set(
            0x013B,
            2,
            {0x4801: struct.pack(">I", 1), 0x4B01: struct.pack(">ii", 25, 1), 0x4803: uid(3)},
        ),
        local_set(0x010F, 3, {0x0201: PICTURE_DD, 0x0202: i64(duration), 0x1001: batch(uid(4))}),
        local_set(0x0111, 4, {0x1102: struct.pack(">I", 2)}),
        local_set(
            0x013B,
            5,
            {0x4801: struct.pack(">I", 2), 0x4B01: struct.pack(">ii", 25, 1), 0x4803: uid(6)},
        ),
        local_set(0x010F, 6, {0x0201: SOUND_DD, 0x0202: i64(duration), 0x1001: batch(uid(7))}),
        local_set(0x0111, 7, {0x1102: struct.pack(">I", 3)}),
        local_set(
            0x0128,
            8,
            {
                0x3006: struct.pack(">I", 2),
                0x3001: struct.pack(">ii", 25, 1),
                0x3201: MPEG2_422P_HL,
                0x3203: struct.pack(">I", 1920),
                0x3202: struct.pack(">I", 540),
                0x320C: b"\x01",  # separate fields: the stored height is a field's
                **(picture or {}),
            },
        ),
        local_set(
            0x0148,
            9,
            {
                0x3006: struct.pack(">I", 3),
                0x3004: BWF_CONTAINER,
                0x3D03: struct.pack(">ii", 48000, 1),
                0x3D07: struct.pack(">I", 2),
                0x3D01: struct.pack(">I", 24),
            },
        ),
    ]
    return b"".join(sets)


def index_segment(start: int, duration: int) -> bytes:
    items = struct.pack(">HH", 0x3F0B, 8) + struct.pack(">ii", 25, 1)
    items += struct.pack(">HH", 0x3F0C, 8) + struct.pack(">q", start)
    items += struct.pack(">HH", 0x3F0D, 8) + struct.pack(">q", duration)
    items += struct.pack(">HH", 0x3F0A, 4) + b"\0\0\0\0"
    return klv(mxf._INDEX_SEGMENT, items)


def build(
    *,
    status: int,
    duration: int,
    footer_at: int | None = None,
    rip: bool = True,
    picture: dict[int, bytes] | None = None,
) -> bytes:
    meta = metadata(duration, picture)
    pack_len = len(partition(2, status, this=0, footer=0, header=0, index=0))
    body = b"\0" * 5000  # stands in for the essence
    footer_offset = pack_len + len(meta) + len(body)
    declared = footer_offset if footer_at is None else footer_at
    head = partition(
        2, status, this=0, footer=declared if status == 4 else 0, header=len(meta), index=0
    )
    index = index_segment(0, 250) + index_segment(250, 250)
    foot = partition(4, 4, this=footer_offset, footer=footer_offset, header=0, index=len(index))
    data = head + meta + body + foot + index
    if rip:
        entries = struct.pack(">IQ", 0, 0) + struct.pack(">IQ", 0, footer_offset)
        rip_len = 16 + 4 + len(entries) + 4
        data += klv(mxf._RIP, entries + struct.pack(">I", rip_len))
    return data


def parse_bytes(data: bytes) -> mxf.Facts:
    return mxf.parse(CountingReader.for_bytes(data))


def test_ber_lengths() -> None:
    assert mxf._ber(b"\x7f", 0) == (127, 1)
    assert mxf._ber(b"\x83\x00\x01\x00", 0) == (256, 4)
    assert mxf._ber(b"\x88" + (2**40).to_bytes(8, "big"), 0) == (2**40, 9)
    with pytest.raises(ValueError):
        mxf._ber(b"\x80", 0)  # indefinite length is not allowed in MXF
    with pytest.raises(ValueError):
        mxf._ber(b"\x84\x00", 0)  # cut short


def test_closed_header() -> None:
    facts = parse_bytes(build(status=4, duration=250))
    assert (facts.container, facts.status) == ("mxf", ProbeStatus.OK)
    assert facts.duration_s == pytest.approx(10.0)
    assert facts.video is not None
    video = facts.video
    assert (video.codec, video.width, video.height, video.frame_rate) == (
        "mpeg2video",
        1920,
        1080,
        25.0,
    )
    assert [(a.codec, a.channels, a.sample_rate) for a in facts.audio] == [("pcm_s24le", 2, 48000)]


@pytest.mark.parametrize(
    ("picture", "field_order"),
    [
        ({}, None),  # separate fields, no line map: the essence decides (none here)
        ({0x320D: struct.pack(">IIii", 2, 4, 21, 584)}, "tt"),  # 1080i: field 1 on top
        ({0x320D: struct.pack(">IIii", 2, 4, 21, 584), 0x3212: b"\x02"}, "tb"),
        ({0x320D: struct.pack(">IIii", 2, 4, 22, 584)}, "bb"),
        ({0x320C: b"\x00"}, "progressive"),  # full frame
    ],
)
def test_field_order_from_the_descriptor(
    picture: dict[int, bytes], field_order: str | None
) -> None:
    facts = parse_bytes(build(status=4, duration=250, picture=picture))
    assert facts.video is not None and facts.video.field_order == field_order


def test_open_header_follows_rip_to_footer_index() -> None:
    facts = parse_bytes(build(status=1, duration=UNKNOWN_DURATION))
    assert facts.status is ProbeStatus.INCOMPLETE
    assert facts.duration_s == pytest.approx(20.0)  # two index segments of 250 frames
    assert facts.video is not None and facts.video.codec == "mpeg2video"


def test_open_header_without_footer_is_incomplete_without_duration() -> None:
    data = build(status=1, duration=UNKNOWN_DURATION, rip=False)
    facts = parse_bytes(data[:6000])
    assert facts.status is ProbeStatus.INCOMPLETE
    assert facts.duration_s is None


def test_footer_beyond_the_end_is_truncated() -> None:
    data = build(status=4, duration=250)
    facts = parse_bytes(data[:4000])
    assert facts.status is ProbeStatus.TRUNCATED
    assert facts.duration_s == pytest.approx(10.0)


def test_run_in_before_the_header_partition() -> None:
    facts = parse_bytes(b"\0" * 1000 + build(status=4, duration=250))
    assert facts.duration_s == pytest.approx(10.0)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x06\x0e\x2b\x34" * 8, partition(3, 4, this=0, footer=0, header=0, index=0)],
)
def test_nonsense_is_a_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError):
        parse_bytes(data)


@pytest.mark.parametrize(
    "name",
    [
        "mxf_closed",
        "mxf_open",
        "mxf_truncated",
        "mxf_interlaced",
        "mxf_dnxhr",
        "mxf_avc_intra",
        "mxf_timecode",
        "mxf_dropframe",
    ],
)
def test_corpus_accuracy(name: str, corpus: dict[str, Path]) -> None:
    problems, read = accuracy(name, mxf.parse, corpus)
    assert problems == []
    assert read <= 64 * 1024


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_never_crash(data: bytes) -> None:
    robust(mxf.parse, data)
    robust(mxf.parse, partition(2, 1, this=0, footer=0, header=len(data), index=0) + data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_files_never_crash(corpus: dict[str, Path], data: st.DataObject) -> None:
    seed = head_and_tail(corpus[data.draw(st.sampled_from(["mxf_closed", "mxf_open"]))], 16384)
    robust(mxf.parse, data.draw(mutations(seed)), budget=128 * 1024)


def test_hand_built_file_mutations_never_crash() -> None:
    seed = build(status=1, duration=UNKNOWN_DURATION)

    @settings(max_examples=150, deadline=None)
    @given(mutations(seed))
    def run(data: bytes) -> None:
        robust(mxf.parse, data)

    run()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(budget=st.integers(0, 256 * 1024))
def test_any_budget_is_respected(corpus: dict[str, Path], budget: int) -> None:
    robust(mxf.parse, corpus["mxf_open"].read_bytes(), budget=budget)


def test_system_item_timecode_without_a_timecode_track(corpus: dict[str, Path]) -> None:
    """Files whose header has no timecode component: the first system item's SMPTE 12M
    stamp gives the start (here the corpus file with its Timecode Component sets renamed)."""
    data = corpus["mxf_dropframe"].read_bytes()
    component = bytes.fromhex("060e2b34025301010d01010101011400")
    assert component in data
    facts = parse_bytes(data.replace(component, component[:14] + b"\x7f\x00"))
    assert facts.timecode == "10:00:00;00"
