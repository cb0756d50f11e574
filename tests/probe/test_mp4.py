"""MP4/MOV box walk on hand-built files: 64-bit sizes, size-0 boxes, truncation, fragments."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from archive_analyzer.errors import ParseError
from archive_analyzer.probe import mp4
from archive_analyzer.probe.reader import CountingReader
from archive_analyzer.probe.result import ProbeStatus


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def box64(kind: bytes, payload: bytes, claimed: int | None = None) -> bytes:
    size = 16 + len(payload) if claimed is None else claimed
    return struct.pack(">I4sQ", 1, kind, size) + payload


def full(kind: bytes, version: int, payload: bytes, flags: int = 0) -> bytes:
    return box(kind, bytes([version]) + flags.to_bytes(3, "big") + payload)


def mvhd(timescale: int, duration: int, version: int = 0) -> bytes:
    if version == 1:
        body = struct.pack(">QQIQ", 0, 0, timescale, duration)
    else:
        body = struct.pack(">IIII", 0, 0, timescale, duration)
    return full(b"mvhd", version, body + bytes(80))


def tkhd(track_id: int, width: int, height: int) -> bytes:
    body = struct.pack(">IIII", 0, 0, track_id, 0) + struct.pack(">I", 0) + bytes(52)
    return full(b"tkhd", 0, body + struct.pack(">II", width << 16, height << 16))


def mdhd(timescale: int, duration: int) -> bytes:
    lang = ((ord("e") - 0x60) << 10) | ((ord("n") - 0x60) << 5) | (ord("g") - 0x60)
    return full(b"mdhd", 0, struct.pack(">IIIIHH", 0, 0, timescale, duration, lang, 0))


def hdlr(kind: bytes) -> bytes:
    return full(b"hdlr", 0, struct.pack(">I4s", 0, kind) + bytes(12) + b"\x00")


def avc1(width: int, height: int) -> bytes:
    avcc = bytes([1, 100, 0, 40, 0xFF, 0xE0])  # High profile, no SPS
    entry = bytes(6) + struct.pack(">H", 1) + bytes(16) + struct.pack(">HH", width, height)
    entry += bytes(46) + struct.pack(">Hh", 24, -1) + box(b"avcC", avcc)
    return box(b"avc1", entry)


def mp4a(channels: int, rate: int) -> bytes:
    asc = bytes([0x11, 0x90])  # AAC LC, 48 kHz, 2 channels
    dec_specific = bytes([5, len(asc)]) + asc
    dec_config = bytes([4, 13 + len(dec_specific), 0x40, 0x15]) + bytes(11) + dec_specific
    es = bytes([3, 3 + len(dec_config), 0, 1, 0]) + dec_config
    entry = bytes(6) + struct.pack(">H", 1) + bytes(8)
    entry += struct.pack(">HHHHI", channels, 16, 0, 0, rate << 16) + full(b"esds", 0, es)
    return box(b"mp4a", entry)


def stsd(entry: bytes) -> bytes:
    return full(b"stsd", 0, struct.pack(">I", 1) + entry)


def stts(*entries: tuple[int, int]) -> bytes:
    body = struct.pack(">I", len(entries)) + b"".join(struct.pack(">II", *e) for e in entries)
    return full(b"stts", 0, body)


def trak_video(track_id: int = 1) -> bytes:
    stbl = box(b"stbl", stsd(avc1(1920, 1080)) + stts((250, 512)) + box(b"stsz", bytes(5000)))
    mdia = box(b"mdia", mdhd(12800, 128000) + hdlr(b"vide") + box(b"minf", stbl))
    return box(b"trak", tkhd(track_id, 1920, 1080) + mdia)


def trak_audio(track_id: int = 2) -> bytes:
    stbl = box(b"stbl", stsd(mp4a(2, 48000)) + box(b"stsz", bytes(3000)))
    mdia = box(b"mdia", mdhd(48000, 480000) + hdlr(b"soun") + box(b"minf", stbl))
    return box(b"trak", tkhd(track_id, 0, 0) + mdia)


FTYP = box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41")


def moov(*extra: bytes, version: int = 0) -> bytes:
    return box(b"moov", mvhd(1000, 10_000, version) + trak_video() + trak_audio() + b"".join(extra))


def parse(data: bytes) -> mp4.Facts:
    return mp4.parse(CountingReader.for_bytes(data, budget=1 << 20))


def check_full_facts(facts: mp4.Facts) -> None:
    assert facts.container == "mov,mp4,m4a,3gp,3g2,mj2"
    assert facts.duration_s == pytest.approx(10.0)
    assert facts.video is not None
    assert (facts.video.codec, facts.video.profile) == ("h264", "High")
    assert (facts.video.width, facts.video.height, facts.video.frame_rate) == (1920, 1080, 25.0)
    assert [(a.codec, a.channels, a.sample_rate, a.language) for a in facts.audio] == [
        ("aac", 2, 48000, "eng")
    ]


def test_faststart() -> None:
    facts = parse(FTYP + moov() + box(b"mdat", bytes(1000)))
    assert facts.status is ProbeStatus.OK
    check_full_facts(facts)


def test_moov_at_end_after_a_64_bit_mdat() -> None:
    facts = parse(FTYP + box64(b"mdat", bytes(3000)) + moov(version=1))
    assert facts.status is ProbeStatus.OK
    check_full_facts(facts)


def test_size_zero_box_runs_to_the_end_of_file() -> None:
    data = FTYP + moov() + struct.pack(">I4s", 0, b"mdat") + bytes(5000)
    facts = parse(data)
    assert facts.status is ProbeStatus.OK
    check_full_facts(facts)


def test_mdat_claiming_past_eof_is_truncated() -> None:
    data = FTYP + moov() + box64(b"mdat", bytes(100), claimed=10**9)
    facts = parse(data)
    assert facts.status is ProbeStatus.TRUNCATED
    check_full_facts(facts)


def test_moov_missing_after_a_cut_mdat_is_truncated() -> None:
    data = FTYP + struct.pack(">I4s", 10**6, b"mdat") + bytes(500)
    assert parse(data).status is ProbeStatus.TRUNCATED


def test_recording_in_progress_is_incomplete() -> None:
    """A recorder's placeholder mdat (size 8) followed by raw media data, no moov yet."""
    data = FTYP + box(b"mdat") + b"\xff\xff\xff\xff" + bytes(2000)
    assert parse(data).status is ProbeStatus.INCOMPLETE


