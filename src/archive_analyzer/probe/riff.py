"""Microsoft codec tags shared by AVI, ASF and Matroska's VFW/ACM modes.

``BITMAPINFOHEADER`` carries a video FourCC and ``WAVEFORMATEX`` an audio format tag; these
tables map both onto ffprobe's codec names (a subset of libavformat's ``ff_codec_bmp_tags`` and
``ff_codec_wav_tags``: the codecs a broadcast archive actually holds).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# FourCC (as stored, case-sensitive) -> ffprobe codec name.
_VIDEO_FOURCC: dict[bytes, str] = {
    **dict.fromkeys(
        [
            b"FMP4",
            b"XVID",
            b"DIVX",
            b"DX50",
            b"MP4V",
            b"mp4v",
            b"xvid",
            b"divx",
            b"M4S2",
            b"XVIX",
            b"DXGM",
            b"3IV2",
            b"SEDG",
            b"UMP4",
            b"WV1F",
            b"BLZ0",
            b"M4CC",
            b"RMP4",
        ],
        "mpeg4",
    ),
    **dict.fromkeys(
        [b"H264", b"h264", b"X264", b"x264", b"AVC1", b"avc1", b"DAVC", b"VSSH"], "h264"
    ),
    **dict.fromkeys([b"HEVC", b"H265", b"hvc1", b"hev1", b"X265"], "hevc"),
    **dict.fromkeys([b"MJPG", b"mjpg", b"AVRn", b"dmb1", b"JPGL", b"LJPG"], "mjpeg"),
    **dict.fromkeys([b"mpg2", b"MPG2", b"MPEG", b"PIM2", b"MMES", b"mmes"], "mpeg2video"),
    **dict.fromkeys([b"mpg1", b"MPG1", b"PIM1"], "mpeg1video"),
    **dict.fromkeys([b"DIV3", b"div3", b"MP43", b"mp43", b"DIV4", b"DIV5", b"AP41"], "msmpeg4v3"),
    **dict.fromkeys([b"MP42", b"mp42", b"DIV2"], "msmpeg4v2"),
    **dict.fromkeys([b"MPG4", b"mpg4", b"DIV1"], "msmpeg4v1"),
    **dict.fromkeys(
        [b"dvsd", b"DVSD", b"dvhd", b"dvsl", b"dv25", b"dv50", b"CDVC", b"dvc "], "dvvideo"
    ),
    b"WMV1": "wmv1",
    b"WMV2": "wmv2",
    b"WMV3": "wmv3",
    b"WMVA": "vc1",
    b"WVC1": "vc1",
    b"HFYU": "huffyuv",
    b"FFVH": "ffvhuff",
    b"FFV1": "ffv1",
    b"VP80": "vp8",
    b"VP90": "vp9",
    b"AV01": "av1",
    b"AVdn": "dnxhd",
    b"AVdh": "dnxhd",
    b"apch": "prores",
    b"apcn": "prores",
    b"apcs": "prores",
    b"apco": "prores",
    b"ap4h": "prores",
    b"UYVY": "rawvideo",
    b"YUY2": "rawvideo",
    b"I420": "rawvideo",
    b"YV12": "rawvideo",
    b"v210": "v210",
    b"MJ2C": "jpeg2000",
    b"CFHD": "cfhd",
    b"cvid": "cinepak",
    b"CVID": "cinepak",
    b"IV50": "indeo5",
    b"IV41": "indeo4",
    b"IV32": "indeo3",
    b"H263": "h263",
    b"h263": "h263",
    b"U263": "h263",
    b"FLV1": "flv1",
    b"tscc": "tscc",
    b"MSVC": "msvideo1",
    b"CRAM": "msvideo1",
    b"mrle": "msrle",
}

# WAVEFORMATEX wFormatTag -> ffprobe codec name (PCM is resolved with the bit depth).
_AUDIO_TAG: dict[int, str] = {
    0x0002: "adpcm_ms",
    0x0006: "pcm_alaw",
    0x0007: "pcm_mulaw",
    0x0011: "adpcm_ima_wav",
    0x0031: "gsm_ms",
    0x0050: "mp2",
    0x0055: "mp3",
    0x00FF: "aac",
    0x0160: "wmav1",
    0x0161: "wmav2",
    0x0162: "wmapro",
    0x0163: "wmalossless",
    0x0130: "acelp.kelvin",
    0x1610: "aac",
    0x2000: "ac3",
    0x2001: "dts",
    0x706D: "aac",
    0x4143: "aac",
    0xA106: "aac",
    0xF1AC: "flac",
    0x566F: "vorbis",
}

# KSDATAFORMAT_SUBTYPE GUID tail shared by every WAVE_FORMAT_EXTENSIBLE subformat.
_KS_GUID_TAIL = bytes.fromhex("000000001000800000aa00389b71")


@dataclass(frozen=True, slots=True)
class WaveFormat:
    """The fields of a ``WAVEFORMATEX`` that the prober reports."""

    codec: str | None
    channels: int
    sample_rate: int
    bits_per_sample: int
    block_align: int
    avg_bytes_per_sec: int


def video_codec(fourcc: bytes) -> str | None:
    """ffprobe's codec name for a ``BITMAPINFOHEADER`` compression FourCC, or None."""
    if fourcc in _VIDEO_FOURCC:
        return _VIDEO_FOURCC[fourcc]
    if fourcc == b"\0\0\0\0" or fourcc == b"RGB " or fourcc == b"\x03\0\0\0":
        return "rawvideo"
    return _VIDEO_FOURCC.get(fourcc.upper())


