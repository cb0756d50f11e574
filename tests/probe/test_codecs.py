"""Codec configuration records -> ffprobe's profile, pix_fmt, size, channels, rate."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from archive_analyzer.probe.codecs import VideoConfig, aac_from_asc, hevc_from_hvcc
from archive_analyzer.probe.h264 import from_avcc, parse_sps, profile_name

# avcC of a 1920x1080 x264 High-profile stream (coded 1920x1088, cropped by the SPS).
AVCC_1080P = bytes.fromhex(
    "01640028ffe1001b67640028acd940780227e5c044000003000400000300c83c60c65801000468efbcb0fdf8f800"
)
# The first 23 bytes of an x265 Main-profile hvcC (4:2:0, 8 bit).
HVCC_MAIN = bytes.fromhex("0101600000009000000000001ef000fcfdf8f800000f04")


def test_h264_sps_with_cropping() -> None:
    config = from_avcc(AVCC_1080P)
    assert (config.profile, config.pix_fmt) == ("High", "yuv420p")
    assert (config.width, config.height, config.field_order) == (1920, 1080, "progressive")


# x264 SPS of a 160x90 High-profile stream with VUI timing (25 fps).
SPS_160x90 = bytes.fromhex("6764000bacd9428df93011000003000100000300320f142996")


def _avcc(sps: bytes) -> bytes:
    """An avcC record holding one SPS (and no PPS)."""
    return bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]) + len(sps).to_bytes(2, "big") + sps


def test_one_sps_parser_for_records_and_streams() -> None:
    timed = parse_sps(SPS_160x90, vui=True)
    assert timed is not None
    assert (timed.profile, timed.pix_fmt, timed.width, timed.height) == ("High", "yuv420p", 160, 90)
    assert (timed.field_order, timed.frame_rate) == ("progressive", 25.0)
    assert timed.config() == VideoConfig("High", "yuv420p", 160, 90, "progressive", 25.0)
    # a record's SPS: the same facts, without the VUI
    record = VideoConfig("High", "yuv420p", 160, 90, "progressive", None)
    assert from_avcc(_avcc(SPS_160x90)) == record
    # cut inside the VUI: the stream parser waits for more bytes, a record keeps the rest
    cut = SPS_160x90[:14]
    assert parse_sps(cut, vui=True) is None
    assert from_avcc(_avcc(cut)).width == 160
    # not an SPS at all (a PPS): nothing
    assert parse_sps(b"\x68" + SPS_160x90[1:]) is None


def test_h264_profile_names() -> None:
    assert profile_name(66, 0x40) == "Constrained Baseline"
    assert profile_name(66, 0) == "Baseline"
    assert profile_name(122, 0x10) == "High 4:2:2 Intra"
    assert profile_name(110, 0) == "High 10"
    assert profile_name(1, 0) is None


def test_hevc() -> None:
    config = hevc_from_hvcc(HVCC_MAIN)
    assert (config.profile, config.pix_fmt) == ("Main", "yuv420p")
    ten_bit = bytearray(HVCC_MAIN)
    ten_bit[1] = 0x02
    ten_bit[17] = 0xFA  # bitDepthLumaMinus8 = 2
    assert hevc_from_hvcc(bytes(ten_bit)).pix_fmt == "yuv420p10le"
    assert hevc_from_hvcc(bytes(ten_bit)).profile == "Main 10"


def test_aac() -> None:
    lc = aac_from_asc(bytes([0x11, 0x90]))  # LC, 48 kHz, stereo
    assert (lc.profile, lc.sample_rate, lc.channels) == ("LC", 48000, 2)
    surround = aac_from_asc(bytes([0x11, 0xB0]))  # LC, 48 kHz, 5.1
    assert surround.channels == 6
    he = aac_from_asc(bytes([0x2B, 0x11, 0x88, 0x00]))  # HE-AAC: 24 kHz core, 48 kHz output
    assert (he.profile, he.sample_rate, he.channels) == ("HE-AAC", 48000, 2)


@given(st.binary(max_size=64))
def test_random_records_never_raise(data: bytes) -> None:
    parse_sps(data, vui=True)
    from_avcc(data)
    hevc_from_hvcc(data)
    aac_from_asc(data)
