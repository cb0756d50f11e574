"""MP4/MOV sample descriptions (``stsd``) -> ffprobe's codec, profile, size, pix_fmt, audio.

Pure: takes the ``stsd`` payload bytes, returns a ``SampleEntry``. Codec names follow
libavformat's ``isom.c`` / ``mov.c`` tables for the fourccs an archive meets.
"""

from __future__ import annotations

import contextlib
import struct
from dataclasses import dataclass

from archive_analyzer.probe import elementary
from archive_analyzer.probe.codecs import aac_from_asc, hevc_from_hvcc
from archive_analyzer.probe.h264 import from_avcc as h264_from_avcc


@dataclass(frozen=True, slots=True)
class SampleEntry:
    """The first sample description of a track."""

    fourcc: str
    codec: str | None = None
    profile: str | None = None
    width: int | None = None
    height: int | None = None
    pix_fmt: str | None = None
    field_order: str | None = None
    channels: int | None = None
    sample_rate: int | None = None


_VIDEO = {
    b"avc1": "h264",
    b"avc3": "h264",
    b"hvc1": "hevc",
    b"hev1": "hevc",
    b"apch": "prores",
    b"apcn": "prores",
    b"apcs": "prores",
    b"apco": "prores",
    b"ap4h": "prores",
    b"ap4x": "prores",
    b"mp4v": "mpeg4",
    b"jpeg": "mjpeg",
    b"mjpa": "mjpeg",
    b"mjpb": "mjpeg",
    b"av01": "av1",
    b"vp09": "vp9",
    b"vp08": "vp8",
    b"mjp2": "jpeg2000",
    b"AVdn": "dnxhd",
    b"AVdh": "dnxhd",
    b"dvc ": "dvvideo",
    b"dvcp": "dvvideo",
    b"dvpp": "dvvideo",
    b"dv5n": "dvvideo",
    b"dv5p": "dvvideo",
    b"dvh5": "dvvideo",
    b"dvh6": "dvvideo",
    b"dvhq": "dvvideo",
    b"dvhp": "dvvideo",
    b"mx5p": "mpeg2video",
    b"mx5n": "mpeg2video",
    b"mx4p": "mpeg2video",
    b"mx4n": "mpeg2video",
    b"mx3p": "mpeg2video",
    b"mx3n": "mpeg2video",
    b"m2v1": "mpeg2video",
    b"mpg2": "mpeg2video",
    b"hdv1": "mpeg2video",
    b"hdv2": "mpeg2video",
    b"hdv3": "mpeg2video",
    b"hdv5": "mpeg2video",
    b"hdv6": "mpeg2video",
    b"hdv7": "mpeg2video",
    b"hdv8": "mpeg2video",
    b"hdv9": "mpeg2video",
    b"hdva": "mpeg2video",
    b"s263": "h263",
    b"h263": "h263",
    b"png ": "png",
    b"rle ": "qtrle",
    b"raw ": "rawvideo",
    b"2vuy": "rawvideo",
    b"v210": "v210",
    b"cvid": "cinepak",
    b"SVQ3": "svq3",
}
_VIDEO.update({b"xdv" + bytes([c]): "mpeg2video" for c in b"123456789abcdef"})
_VIDEO.update({b"xd5" + bytes([c]): "mpeg2video" for c in b"123456789abcdef"})

_PRORES = {
    b"apco": ("Proxy", "yuv422p10le"),
    b"apcs": ("LT", "yuv422p10le"),
    b"apcn": ("Standard", "yuv422p10le"),
    b"apch": ("HQ", "yuv422p10le"),
    b"ap4h": ("4444", "yuv444p10le"),
    b"ap4x": ("4444XQ", "yuv444p10le"),
}