def pcm_codec(bits: int, *, floating: bool = False, big_endian: bool = False) -> str:
    """ffprobe's PCM codec name for a sample size (``pcm_s16le`` and friends)."""
    endian = "be" if big_endian else "le"
    if floating:
        return f"pcm_f{64 if bits == 64 else 32}{endian}"
    if bits <= 8:
        return "pcm_u8"
    width = 16 if bits <= 16 else (24 if bits <= 24 else 32)
    return f"pcm_s{width}{endian}"


def audio_codec(tag: int, bits_per_sample: int, ext: bytes = b"") -> str | None:
    """ffprobe's codec name for a ``wFormatTag`` (``ext``: the extensible subformat GUID)."""
    if tag == 0xFFFE and len(ext) >= 16 and ext[2:16] == _KS_GUID_TAIL:
        tag = int.from_bytes(ext[0:2], "little")
    if tag == 0x0001:
        return pcm_codec(bits_per_sample)
    if tag == 0x0003:
        return pcm_codec(bits_per_sample, floating=True)
    return _AUDIO_TAG.get(tag)


def parse_waveformat(data: bytes) -> WaveFormat | None:
    """Decode a ``WAVEFORMATEX`` (16+ bytes), None when too short."""
    if len(data) < 14:
        return None
    tag, channels, rate, avg, align = struct.unpack_from("<HHIIH", data, 0)
    bits = struct.unpack_from("<H", data, 14)[0] if len(data) >= 16 else 0
    ext = b""
    # WAVEFORMATEXTENSIBLE: cbSize(2) validbits(2) channelmask(4) SubFormat GUID(16)
    if tag == 0xFFFE and len(data) >= 40:
        ext = data[24:40]
    return WaveFormat(
        codec=audio_codec(tag, bits, ext),
        channels=channels,
        sample_rate=rate,
        bits_per_sample=bits,
        block_align=align,
        avg_bytes_per_sec=avg,
    )


@dataclass(frozen=True, slots=True)
class BitmapInfo:
    """The fields of a ``BITMAPINFOHEADER`` that the prober reports."""

    codec: str | None
    width: int
    height: int
    fourcc: bytes


def parse_bitmapinfo(data: bytes) -> BitmapInfo | None:
    """Decode a ``BITMAPINFOHEADER`` (40 bytes), None when too short."""
    if len(data) < 20:
        return None
    _size, width, height, _planes, _bits = struct.unpack_from("<IiiHH", data, 0)
    fourcc = data[16:20]
    return BitmapInfo(codec=video_codec(fourcc), width=width, height=abs(height), fourcc=fourcc)
