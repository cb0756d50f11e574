"""Codec configuration records -> ffprobe's names (profile, pix_fmt, channels, sample rate).

Pure functions over the small configuration blobs containers carry: ``hvcC`` (HEVC), the
MPEG-4 AudioSpecificConfig (AAC); H.264's ``avcC`` and SPS are ``h264.from_avcc`` /
``h264.parse_sps``, which give the same ``VideoConfig``. MP4 sample entries and Matroska
CodecPrivate hold the same records, so every container parser can use these. Each returns
None for a field it cannot decide rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive_analyzer.probe.bitstream import Bits


@dataclass(frozen=True, slots=True)
class VideoConfig:
    """What a video configuration record says."""

    profile: str | None = None
    pix_fmt: str | None = None
    width: int | None = None
    height: int | None = None
    field_order: str | None = None  # "progressive" when the stream cannot carry fields
    frame_rate: float | None = None  # from the bitstream's timing info, when asked for


@dataclass(frozen=True, slots=True)
class AudioConfig:
    """What an AudioSpecificConfig says."""

    profile: str | None = None
    sample_rate: int | None = None
    channels: int | None = None


_PIX = {
    (0, 8): "gray",
    (1, 8): "yuv420p",
    (2, 8): "yuv422p",
    (3, 8): "yuv444p",
    (0, 10): "gray10le",
    (1, 10): "yuv420p10le",
    (2, 10): "yuv422p10le",
    (3, 10): "yuv444p10le",
    (1, 12): "yuv420p12le",
    (2, 12): "yuv422p12le",
    (3, 12): "yuv444p12le",
}


# Codecs whose libavcodec decoder has a single output format (no profile changes it).
_FIXED_PIX_FMT = {
    "msmpeg4v1": "yuv420p",
    "msmpeg4v2": "yuv420p",
    "msmpeg4v3": "yuv420p",
    "wmv1": "yuv420p",
    "wmv2": "yuv420p",
}


def fixed_pix_fmt(codec: str | None) -> str | None:
    """ffprobe's pix_fmt for codecs that decode to one format only (None for the others)."""
    return _FIXED_PIX_FMT.get(codec or "")


_HEVC_PROFILES = {
    1: "Main",
    2: "Main 10",
    3: "Main Still Picture",
    4: "Rext",
}


def hevc_from_hvcc(hvcc: bytes) -> VideoConfig:
    """Profile and pix_fmt from an ``hvcC`` record (HEVCDecoderConfigurationRecord)."""
    if len(hvcc) < 23:
        return VideoConfig()
    profile_idc = hvcc[1] & 0x1F
    chroma = hvcc[16] & 0x03
    depth = (hvcc[17] & 0x07) + 8
    return VideoConfig(hevc_profile(profile_idc), pix_fmt(chroma, depth))


def hevc_profile(profile_idc: int) -> str | None:
    """ffprobe's HEVC profile name for general_profile_idc."""
    return _HEVC_PROFILES.get(profile_idc)


def pix_fmt(chroma_format: int, bit_depth: int) -> str | None:
    """ffprobe's pix_fmt for an H.264 / HEVC chroma_format_idc and luma bit depth."""
    return _PIX.get((chroma_format, bit_depth))


# Sampling frequency index -> Hz (ISO 14496-3), shared by ADTS, AudioSpecificConfig and LATM.
AAC_RATES = (
    96000,
    88200,
    64000,
    48000,
    44100,
    32000,
    24000,
    22050,
    16000,
    12000,
    11025,
    8000,
    7350,
)
_AAC_PROFILES = {1: "Main", 2: "LC", 3: "SSR", 4: "LTP", 5: "HE-AAC", 29: "HE-AACv2", 23: "LD"}
_AAC_CHANNELS = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 8}


def aac_from_asc(asc: bytes) -> AudioConfig:
    """Profile, sample rate and channel count from an MPEG-4 AudioSpecificConfig.

    HE-AAC (SBR) reports the doubled output rate, as ffprobe does.
    """
    try:
        return read_asc(Bits(asc))
    except IndexError:
        return AudioConfig()


def read_asc(b: Bits) -> AudioConfig:
    """Read an AudioSpecificConfig from ``b`` (IndexError when its head is cut short).

    Explicit SBR signalling (object type 5 or 29) names the extension rate, which is the
    decoder's output rate (twice the core rate when the extension index is missing or odd);
    parametric stereo (29) decodes a mono core to two channels. ffprobe reports both.
    """
    aot = b.u(5)
    if aot == 31:
        aot = 32 + b.u(6)
    rate = _asc_rate(b)
    channels = _AAC_CHANNELS.get(b.u(4))
    if aot in (5, 29) and rate:
        core = rate
        try:
            rate = _asc_rate(b) or core * 2
        except IndexError:
            rate = core * 2
        if aot == 29 and channels == 1:
            channels = 2
    return AudioConfig(_AAC_PROFILES.get(aot), rate, channels)


def _asc_rate(b: Bits) -> int | None:
    index = b.u(4)
    if index == 15:
        return b.u(24)
    return AAC_RATES[index] if index < len(AAC_RATES) else None