_AUDIO = {
    b"mp4a": "aac",
    b".mp3": "mp3",
    b"ac-3": "ac3",
    b"ec-3": "eac3",
    b"sowt": "pcm_s16le",
    b"twos": "pcm_s16be",
    b"in24": "pcm_s24be",
    b"in32": "pcm_s32be",
    b"fl32": "pcm_f32be",
    b"fl64": "pcm_f64be",
    b"raw ": "pcm_u8",
    b"ulaw": "pcm_mulaw",
    b"alaw": "pcm_alaw",
    b"Opus": "opus",
    b"fLaC": "flac",
    b"alac": "alac",
    b"samr": "amr_nb",
    b"sawb": "amr_wb",
    b"dtsc": "dts",
    b"ima4": "adpcm_ima_qt",
}
_LITTLE_ENDIAN_PCM = {
    "pcm_s24be": "pcm_s24le",
    "pcm_s32be": "pcm_s32le",
    "pcm_f32be": "pcm_f32le",
    "pcm_f64be": "pcm_f64le",
    "pcm_s16be": "pcm_s16le",
}

# MPEG-4 objectTypeIndication (esds) -> codec, for mp4a / mp4v entries.
_OBJECT_TYPES = {
    0x20: "mpeg4",
    0x21: "h264",
    0x23: "hevc",
    0x40: "aac",
    0x66: "aac",
    0x67: "aac",
    0x68: "aac",
    0x60: "mpeg2video",
    0x61: "mpeg2video",
    0x62: "mpeg2video",
    0x63: "mpeg2video",
    0x64: "mpeg2video",
    0x65: "mpeg2video",
    0x69: "mp3",
    0x6A: "mpeg1video",
    0x6B: "mp3",
    0x6C: "mjpeg",
    0x6D: "png",
    0xA5: "ac3",
    0xA6: "eac3",
    0xA9: "dts",
    0xAD: "opus",
    0xDD: "vorbis",
}

_FIELDS = {1: "tt", 6: "bb", 9: "tb", 14: "bt"}


def parse_stsd(data: bytes, handler: bytes) -> SampleEntry | None:
    """The first sample entry of an ``stsd`` payload, for a ``vide`` or ``soun`` track."""
    if len(data) < 16:
        return None
    size, fourcc = struct.unpack(">I4s", data[8:16])
    entry = data[8 : 8 + size] if size >= 16 else data[8:]
    if handler == b"vide":
        return _video(fourcc, entry)
    if handler == b"soun":
        return _audio(fourcc, entry)
    return None


def _boxes(data: bytes, start: int) -> dict[bytes, bytes]:
    """Child boxes of a sample entry (first of each type), searching into ``wave``."""
    found: dict[bytes, bytes] = {}
    pos = start
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 0 and kind == b"\x00\x00\x00\x00":
            break  # QuickTime terminator
        if size < 8 or pos + size > len(data):
            break
        payload = data[pos + 8 : pos + size]
        found.setdefault(kind, payload)
        if kind == b"wave":
            for inner, value in _boxes(payload, 0).items():
                found.setdefault(inner, value)
        pos += size
    return found


def _video(fourcc: bytes, entry: bytes) -> SampleEntry:
    name = fourcc.decode("latin-1")
    width, height = struct.unpack(">HH", entry[32:36]) if len(entry) >= 36 else (0, 0)
    boxes = _boxes(entry, 86)
    codec = _VIDEO.get(fourcc)
    profile = pix_fmt = field_order = None
    if fourcc in _PRORES:
        profile, pix_fmt = _PRORES[fourcc]
    elif b"avcC" in boxes:
        config = h264_from_avcc(boxes[b"avcC"])
        profile, pix_fmt, field_order = config.profile, config.pix_fmt, config.field_order
        width, height = config.width or width, config.height or height
    elif b"hvcC" in boxes:
        config = hevc_from_hvcc(boxes[b"hvcC"])
        profile, pix_fmt = config.profile, config.pix_fmt
    elif b"esds" in boxes:
        oti = _object_type(boxes[b"esds"])
        codec = _OBJECT_TYPES.get(oti, codec) if oti is not None else codec
        # MPEG-1/2 and MPEG-4 part 2: the decoder specific info holds the sequence headers
        found = elementary.in_band(codec, _decoder_specific(boxes[b"esds"]) or b"")
        if found is not None:
            profile, pix_fmt, field_order = found.profile, found.pix_fmt, found.field_order
    if b"fiel" in boxes and len(boxes[b"fiel"]) >= 2:
        fields, detail = boxes[b"fiel"][0], boxes[b"fiel"][1]
        field_order = _FIELDS.get(detail) if fields == 2 else "progressive"
    return SampleEntry(name, codec, profile, width or None, height or None, pix_fmt, field_order)


