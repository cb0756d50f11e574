"""ASF / WMV parser: hand-built header and data packets, corpus accuracy, robustness."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive_analyzer.errors import ParseError
from archive_analyzer.probe import asf
from archive_analyzer.probe.reader import CountingReader
from archive_analyzer.probe.result import ProbeStatus
from tests.probe.parser_checks import accuracy, head_and_tail, mutations, robust

PACKET = 512
NO_CORRECTION = asf._guid("20FB5700-5B55-11CF-A8FD-00805F5C442B")


def obj(guid: bytes, body: bytes) -> bytes:
    return guid + struct.pack("<Q", 24 + len(body)) + body


def file_properties(declared: int, play_100ns: int, preroll_ms: int) -> bytes:
    body = bytes(16) + struct.pack(
        "<QQQQQQIIII", declared, 0, 0, play_100ns, 0, preroll_ms, 2, PACKET, PACKET, 0
    )
    return obj(asf.FILE_PROPERTIES, body)


def stream_properties(number: int, kind: bytes, specific: bytes) -> bytes:
    body = kind + NO_CORRECTION + struct.pack("<QIIHI", 0, len(specific), 0, number, 0) + specific
    return obj(asf.STREAM_PROPERTIES, body)


def video_specific(fourcc: bytes, width: int, height: int) -> bytes:
    bih = struct.pack("<IiiHH", 40, width, height, 1, 24) + fourcc + bytes(20)
    return struct.pack("<IIBH", width, height, 2, len(bih)) + bih


def audio_specific(tag: int, channels: int, rate: int) -> bytes:
    return struct.pack("<HHIIHHH", tag, channels, rate, 8000, 2048, 16, 0)


def extension(number: int, per_frame_100ns: int) -> bytes:
    ext = struct.pack("<QQIIIIIIII", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    ext += struct.pack("<HHQHH", number, 0, per_frame_100ns, 0, 0)
    inner = obj(asf.EXTENDED_STREAM_PROPERTIES, ext)
    return obj(asf.HEADER_EXTENSION, bytes(16) + struct.pack("<HI", 6, len(inner)) + inner)


def packet(stream: int, pres_ms: int) -> bytes:
    """A single-payload data packet carrying the start of one media object."""
    data = b"\x82\x00\x00"  # error correction present, 2 bytes
    data += bytes([0x00, 0x5D])  # no packet/sequence/padding lengths; byte/dword/byte fields
    data += struct.pack("<IH", pres_ms, 40)
    data += bytes([0x80 | stream, 1]) + struct.pack("<I", 0) + bytes([8])
    data += struct.pack("<II", 1000, pres_ms)
    return data + b"\0" * (PACKET - len(data))


def build(*, ext_rate: int | None = None, frames: int = 30, declared_extra: int = 0) -> bytes:
    objects = [
        file_properties(0, 10 * 10**7 + 3_100 * 10**4, 3_100),
        stream_properties(1, asf.VIDEO_MEDIA, video_specific(b"WMV2", 720, 576)),
        stream_properties(2, asf.AUDIO_MEDIA, audio_specific(0x161, 2, 44100)),
    ]
    if ext_rate is not None:
        objects.append(extension(1, ext_rate))
    body = b"".join(objects)
    header = asf.HEADER + struct.pack("<QIBB", 30 + len(body), len(objects), 1, 2) + body
    packets = b"".join(packet(1, 3100 + 40 * i) for i in range(frames))
    data_obj = asf.DATA + struct.pack("<Q", 50 + len(packets)) + bytes(16)
    data_obj += struct.pack("<QH", frames, 0x0101) + packets
    whole = header + data_obj
    declared = len(whole) + declared_extra
    return whole.replace(
        file_properties(0, 10 * 10**7 + 3_100 * 10**4, 3_100),
        file_properties(declared, 10 * 10**7 + 3_100 * 10**4, 3_100),
    )


def parse_bytes(data: bytes) -> asf.Facts:
    return asf.parse(CountingReader.for_bytes(data))


def test_header_facts_and_frame_rate_from_packets() -> None:
    facts = parse_bytes(build())
    assert (facts.container, facts.status) == ("asf", ProbeStatus.OK)
    assert facts.duration_s == pytest.approx(10.0)  # play duration minus the preroll
    assert facts.video is not None
    video = facts.video
    assert (video.codec, video.width, video.height) == ("wmv2", 720, 576)
    assert video.frame_rate == pytest.approx(25.0)
    assert [(a.codec, a.channels, a.sample_rate) for a in facts.audio] == [("wmav2", 2, 44100)]


def test_frame_rate_from_extended_stream_properties() -> None:
    facts = parse_bytes(build(ext_rate=333_667, frames=0))
    assert facts.video is not None
    assert facts.video.frame_rate == pytest.approx(29.97, rel=1e-3)


def test_shorter_than_declared_is_truncated() -> None:
    assert parse_bytes(build(declared_extra=10**6)).status is ProbeStatus.TRUNCATED


@pytest.mark.parametrize("data", [b"", asf.HEADER, asf.HEADER + struct.pack("<Q", 10**9)])
def test_nonsense_is_a_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError):
        parse_bytes(data + bytes(8))


def test_corpus_accuracy(corpus: dict[str, Path]) -> None:
    problems, read = accuracy("wmv", asf.parse, corpus)
    assert problems == []
    assert read <= 64 * 1024


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_never_crash(data: bytes) -> None:
    robust(asf.parse, data)
    robust(asf.parse, asf.HEADER + struct.pack("<QIBB", 30 + len(data), 9, 1, 2) + data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_files_never_crash(corpus: dict[str, Path], data: st.DataObject) -> None:
    seed = head_and_tail(corpus["wmv"], 16384)
    robust(asf.parse, data.draw(mutations(seed)), budget=64 * 1024)
    robust(asf.parse, data.draw(mutations(build(frames=12))))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(budget=st.integers(0, 256 * 1024))
def test_any_budget_is_respected(corpus: dict[str, Path], budget: int) -> None:
    robust(asf.parse, corpus["wmv"].read_bytes(), budget=budget)