def test_cut_inside_moov_is_truncated() -> None:
    data = FTYP + moov()
    assert parse(data[: len(data) - 40]).status is ProbeStatus.TRUNCATED


def test_not_mp4() -> None:
    with pytest.raises(ParseError):
        parse(b"hello world, not a box at all" * 10)
    with pytest.raises(ParseError):
        parse(struct.pack(">I4s", 3, b"ftyp") + bytes(20))


def fragment(seq: int, base: int, count: int, duration: int) -> bytes:
    mfhd = full(b"mfhd", 0, struct.pack(">I", seq))
    tfhd = full(b"tfhd", 0, struct.pack(">II", 1, duration), flags=0x08)
    tfdt = full(b"tfdt", 1, struct.pack(">Q", base))
    trun = full(b"trun", 0, struct.pack(">I", count))
    return box(b"moof", mfhd + box(b"traf", tfhd + tfdt + trun)) + box(b"mdat", bytes(64))


def frag_moov(mehd: int | None) -> bytes:
    trex = full(b"trex", 0, struct.pack(">IIIII", 1, 1, 0, 0, 0))
    mvex_body = (full(b"mehd", 0, struct.pack(">I", mehd)) if mehd else b"") + trex
    video = box(
        b"trak",
        tkhd(1, 640, 360)
        + box(
            b"mdia",
            mdhd(12800, 0)
            + hdlr(b"vide")
            + box(b"minf", box(b"stbl", stsd(avc1(640, 360)) + stts())),
        ),
    )
    return box(b"moov", mvhd(1000, 0) + video + box(b"mvex", mvex_body))


def test_fragmented_with_mehd() -> None:
    data = FTYP + frag_moov(mehd=3_600_000) + fragment(1, 0, 50, 512)
    facts = parse(data)
    assert facts.duration_s == pytest.approx(3600.0)
    assert facts.video is not None and facts.video.frame_rate == 25.0


def test_fragmented_via_mfra() -> None:
    frags = [fragment(i + 1, i * 50 * 512, 50, 512) for i in range(20)]
    head = FTYP + frag_moov(mehd=None)
    offsets = []
    pos = len(head)
    for frag in frags:
        offsets.append(pos)
        pos += len(frag)
    entries = b"".join(
        struct.pack(">QQBBB", i * 25600, off, 1, 1, 1) for i, off in enumerate(offsets)
    )
    tfra = full(b"tfra", 1, struct.pack(">III", 1, 0, len(offsets)) + entries)
    mfro_size = 16
    mfra_body = tfra
    mfra_size = 8 + len(mfra_body) + mfro_size
    mfra = box(b"mfra", mfra_body + full(b"mfro", 0, struct.pack(">I", mfra_size)))
    facts = parse(head + b"".join(frags) + mfra)
    assert facts.duration_s == pytest.approx(20 * 50 * 512 / 12800)
    assert facts.status is ProbeStatus.OK
    # mfra lists random-access fragments only: two more without a key frame follow the last
    more = [fragment(21 + i, (20 + i) * 50 * 512, 50, 512) for i in range(2)]
    facts = parse(head + b"".join(frags + more) + mfra)
    assert facts.duration_s == pytest.approx(22 * 50 * 512 / 12800)
    # cut inside the last fragment's media data
    cut = head + b"".join(frags)
    assert parse(cut[:-10]).status is ProbeStatus.TRUNCATED


