"""MPEG-TS / M2TS / MPEG-PS parsers and the elementary-stream headers they rely on."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive_analyzer.errors import ParseError
from archive_analyzer.probe import elementary, h264, pes, ts
from archive_analyzer.probe.reader import CountingReader
from archive_analyzer.probe.result import ProbeStatus
from tests.fixtures.corpus import adts_frame
from tests.probe.parser_checks import accuracy, head_and_tail, mutations, robust

# x264's SPS for 160x90 (cropped from 160x96), High profile, 25 fps timing info.
SPS_160x90 = bytes.fromhex("6764000bacd9428df93011000003000100000300320f142996")
ADTS_48K_STEREO = bytes.fromhex("fff14c8000ff fc".replace(" ", "")) + b"\0" * 16
MP2_48K_MONO = bytes.fromhex("fffdc4c0") + b"\0" * 16
AC3_48K_51 = bytes.fromhex("0b770000104 0e1".replace(" ", "")) + b"\0" * 16
WRAP = 1 << 33


def encode_pts(pts: int) -> bytes:
    pts %= WRAP
    return bytes(
        [
            0x21 | ((pts >> 29) & 0x0E),
            (pts >> 22) & 0xFF,
            ((pts >> 14) & 0xFE) | 1,
            (pts >> 7) & 0xFF,
            ((pts << 1) & 0xFE) | 1,
        ]
    )


def pes_packet(stream_id: int, pts: int | None, payload: bytes) -> bytes:
    if pts is None:
        return b"\x00\x00\x01" + bytes([stream_id, 0, 0, 0x80, 0x00, 0]) + payload
    return b"\x00\x00\x01" + bytes([stream_id, 0, 0, 0x80, 0x80, 5]) + encode_pts(pts) + payload


def ts_packet(pid: int, payload: bytes, *, pusi: bool) -> bytes:
    """One 188-byte packet; short payloads are padded with adaptation-field stuffing."""
    payload = payload[:184]
    head = bytes([0x47, (0x40 if pusi else 0) | (pid >> 8), pid & 0xFF])
    if len(payload) == 184:
        return head + b"\x10" + payload
    stuffing = 183 - len(payload)
    field = bytes([stuffing]) + (b"\x00" + b"\xff" * (stuffing - 1) if stuffing else b"")
    return head + b"\x30" + field + payload


def section(table_id: int, ext: int, body: bytes) -> bytes:
    length = 5 + len(body) + 4
    head = bytes([table_id, 0xB0 | (length >> 8), length & 0xFF, ext >> 8, ext & 0xFF, 0xC1, 0, 0])
    return b"\x00" + head + body + b"\0\0\0\0"  # pointer field; the CRC is not checked


def pat() -> bytes:
    return ts_packet(0, section(0, 1, bytes([0, 1, 0xF0, 0x00])), pusi=True)


def pmt(streams: list[tuple[int, int, bytes]]) -> bytes:
    body = bytes([0xE1, 0x00, 0xF0, 0x00])
    for stream_type, pid, descriptors in streams:
        body += bytes([stream_type, 0xE0 | pid >> 8, pid & 0xFF, 0xF0, len(descriptors)])
        body += descriptors
    return ts_packet(0x1000, section(2, 1, body), pusi=True)


def lang(code: bytes) -> bytes:
    return bytes([0x0A, 4]) + code + b"\x00"


def transport_stream(first: int, last: int, *, filler: int = 0) -> bytes:
    """H.264 + AAC (eng) + MP2 (deu) with video PTS ``first`` in the head, ``last`` in the tail."""
    streams = [(0x1B, 0x100, b""), (0x0F, 0x101, lang(b"eng")), (0x03, 0x102, lang(b"deu"))]
    video = b"\x00\x00\x00\x01\x09\xf0\x00\x00\x00\x01" + SPS_160x90
    packets = [pat(), pmt(streams)]
    packets.append(ts_packet(0x100, pes_packet(0xE0, first, video), pusi=True))
    packets.append(ts_packet(0x101, pes_packet(0xC0, first, ADTS_48K_STEREO), pusi=True))
    packets.append(ts_packet(0x102, pes_packet(0xC1, first, MP2_48K_MONO), pusi=True))
    packets += [ts_packet(0x1FFF, b"\xff" * 184, pusi=False)] * filler
    packets.append(ts_packet(0x101, pes_packet(0xC0, last, ADTS_48K_STEREO), pusi=True))
    packets.append(ts_packet(0x100, pes_packet(0xE0, last, b"\x00\x00\x01\x09"), pusi=True))
    return b"".join(packets)


def parse_bytes(data: bytes) -> ts.Facts:
    return ts.parse(CountingReader.for_bytes(data))


def test_sps_size_crop_and_timing() -> None:
    found = h264.parse_sps(SPS_160x90, vui=True)
    assert found is not None and found.width == 160 and found.height == 90
    assert (found.frame_rate, found.profile, found.pix_fmt) == (25.0, "High", "yuv420p")
    assert found.field_order == "progressive"


def test_audio_headers() -> None:
    assert elementary.adts(ADTS_48K_STEREO) == elementary.AudioHeader("aac", 2, 48000)
    assert elementary.mpeg_audio(MP2_48K_MONO) == elementary.AudioHeader("mp2", 1, 48000)
    assert elementary.ac3(AC3_48K_51) == elementary.AudioHeader("ac3", 6, 48000)


def test_adts_implicit_sbr() -> None:
    """HE-AAC signalled implicitly: ADTS says LC at 24 kHz, the frames carry SBR data, and
    libavcodec (as ffprobe) reports the output rate."""

    def frames(channels: int, *, sbr: bool, sbr_header: bool = True, fill: int = 0) -> bytes:
        frame = adts_frame(channels, sbr=sbr, sbr_header=sbr_header, fill=fill)
        return frame * 3

    assert elementary.adts(frames(2, sbr=True)) == elementary.AudioHeader("aac", 2, 48000)
    # a mono core decodes with parametric stereo: two channels
    assert elementary.adts(frames(1, sbr=True)) == elementary.AudioHeader("aac", 2, 48000)
    padded = frames(2, sbr=True, sbr_header=False, fill=20)  # SBR without header, then fill
    assert elementary.adts(padded) == elementary.AudioHeader("aac", 2, 48000)
    assert elementary.adts(frames(2, sbr=False)) == elementary.AudioHeader("aac", 2, 24000)
    assert elementary.adts(frames(1, sbr=False, fill=3)) == elementary.AudioHeader("aac", 1, 24000)
    # a payload still arriving: wait for the first whole frame; else the header decides
    one = adts_frame(2, sbr=True)
    assert elementary.adts(one[:20], partial=True) is None
    assert elementary.adts(one, partial=True) == elementary.AudioHeader("aac", 2, 48000)
    assert elementary.adts(one[:20]) == elementary.AudioHeader("aac", 2, 24000)
    # a frame that does not decode: the header's values
    broken = one[:7] + bytes(len(one) - 7)
    assert elementary.adts(broken) == elementary.AudioHeader("aac", 2, 24000)


def latm_frame(object_type: int, rate_index: int, channels: int, ext_index: int = 0) -> bytes:
    bits = "0" + "0" + "1" + "000000" + "0000" + "000"  # new config, version 0, one program
    bits += f"{object_type:05b}{rate_index:04b}{channels:04b}"
    if object_type in (5, 29):
        bits += f"{ext_index:04b}"
    bits += "0" * (-len(bits) % 8)
    body = int(bits, 2).to_bytes(len(bits) // 8, "big") + b"\0" * 8
    return bytes([0x56, 0xE0 | (len(body) >> 8), len(body) & 0xFF]) + body


def test_latm_stream_mux_config() -> None:
    assert elementary.latm(latm_frame(2, 3, 2)) == elementary.AudioHeader("aac_latm", 2, 48000)
    # HE-AAC with explicit SBR: the decoder's output rate is the extension's
    he_aac = latm_frame(5, 6, 2, ext_index=3)
    assert elementary.latm(b"\x00junk" + he_aac) == elementary.AudioHeader("aac_latm", 2, 48000)
    he_aac_v2 = latm_frame(29, 6, 1, ext_index=3)
    assert elementary.latm(he_aac_v2) == elementary.AudioHeader("aac_latm", 2, 48000)


def test_mpeg2_sequence_header_and_extension() -> None:
    seq = bytes.fromhex("000001b3 2d0240 23 ffffe0 18".replace(" ", ""))
    ext = bytes.fromhex("000001b5 14 8a 00 01 00 00".replace(" ", ""))
    # Main profile, progressive sequence, 4:2:0
    assert elementary.mpeg2_sequence(seq + ext) == elementary.VideoHeader(
        "mpeg2video", 720, 576, 25.0, "Main", "yuv420p", "progressive"
    )
    assert elementary.mpeg2_sequence(seq + b"\0" * 8) == elementary.VideoHeader(
        "mpeg1video", 720, 576, 25.0, None, "yuv420p"
    )


def test_mpeg2_profile_chroma_and_field_order() -> None:
    seq = bytes.fromhex("000001b3 2d0240 23 ffffe0 18".replace(" ", ""))
    # 4:2:2 profile (escape 0x85), interlaced sequence, chroma_format 2
    ext = bytes.fromhex("000001b5 18 54 00 01 00 00".replace(" ", ""))
    picture = bytes.fromhex("00000100 0008 ffff f8".replace(" ", ""))

    def coding_ext(top_first: bool, progressive_frame: bool) -> bytes:
        flags = 0x80 if top_first else 0x00
        return bytes.fromhex("000001b5 8f ff f3") + bytes([flags, 0x80 if progressive_frame else 0])

    found = elementary.mpeg2_sequence(seq + ext + picture + coding_ext(True, False))
    assert found is not None
    assert (found.profile, found.pix_fmt, found.field_order) == ("4:2:2", "yuv422p", "tt")
    found = elementary.mpeg2_sequence(seq + ext + picture + coding_ext(False, False))
    assert found is not None and found.field_order == "bb"
    found = elementary.mpeg2_sequence(seq + ext + picture + coding_ext(False, True))
    assert found is not None and found.field_order == "progressive"
    # the picture's extension not read yet: the field order is unknown
    found = elementary.mpeg2_sequence(seq + ext + picture)
    assert found is not None and found.field_order is None


def test_mpeg4_visual_and_vp9_headers() -> None:
    simple = elementary.mpeg4_visual(b"\x00\x00\x01\xb0\x01\x00\x00\x01\xb5")
    assert simple is not None and (simple.profile, simple.pix_fmt) == ("Simple Profile", "yuv420p")
    asp = elementary.mpeg4_visual(b"\x00\x00\x01\xb0\xf5")
    assert asp is not None and asp.profile == "Advanced Simple Profile"
    assert elementary.mpeg4_visual(b"\x00\x00\x01\xb6\x00") is None
    # key frame headers: profile 0 (BT.601, 4:2:0), profile 1 4:4:4, profile 2 10-bit
    for header, expected in (
        ("824983420020", ("Profile 0", "yuv420p")),
        ("a24983420010", ("Profile 1", "yuv444p")),
        ("924983420008", ("Profile 2", "yuv420p10le")),
    ):
        found = elementary.vp9_frame(bytes.fromhex(header) + b"\0" * 8)
        assert found is not None and (found.profile, found.pix_fmt) == expected
    assert elementary.vp9_frame(bytes.fromhex("86") + b"\0" * 8) is None  # inter frame


def test_dnxhd_frame_header() -> None:
    def header(cid: int, depth_code: int, flags_2c: int = 0, kind: int = 1) -> bytes:
        h = bytearray(0x280)
        h[0:5] = bytes([0, 0, 0x02, 0x80, kind])
        h[0x21] = depth_code << 5
        h[0x28:0x2C] = cid.to_bytes(4, "big")
        h[0x2C] = flags_2c
        return b"KLV key and length" + bytes(h)

    found = elementary.dnxhd_frame(header(1235, 2))  # DNxHD 220x, 10 bit
    assert found is not None and (found.profile, found.pix_fmt) == ("DNXHD", "yuv422p10le")
    found = elementary.dnxhd_frame(header(1274, 1, kind=3))  # DNxHR LB
    assert found is not None and (found.profile, found.pix_fmt) == ("DNXHR LB", "yuv422p")
    found = elementary.dnxhd_frame(header(1270, 3, flags_2c=0x41, kind=3))  # 4:4:4, YCbCr
    assert found is not None and (found.profile, found.pix_fmt) == ("DNXHR 444", "yuv444p12le")
    found = elementary.dnxhd_frame(header(1270, 2, flags_2c=0x40, kind=3))  # 4:4:4 RGB
    assert found is not None and found.pix_fmt == "gbrp10le"
    assert elementary.dnxhd_frame(bytes(0x400)) is None


def test_emulation_prevention_is_removed() -> None:
    assert elementary.unescape(b"\x00\x00\x03\x01\x00\x00\x03") == b"\x00\x00\x01\x00\x00"


def test_pes_header_pts() -> None:
    pts = WRAP - 1
    assert pes.pes_header(pes_packet(0xE0, pts, b"xy")) == (0xE0, pts, 14)
    assert pes.pes_header(b"\x00\x00\x02" + b"\0" * 20) is None


def test_streams_languages_and_duration() -> None:
    facts = parse_bytes(transport_stream(90_000, 90_000 * 11, filler=20))
    assert (facts.container, facts.status) == ("mpegts", ProbeStatus.OK)
    assert facts.video is not None
    assert (facts.video.codec, facts.video.width, facts.video.height) == ("h264", 160, 90)
    assert facts.video.frame_rate == pytest.approx(25.0)
    assert [(a.codec, a.channels, a.sample_rate, a.language) for a in facts.audio] == [
        ("aac", 2, 48000, "eng"),
        ("mp2", 1, 48000, "deu"),
    ]
    assert facts.duration_s == pytest.approx(10.04)  # plus one video frame, as libavformat


def test_pts_wrap_at_33_bits() -> None:
    first = WRAP - 90_000  # one second before the 26.5-hour wrap
    facts = parse_bytes(transport_stream(first, 9 * 90_000, filler=20))
    assert facts.duration_s == pytest.approx(10.04)


def test_m2ts_packets_with_timestamp_prefix() -> None:
    plain = transport_stream(90_000, 90_000 * 6, filler=5)
    m2ts = b"".join(b"\x00\x00\x00\x00" + plain[i : i + 188] for i in range(0, len(plain), 188))
    facts = parse_bytes(m2ts)
    assert facts.container == "mpegts"
    assert facts.duration_s == pytest.approx(5.04)
    assert [a.codec for a in facts.audio] == ["aac", "mp2"]


def test_cut_last_packet_is_truncated() -> None:
    data = transport_stream(90_000, 90_000 * 6, filler=5)
    assert parse_bytes(data[:-100]).status is ProbeStatus.TRUNCATED


def test_program_stream() -> None:
    pack = bytes.fromhex("000001ba 4400040004 01 0189c3 f8".replace(" ", ""))
    seq = bytes.fromhex("000001b3 2d0240 23 ffffe0 18 000001b5 148a00010000".replace(" ", ""))

    def packet(stream_id: int, pts: int, payload: bytes) -> bytes:
        body = pes_packet(stream_id, pts, payload)[6:]
        return b"\x00\x00\x01" + bytes([stream_id]) + len(body).to_bytes(2, "big") + body

    head = pack + packet(0xE0, 45_000, seq) + pack + packet(0xC0, 45_000, MP2_48K_MONO)
    filler = (pack + packet(0xBE, 0, b"\xff" * 64)) * 20  # padding stream packets
    tail = pack + packet(0xE0, 45_000 + 90_000 * 30, b"\0" * 8)
    facts = parse_bytes(head + filler + tail)
    assert (facts.container, facts.format_long_name) == ("mpeg", "MPEG-PS (MPEG-2 Program Stream)")
    assert facts.video is not None
    assert (facts.video.codec, facts.video.width, facts.video.height) == ("mpeg2video", 720, 576)
    assert [(a.codec, a.channels, a.sample_rate) for a in facts.audio] == [("mp2", 1, 48000)]
    assert facts.duration_s == pytest.approx(30.04)


@pytest.mark.parametrize("data", [b"", b"\x47" * 10, bytes(188 * 4), b"\x47" + bytes(187) * 3])
def test_nonsense_is_a_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError):
        parse_bytes(data)


@pytest.mark.parametrize(
    "name",
    [
        "ts_2audio",
        "m2ts",
        "vob",
        "ts_truncated",
        "ts_mpeg2_interlaced",
        "ts_he_aac",
        "ts_hevc_10bit",
        "ts_h264_interlaced",
        "ts_gop_timecode",
    ],
)
def test_corpus_accuracy(name: str, corpus: dict[str, Path]) -> None:
    problems, read = accuracy(name, ts.parse, corpus)
    assert problems == []
    assert read <= 512 * 1024


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_never_crash(data: bytes) -> None:
    robust(ts.parse, data)
    robust(ts.parse, b"\x47" + data[:187] + b"\x47" + data[187:])
    robust(ts.parse, b"\x00\x00\x01\xba\x44" + data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_files_never_crash(corpus: dict[str, Path], data: st.DataObject) -> None:
    seed = head_and_tail(corpus[data.draw(st.sampled_from(["ts_2audio", "m2ts", "vob"]))])
    robust(ts.parse, data.draw(mutations(seed)), budget=192 * 1024)


def test_pmt_spanning_two_packets() -> None:
    streams = [(0x1B, 0x100, b"")]
    streams += [(0x0F, 0x101 + i, lang(b"eng") + bytes([0x52, 1, i])) for i in range(20)]
    body = bytes([0xE1, 0x00, 0xF0, 0x00])
    for stream_type, pid, descriptors in streams:
        body += bytes([stream_type, 0xE0 | pid >> 8, pid & 0xFF, 0xF0, len(descriptors)])
        body += descriptors
    psi = section(2, 1, body)
    assert len(psi) > 184
    video = b"\x00\x00\x00\x01" + SPS_160x90
    packets = [
        pat(),
        ts_packet(0x1000, psi[:184], pusi=True),
        ts_packet(0x1000, psi[184:] + b"\xff" * (368 - len(psi)), pusi=False),
        ts_packet(0x100, pes_packet(0xE0, 90_000, video), pusi=True),
        ts_packet(0x100, pes_packet(0xE0, 180_000, b"\0\0\1\x09"), pusi=True),
    ]
    facts = parse_bytes(b"".join(packets))
    assert len(facts.audio) == 20
    assert facts.video is not None and facts.video.width == 160


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(budget=st.integers(0, 256 * 1024))
def test_any_budget_is_respected(corpus: dict[str, Path], budget: int) -> None:
    robust(ts.parse, corpus["ts_2audio"].read_bytes(), budget=budget)


@pytest.mark.parametrize(
    ("hh", "mm", "ss", "pictures", "drop", "rate", "label"),
    [
        (4, 0, 0, 0, False, 25.0, "04:00:00:00"),
        (10, 0, 0, 0, True, 30000 / 1001, "10:00:00;00"),
        (1, 2, 3, 4, False, 50.0, "01:02:03:04"),
        (1, 1, 0, 0, True, 30000 / 1001, None),  # a label drop-frame numbering skips
    ],
)
def test_mpeg2_gop_timecode(
    hh: int, mm: int, ss: int, pictures: int, drop: bool, rate: float, label: str | None
) -> None:
    from archive_analyzer.probe import elementary

    value = drop << 31 | hh << 26 | mm << 20 | 1 << 19 | ss << 13 | pictures << 7 | 1 << 6
    data = b"\x00\x00\x01\xb3" + bytes(8) + b"\x00\x00\x01\xb8" + value.to_bytes(4, "big")
    assert elementary.mpeg2_gop_timecode(data, rate) == label
    assert elementary.mpeg2_gop_timecode(data[:-2], rate) is None  # cut short