def _audio(fourcc: bytes, entry: bytes) -> SampleEntry:
    name = fourcc.decode("latin-1")
    version = struct.unpack(">H", entry[16:18])[0] if len(entry) >= 18 else 0
    codec = _AUDIO.get(fourcc)
    channels: int | None
    if version == 2 and len(entry) >= 72:
        rate = struct.unpack(">d", entry[40:48])[0]
        channels = struct.unpack(">I", entry[48:52])[0]
        bits, flags = struct.unpack(">II", entry[56:64])
        sample_rate: int | None = round(rate)
        if fourcc == b"lpcm":
            codec = _lpcm(bits, flags)
        start = 72
    elif len(entry) >= 36:
        channels = struct.unpack(">H", entry[24:26])[0]
        sample_rate = struct.unpack(">I", entry[32:36])[0] >> 16
        start = 52 if version == 1 else 36
    else:
        return SampleEntry(name, codec)
    boxes = _boxes(entry, start)
    if b"enda" in boxes and boxes[b"enda"][-1:] == b"\x01" and codec in _LITTLE_ENDIAN_PCM:
        codec = _LITTLE_ENDIAN_PCM[codec]
    if b"esds" in boxes:
        oti = _object_type(boxes[b"esds"])
        codec = _OBJECT_TYPES.get(oti, codec) if oti is not None else codec
        asc = _decoder_specific(boxes[b"esds"])
        if codec == "aac" and asc:
            config = aac_from_asc(asc)
            channels = config.channels or channels
            sample_rate = config.sample_rate or sample_rate
    if fourcc == b"Opus":
        sample_rate = 48000  # Opus always decodes at 48 kHz
    return SampleEntry(name, codec, channels=channels or None, sample_rate=sample_rate or None)


def _lpcm(bits: int, flags: int) -> str | None:
    kind = "f" if flags & 1 else ("s" if flags & 4 or bits > 8 else "u")
    if bits == 8:
        return f"pcm_{kind}8"
    endian = "be" if flags & 2 else "le"
    return f"pcm_{kind}{bits}{endian}" if bits in (16, 24, 32, 64) else None


def _descriptors(data: bytes) -> dict[int, bytes]:
    """MPEG-4 descriptors of an ``esds`` payload, flattened: tag -> body (first of each)."""
    found: dict[int, bytes] = {}

    def walk(chunk: bytes, depth: int) -> None:
        pos = 0
        while pos + 2 <= len(chunk) and depth < 4:
            tag = chunk[pos]
            pos += 1
            length = 0
            for _ in range(4):
                byte = chunk[pos]
                pos += 1
                length = (length << 7) | (byte & 0x7F)
                if not byte & 0x80:
                    break
            payload = chunk[pos : pos + length]
            found.setdefault(tag, payload)
            if tag == 3 and len(payload) >= 3:  # ES_Descriptor: skip its fixed fields
                flags = payload[2]
                skip = 3 + (2 if flags & 0x80 else 0)
                if flags & 0x40 and len(payload) > skip:
                    skip += 1 + payload[skip]
                skip += 2 if flags & 0x20 else 0
                walk(payload[skip:], depth + 1)
            elif tag == 4 and len(payload) > 13:  # DecoderConfigDescriptor
                walk(payload[13:], depth + 1)
            pos += length

    with contextlib.suppress(IndexError):  # a cut descriptor: keep what was found
        walk(data[4:], 0)  # after version and flags
    return found


def _object_type(esds: bytes) -> int | None:
    config = _descriptors(esds).get(4)
    return config[0] if config else None


def _decoder_specific(esds: bytes) -> bytes | None:
    return _descriptors(esds).get(5)