def test_fragmented_via_tail_scan() -> None:
    frags = [fragment(i + 1, i * 50 * 512, 50, 512) for i in range(10)]
    facts = parse(FTYP + frag_moov(mehd=None) + b"".join(frags))
    assert facts.duration_s == pytest.approx(10 * 50 * 512 / 12800)
    assert facts.status is ProbeStatus.OK


def test_sample_tables_are_skipped() -> None:
    """A moov whose sample tables are huge costs only the blocks around the small boxes."""
    big = box(b"stsz", bytes(3_000_000))
    stbl = box(
        b"stbl", stsd(avc1(1920, 1080)) + stts((250, 512)) + big + box(b"stco", bytes(2_000_000))
    )
    mdia = box(b"mdia", mdhd(12800, 128000) + hdlr(b"vide") + box(b"minf", stbl))
    trak = box(b"trak", tkhd(1, 1920, 1080) + mdia)
    data = (
        FTYP + box(b"mdat", bytes(10_000)) + box(b"moov", mvhd(1000, 10_000) + trak + trak_audio())
    )
    reader = CountingReader.for_bytes(data, budget=1 << 30)
    facts = mp4.parse(reader)
    check_full_facts(facts)
    assert reader.bytes_read < 200_000


def test_six_gigabyte_sparse_file_with_moov_at_the_end(tmp_path: Path) -> None:
    """Real 64-bit offsets: a sparse 6 GB file (mdat with a 64-bit size, moov after it)."""
    from archive_analyzer.probe.reader import local_reader

    mdat_size = 6 * 1024**3
    target = tmp_path / "big.mp4"
    with target.open("wb") as handle:
        handle.write(FTYP + struct.pack(">I4sQ", 1, b"mdat", mdat_size))
        handle.seek(len(FTYP) + mdat_size)
        handle.write(moov())
    reader, close = local_reader(target, budget=1 << 20)
    try:
        facts = mp4.parse(reader)
    finally:
        close()
    assert facts.status is ProbeStatus.OK
    check_full_facts(facts)
    assert reader.bytes_read <= 64 * 1024


def test_tail_scan_with_large_fragments_stays_near_4_mib() -> None:
    def big_fragment(seq: int, base: int) -> bytes:
        head = fragment(seq, base, 50, 512)
        moof_len = struct.unpack(">I", head[:4])[0]
        return head[:moof_len] + box(b"mdat", bytes(3_000_000))

    frags = [big_fragment(i + 1, i * 50 * 512) for i in range(3)]
    data = FTYP + frag_moov(mehd=None) + b"".join(frags)
    reader = CountingReader.for_bytes(data, budget=1 << 30)
    facts = mp4.parse(reader)
    assert facts.duration_s == pytest.approx(3 * 50 * 512 / 12800)
    assert reader.bytes_read <= 4 * 1024 * 1024 + 64 * 1024


def trak_tmcd(flags: int, fps: int, frame: int, sample_at: int) -> bytes:
    entry = bytes(6) + struct.pack(">H", 1) + bytes(4)
    entry += struct.pack(">IIIBB", flags, fps * 100, 100, fps, 0)
    stco = full(b"stco", 0, struct.pack(">II", 1, sample_at))
    stbl = box(b"stbl", stsd(box(b"tmcd", entry)) + stco)
    mdia = box(b"mdia", mdhd(fps * 100, 1000) + hdlr(b"tmcd") + box(b"minf", stbl))
    return box(b"trak", tkhd(3, 0, 0) + mdia)


@pytest.mark.parametrize(
    ("flags", "fps", "frame", "label"),
    [
        (0, 25, 90_000, "01:00:00:00"),
        (1, 30, 107_892, "01:00:00;00"),  # drop-frame
        (2, 25, 25 * 86_400 + 50, "00:00:02:00"),  # the 24-hour flag wraps at midnight
        (0, 25, 25 * 86_400 + 50, "24:00:02:00"),  # without it, as libavformat, no wrap
    ],
)
def test_timecode_track(flags: int, fps: int, frame: int, label: str) -> None:
    head = FTYP + box(b"mdat", struct.pack(">I", frame) + bytes(100))
    data = head + moov(trak_tmcd(flags, fps, frame, len(FTYP) + 8))
    facts = parse(data)
    assert facts.timecode == label
    check_full_facts(facts)


def test_no_timecode_track() -> None:
    assert parse(FTYP + moov() + box(b"mdat", bytes(100))).timecode is None
