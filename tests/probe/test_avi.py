"""AVI parser: hand-built RIFF headers (OpenDML, truncation), corpus accuracy, robustness."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive_analyzer.errors import ParseError
from archive_analyzer.probe import avi, riff
from archive_analyzer.probe.reader import CountingReader
from archive_analyzer.probe.result import ProbeStatus
from tests.probe.parser_checks import accuracy, head_and_tail, mutations, robust


def chunk(fourcc: bytes, body: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b"")


def lst(kind: bytes, *chunks: bytes) -> bytes:
    return chunk(b"LIST", kind + b"".join(chunks))


def strh(kind: bytes, scale: int, rate: int, length: int, sample_size: int = 0) -> bytes:
    body = kind + b"\0\0\0\0" + struct.pack("<IHHI", 0, 0, 0, 0)
    body += struct.pack("<IIIIIII", scale, rate, 0, length, 0, 0, sample_size) + bytes(8)
    return chunk(b"strh", body)


def bitmapinfo(fourcc: bytes, width: int, height: int) -> bytes:
    return chunk(b"strf", struct.pack("<IiiHH", 40, width, height, 1, 24) + fourcc + bytes(20))


def waveformat(tag: int, channels: int, rate: int, bits: int) -> bytes:
    return chunk(b"strf", struct.pack("<HHIIHHH", tag, channels, rate, 0, 1, bits, 0))


def build(*, video_frames: int, total_frames: int | None = None, riff_extra: int = 0) -> bytes:
    avih = chunk(
        b"avih",
        struct.pack("<IIIIIIIIII", 40_000, 0, 0, 0, video_frames, 0, 2, 0, 1920, 1080) + bytes(16),
    )
    video = lst(b"strl", strh(b"vids", 1, 25, video_frames), bitmapinfo(b"H264", 1920, 1080))
    audio = lst(b"strl", strh(b"auds", 1152, 48000, 0), waveformat(0x55, 2, 48000, 0))
    pcm = lst(b"strl", strh(b"auds", 1, 48000, 10**9, 4), waveformat(1, 2, 48000, 16))
    parts = [avih, video, audio, pcm]
    if total_frames is not None:
        parts.append(lst(b"odml", chunk(b"dmlh", struct.pack("<I", total_frames) + bytes(244))))
    body = b"AVI " + lst(b"hdrl", *parts) + lst(b"movi", chunk(b"00dc", b"frame"))
    return b"RIFF" + struct.pack("<I", len(body) + riff_extra) + body


def parse_bytes(data: bytes) -> avi.Facts:
    return avi.parse(CountingReader.for_bytes(data))


def test_header_facts() -> None:
    facts = parse_bytes(build(video_frames=250))
    assert (facts.container, facts.status) == ("avi", ProbeStatus.OK)
    assert facts.duration_s == pytest.approx(10.0)  # constant-rate PCM's length is ignored
    assert facts.video is not None
    video = facts.video
    assert (video.codec, video.width, video.height, video.frame_rate) == ("h264", 1920, 1080, 25)
    assert [(a.codec, a.channels, a.sample_rate) for a in facts.audio] == [
        ("mp3", 2, 48000),
        ("pcm_s16le", 2, 48000),
    ]


def test_opendml_total_frames_override_the_first_riff() -> None:
    facts = parse_bytes(build(video_frames=20_000, total_frames=90_000))
    assert facts.duration_s == pytest.approx(3600.0)


def test_riff_past_the_end_is_truncated() -> None:
    assert parse_bytes(build(video_frames=25, riff_extra=10**6)).status is ProbeStatus.TRUNCATED


def test_codec_tags() -> None:
    assert riff.video_codec(b"XVID") == "mpeg4"
    assert riff.video_codec(b"FMP4") == "mpeg4"
    assert riff.video_codec(b"dvsd") == "dvvideo"
    assert riff.audio_codec(0x0001, 24) == "pcm_s24le"
    assert riff.audio_codec(0x0003, 32) == "pcm_f32le"
    assert riff.audio_codec(0x2000, 0) == "ac3"
    ks_pcm = b"\x01\x00" + bytes.fromhex("000000001000800000aa00389b71")
    assert riff.audio_codec(0xFFFE, 24, ks_pcm) == "pcm_s24le"


@pytest.mark.parametrize("data", [b"", b"RIFF\0\0\0\0AVI ", b"RIFF\xff\xff\xff\xffWAVEfmt "])
def test_nonsense_is_a_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError):
        parse_bytes(data)


def test_corpus_accuracy(corpus: dict[str, Path]) -> None:
    problems, read = accuracy("avi", avi.parse, corpus)
    assert problems == []
    assert read <= 64 * 1024


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_never_crash(data: bytes) -> None:
    robust(avi.parse, data)
    robust(avi.parse, b"RIFF" + struct.pack("<I", len(data) + 4) + b"AVI " + data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_files_never_crash(corpus: dict[str, Path], data: st.DataObject) -> None:
    seed = head_and_tail(corpus["avi"], 8192)
    robust(avi.parse, data.draw(mutations(seed)), budget=64 * 1024)
    robust(avi.parse, data.draw(mutations(build(video_frames=9, total_frames=99))))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(budget=st.integers(0, 256 * 1024))
def test_any_budget_is_respected(corpus: dict[str, Path], budget: int) -> None:
    robust(avi.parse, corpus["avi"].read_bytes(), budget=budget)
