"""Codec configuration records -> ffprobe's names (profile, pix_fmt, channels, sample rate).

Pure functions over the small configuration blobs containers carry: ``avcC`` (H.264),
``hvcC`` (HEVC), the MPEG-4 AudioSpecificConfig (AAC). MP4 sample entries and Matroska
CodecPrivate hold the same records, so every container parser can use these. Each returns
None for a field it cannot decide rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class VideoConfig:
    """What a video configuration record says."""

    profile: str | None = None
    pix_fmt: str | None = None
    width: int | None = None
    height: int | None = None
    field_order: str | None = None  # "progressive" when the stream cannot carry fields


@dataclass(frozen=True, slots=True)
class AudioConfig:
    """What an AudioSpecificConfig says."""

    profile: str | None = None
    sample_rate: int | None = None
    channels: int | None = None


class _Bits:
    """An MSB-first bit reader with Exp-Golomb codes, for SPS fields."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def bit(self) -> int:
        byte = self._data[self._pos >> 3]  # IndexError at the end: callers catch it
        value = (byte >> (7 - (self._pos & 7))) & 1
        self._pos += 1
        return value

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            value = (value << 1) | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("bad Exp-Golomb code")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        value = self.ue()
        return (value + 1) // 2 if value & 1 else -(value // 2)


def _unescape(nal: bytes) -> bytes:
    """Drop emulation-prevention bytes (00 00 03 -> 00 00)."""
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


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
    """Profile, pix_fmt and cropped size from an H.264 SPS NAL unit (header byte included)."""
    if len(sps) < 4:
        return VideoConfig()
    profile_idc, constraints = sps[1], sps[2]
    profile = h264_profile(profile_idc, constraints)
    try:
        bits = _Bits(_unescape(sps[4:]))
        bits.ue()  # seq_parameter_set_id
        chroma, depth = 1, 8
        if profile_idc in _H264_HIGH:
            chroma = bits.ue()
            if chroma == 3:
                bits.bit()  # separate_colour_plane_flag
            depth = bits.ue() + 8
            bits.ue()  # bit_depth_chroma_minus8
            bits.bit()  # qpprime_y_zero_transform_bypass_flag
            if bits.bit():  # seq_scaling_matrix_present_flag
                for i in range(8 if chroma != 3 else 12):
                    if bits.bit():
                        _skip_scaling_list(bits, 16 if i < 6 else 64)
        bits.ue()  # log2_max_frame_num_minus4
        poc_type = bits.ue()
        if poc_type == 0:
            bits.ue()
        elif poc_type == 1:
            bits.bit()
            bits.se()
            bits.se()
            for _ in range(bits.ue()):
                bits.se()
        bits.ue()  # max_num_ref_frames
        bits.bit()  # gaps_in_frame_num_value_allowed_flag
        mb_w = bits.ue() + 1
        map_h = bits.ue() + 1
        frame_mbs_only = bits.bit()
        if not frame_mbs_only:
            bits.bit()  # mb_adaptive_frame_field_flag
        bits.bit()  # direct_8x8_inference_flag
        width = mb_w * 16
        height = map_h * 16 * (2 - frame_mbs_only)
        if bits.bit():  # frame_cropping_flag
            left, right, top, bottom = bits.ue(), bits.ue(), bits.ue(), bits.ue()
            sub_w = 2 if chroma in (1, 2) else 1
            sub_h = 2 if chroma == 1 else 1
            crop_x = sub_w if chroma else 1
            crop_y = (sub_h if chroma else 1) * (2 - frame_mbs_only)
            width -= (left + right) * crop_x
            height -= (top + bottom) * crop_y
    except (IndexError, ValueError):
        return VideoConfig(profile=profile)
    # frame_mbs_only_flag = 1: frames only, which ffprobe reports as progressive. Otherwise
    # the field order is per picture (SEI / slice headers): left to ffprobe's decoder.
    field_order = "progressive" if frame_mbs_only else None
    return VideoConfig(profile, _PIX.get((chroma, depth)), width, height, field_order)


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = nxt = 8
    for _ in range(size):
        if nxt:
            nxt = (last + bits.se() + 256) % 256
        last = nxt or last


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
    return VideoConfig(_HEVC_PROFILES.get(profile_idc), _PIX.get((chroma, depth)))


_AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000)
_AAC_PROFILES = {1: "Main", 2: "LC", 3: "SSR", 4: "LTP", 5: "HE-AAC", 29: "HE-AACv2", 23: "LD"}
_AAC_CHANNELS = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 8}


def aac_from_asc(asc: bytes) -> AudioConfig:
    """Profile, sample rate and channel count from an MPEG-4 AudioSpecificConfig.

    HE-AAC (SBR) reports the doubled output rate, as ffprobe does.
    """
    try:
        bits = _Bits(asc)
        aot = bits.bits(5)
        if aot == 31:
            aot = 32 + bits.bits(6)
        index = bits.bits(4)
        rate = bits.bits(24) if index == 15 else _rate(index)
        channels = _AAC_CHANNELS.get(bits.bits(4))
    except (IndexError, ValueError):
        return AudioConfig()
    if aot in (5, 29) and rate:
        base = rate
        try:
            ext = bits.bits(4)
            rate = (bits.bits(24) if ext == 15 else _rate(ext)) or base * 2
        except (IndexError, ValueError):
            rate = base * 2
    return AudioConfig(_AAC_PROFILES.get(aot), rate, channels)


def _rate(index: int) -> int | None:
    return _AAC_RATES[index] if index < len(_AAC_RATES) else None
