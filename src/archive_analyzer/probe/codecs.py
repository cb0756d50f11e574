"""Codec configuration records -> ffprobe's names (profile, pix_fmt, channels, sample rate).

Pure functions over the small configuration blobs containers carry: ``avcC`` (H.264),
``hvcC`` (HEVC), the MPEG-4 AudioSpecificConfig (AAC). MP4 sample entries and Matroska
CodecPrivate hold the same records, so every container parser can use these. Each returns
None for a field it cannot decide rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive_analyzer.probe.bitstream import Bits, unescape


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

_H264_HIGH = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


def h264_profile(profile_idc: int, constraints: int) -> str | None:
    """ffprobe's H.264 profile name from ``profile_idc`` and the constraint-flags byte."""
    intra = bool(constraints & 0x10)
    if profile_idc == 66:
        return "Constrained Baseline" if constraints & 0x40 else "Baseline"
    names = {
        77: "Main",
        88: "Extended",
        100: "High",
        110: "High 10 Intra" if intra else "High 10",
        122: "High 4:2:2 Intra" if intra else "High 4:2:2",
        244: "High 4:4:4 Intra" if intra else "High 4:4:4 Predictive",
        44: "CAVLC 4:4:4",
    }
    return names.get(profile_idc)


def h264_from_sps(sps: bytes) -> VideoConfig:
    """Profile, pix_fmt, cropped size and field order from an H.264 SPS (header byte included).

    Lenient, for configuration records (``avcC``): when the SPS cannot be decoded, the
    profile from its first bytes is still returned.
    """
    if len(sps) < 4:
        return VideoConfig()
    return h264_sps(sps) or VideoConfig(profile=h264_profile(sps[1], sps[2]))


def h264_sps(nal: bytes, *, timing: bool = False) -> VideoConfig | None:
    """Decode an H.264 SPS NAL unit (header byte included); None when it is cut short or odd.

    With ``timing`` the VUI is read too and ``frame_rate`` is time_scale / (2
    num_units_in_tick) when the SPS carries timing info (an SPS cut inside its VUI is then
    None as well, so a caller reading a stream's first bytes can try again with more).
    """
    if len(nal) < 4:
        return None
    try:
        return _h264_sps(Bits(unescape(nal[1 : 64 * 1024])), timing)
    except IndexError:
        return None


def _h264_sps(b: Bits, timing: bool) -> VideoConfig | None:
    profile_idc = b.u(8)
    constraints = b.u(8)
    b.skip(8)  # level_idc
    b.ue()  # seq_parameter_set_id
    chroma, depth = 1, 8
    if profile_idc in _H264_HIGH:
        chroma = b.ue()
        if chroma == 3:
            b.skip(1)  # separate_colour_plane_flag
        depth = b.ue() + 8
        b.ue()  # bit_depth_chroma_minus8
        b.skip(1)  # qpprime_y_zero_transform_bypass_flag
        if b.u(1):  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma != 3 else 12):
                if b.u(1):
                    _skip_scaling_list(b, 16 if i < 6 else 64)
    b.ue()  # log2_max_frame_num_minus4
    poc_type = b.ue()
    if poc_type == 0:
        b.ue()
    elif poc_type == 1:
        b.skip(1)
        b.se()
        b.se()
        for _ in range(min(b.ue(), 255)):
            b.se()
    b.ue()  # max_num_ref_frames
    b.skip(1)  # gaps_in_frame_num_value_allowed_flag
    width = (b.ue() + 1) * 16
    map_units = b.ue() + 1
    frame_mbs_only = b.u(1)
    height = map_units * 16 * (2 - frame_mbs_only)
    if not frame_mbs_only:
        b.skip(1)  # mb_adaptive_frame_field_flag
    b.skip(1)  # direct_8x8_inference_flag
    if b.u(1):  # frame_cropping_flag
        left, right, top, bottom = b.ue(), b.ue(), b.ue(), b.ue()
        sub_w = 2 if chroma in (1, 2) else 1
        sub_h = 2 if chroma == 1 else 1
        width -= (left + right) * (sub_w if chroma else 1)
        height -= (top + bottom) * (sub_h if chroma else 1) * (2 - frame_mbs_only)
    if width <= 0 or height <= 0 or width > 16384 or height > 16384:
        return None
    rate = _h264_vui_rate(b) if timing and b.u(1) else None
    # frame_mbs_only_flag = 1: frames only, which ffprobe reports as progressive. Otherwise
    # the field order is per picture (SEI / slice headers): left to ffprobe's decoder.
    return VideoConfig(
        profile=h264_profile(profile_idc, constraints),
        pix_fmt=pix_fmt(chroma, depth),
        width=width,
        height=height,
        field_order="progressive" if frame_mbs_only else None,
        frame_rate=rate,
    )


def _skip_scaling_list(b: Bits, size: int) -> None:
    last = nxt = 8
    for _ in range(size):
        if nxt:
            nxt = (last + b.se() + 256) % 256
        last = nxt or last


def _h264_vui_rate(b: Bits) -> float | None:
    if b.u(1) and b.u(8) == 255:  # aspect_ratio_info, Extended_SAR
        b.skip(32)
    if b.u(1):  # overscan_info_present_flag
        b.skip(1)
    if b.u(1):  # video_signal_type_present_flag
        b.skip(4)
        if b.u(1):
            b.skip(24)
    if b.u(1):  # chroma_loc_info_present_flag
        b.ue()
        b.ue()
    if not b.u(1):  # timing_info_present_flag
        return None
    units, scale = b.u(32), b.u(32)
    if not units or not scale:
        return None
    return scale / (2 * units)


def h264_from_avcc(avcc: bytes) -> VideoConfig:
    """Profile and pix_fmt from an ``avcC`` record (AVCDecoderConfigurationRecord)."""
    if len(avcc) < 4:
        return VideoConfig()
    count = avcc[5] & 0x1F if len(avcc) > 5 else 0
    if count and len(avcc) >= 8:
        length = int.from_bytes(avcc[6:8], "big")
        sps = avcc[8 : 8 + length]
        if len(sps) == length and length >= 4:
            return h264_from_sps(sps)
    return VideoConfig(profile=h264_profile(avcc[1], avcc[2]))


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
