"""H.264 bitstream headers: the sequence parameter set, the ``avcC`` record, and the field order
of the first pictures as libavcodec's H.264 parser reports it.

One SPS entry point, ``parse_sps`` -> ``Sps``, serves ``avcC`` records (MP4, Matroska:
``from_avcc``) and streams (TS, PS, AVI, MXF); ``Sps`` carries ffprobe's names for what it
says (``profile``, ``pix_fmt``) and ``Sps.config()`` is the same as a ``codecs.VideoConfig``. The
field order of a stream that may be interlaced (frame_mbs_only_flag = 0) is per picture: the
parser takes it from the picture timing SEI's pic_struct when the SPS says one is sent, else
from the picture order counts of the first slice (top field first when the top field's count
is lower), and for field pictures from the order of the two fields.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from archive_analyzer.probe.bitstream import Bits, unescape
from archive_analyzer.probe.codecs import VideoConfig, pix_fmt

HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})
SPS_NAL = 7  # nal_unit_type of a sequence parameter set
_SPS, _PPS, _SEI, _SLICE, _IDR = SPS_NAL, 8, 6, 1, 5
_PIC_TIMING = 1
_MAX_NALS = 64  # NAL units looked at for the first picture


@dataclass(frozen=True, slots=True)
class Sps:
    """The fields of a sequence parameter set this prober uses."""

    profile_idc: int
    constraints: int
    chroma: int
    depth: int
    width: int
    height: int
    frame_mbs_only: bool
    separate_planes: bool = False
    log2_max_frame_num: int = 4
    poc_type: int = 0
    log2_max_poc_lsb: int = 4
    delta_pic_order_always_zero: bool = False
    offset_top_to_bottom: int = 0
    vui_read: bool = False  # the fields below are known
    frame_rate: float | None = None
    hrd_delays: tuple[int, int] | None = None  # cpb_removal / dpb_output delay lengths
    pic_struct_present: bool = False

    @property
    def profile(self) -> str | None:
        """ffprobe's profile name."""
        return profile_name(self.profile_idc, self.constraints)

    @property
    def pix_fmt(self) -> str | None:
        """ffprobe's pix_fmt."""
        return pix_fmt(self.chroma, self.depth)

    @property
    def field_order(self) -> str | None:
        """ "progressive" when the stream holds frames only (frame_mbs_only_flag = 1, which
        ffprobe reports so); else None: the order is per picture (``field_order(nals)``)."""
        return "progressive" if self.frame_mbs_only else None

    def config(self) -> VideoConfig:
        """What the SPS says, as a configuration record's facts (``frame_rate`` when the VUI
        was read and carries timing info)."""
        return VideoConfig(
            self.profile, self.pix_fmt, self.width, self.height, self.field_order, self.frame_rate
        )


def profile_name(profile_idc: int, constraints: int) -> str | None:
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


def parse_sps(nal: bytes, *, vui: bool = False) -> Sps | None:
    """Decode an SPS NAL unit (header byte included); None when it is cut short or odd, or
    is not an SPS (nal_unit_type 7).

    With ``vui`` the VUI is read too (timing, HRD delay lengths, pic_struct_present_flag):
    an SPS cut inside it is then None as well, so a caller reading a stream's first bytes
    can try again with more.
    """
    if len(nal) < 4 or nal[0] & 0x1F != SPS_NAL:
        return None
    try:
        return _sps(Bits(unescape(nal[1 : 64 * 1024])), vui)
    except IndexError:
        return None


def from_avcc(avcc: bytes) -> VideoConfig:
    """Profile, pix_fmt, cropped size and field order from an ``avcC`` record
    (AVCDecoderConfigurationRecord). Lenient: when its SPS cannot be decoded, the profile from
    the record's own bytes is still returned."""
    if len(avcc) < 4:
        return VideoConfig()
    count = avcc[5] & 0x1F if len(avcc) > 5 else 0
    if count and len(avcc) >= 8:
        length = int.from_bytes(avcc[6:8], "big")
        nal = avcc[8 : 8 + length]
        if len(nal) == length and length >= 4:
            sps = parse_sps(nal)
            if sps is not None:
                return sps.config()
            return VideoConfig(profile=profile_name(nal[1], nal[2]))
    return VideoConfig(profile=profile_name(avcc[1], avcc[2]))


def _sps(b: Bits, vui: bool) -> Sps | None:
    profile_idc = b.u(8)
    constraints = b.u(8)
    b.skip(8)  # level_idc
    b.ue()  # seq_parameter_set_id
    chroma, depth, separate = 1, 8, False
    if profile_idc in HIGH_PROFILES:
        chroma = b.ue()
        if chroma == 3:
            separate = bool(b.u(1))
        depth = b.ue() + 8
        b.ue()  # bit_depth_chroma_minus8
        b.skip(1)  # qpprime_y_zero_transform_bypass_flag
        if b.u(1):  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma != 3 else 12):
                if b.u(1):
                    _skip_scaling_list(b, 16 if i < 6 else 64)
    log2_max_frame_num = b.ue() + 4
    poc_type = b.ue()
    log2_max_poc_lsb, always_zero, top_to_bottom = 4, False, 0
    if poc_type == 0:
        log2_max_poc_lsb = b.ue() + 4
    elif poc_type == 1:
        always_zero = bool(b.u(1))
        b.se()  # offset_for_non_ref_pic
        top_to_bottom = b.se()
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
    sps = Sps(
        profile_idc,
        constraints,
        chroma,
        depth,
        width,
        height,
        bool(frame_mbs_only),
        separate,
        log2_max_frame_num,
        poc_type,
        log2_max_poc_lsb,
        always_zero,
        top_to_bottom,
    )
    if not vui:
        return sps
    if not b.u(1):  # vui_parameters_present_flag
        return _with_vui(sps, None, None, False)
    return _vui(b, sps)


def _with_vui(
    sps: Sps, rate: float | None, delays: tuple[int, int] | None, pic_struct: bool
) -> Sps:
    return replace(
        sps, vui_read=True, frame_rate=rate, hrd_delays=delays, pic_struct_present=pic_struct
    )


def _skip_scaling_list(b: Bits, size: int) -> None:
    last = nxt = 8
    for _ in range(size):
        if nxt:
            nxt = (last + b.se() + 256) % 256
        last = nxt or last


def _vui(b: Bits, sps: Sps) -> Sps:
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
    rate = None
    if b.u(1):  # timing_info_present_flag
        units, scale = b.u(32), b.u(32)
        rate = scale / (2 * units) if units and scale else None
        b.skip(1)  # fixed_frame_rate_flag
    delays = None
    nal_hrd = b.u(1)
    if nal_hrd:
        delays = _hrd(b)
    vcl_hrd = b.u(1)
    if vcl_hrd:
        delays = _hrd(b)
    if nal_hrd or vcl_hrd:
        b.skip(1)  # low_delay_hrd_flag
    return _with_vui(sps, rate, delays, bool(b.u(1)))


def _hrd(b: Bits) -> tuple[int, int]:
    """Skip hrd_parameters(); returns (cpb_removal_delay_length, dpb_output_delay_length)."""
    count = b.ue() + 1
    if count > 32:
        raise IndexError("too many CPB specifications")
    b.skip(8)  # bit_rate_scale, cpb_size_scale
    for _ in range(count):
        b.ue()
        b.ue()
        b.skip(1)
    b.skip(5)  # initial_cpb_removal_delay_length_minus1
    cpb = b.u(5) + 1
    dpb = b.u(5) + 1
    b.skip(5)  # time_offset_length
    return cpb, dpb


def field_order(nals: list[bytes]) -> str | None:
    """The field order of the first picture in ``nals`` (Annex B NAL units, headers included)
    as libavcodec's parser reports it; None when they do not hold enough to tell."""
    sps: Sps | None = None
    bottom_poc_in_pps: dict[int, bool] = {}
    pic_struct: int | None = None
    first: tuple[int, int] | None = None  # a field picture: (frame_num, 1 top / 2 bottom)
    try:
        for nal in nals[:_MAX_NALS]:
            if not nal:
                continue
            kind = nal[0] & 0x1F
            if kind == _SPS:
                sps = parse_sps(nal, vui=True) or sps
            elif kind == _PPS:
                b = Bits(unescape(nal[1:64]))
                pps_id = b.ue()
                b.ue()  # seq_parameter_set_id
                b.skip(1)  # entropy_coding_mode_flag
                bottom_poc_in_pps[pps_id] = bool(b.u(1))
            elif kind == _SEI and sps is not None and sps.pic_struct_present:
                pic_struct = _pic_struct(unescape(nal[1:256]), sps) or pic_struct
            elif kind in (_SLICE, _IDR) and sps is not None and sps.vui_read:
                if sps.frame_mbs_only:
                    return "progressive"
                first_mb, order, field = _slice(
                    nal, sps, bottom_poc_in_pps, pic_struct, kind == _IDR
                )
                if first_mb:
                    continue  # a further slice of a picture already looked at
                if field is None:
                    return order
                if first is None:
                    first = field
                elif field[0] == first[0] and field[1] != first[1]:
                    return "tt" if first[1] == 1 else "bb"
                else:
                    return None
    except IndexError:
        return None
    return None


def _pic_struct(sei: bytes, sps: Sps) -> int | None:
    """pic_struct of the picture timing message in an SEI NAL unit's payload."""
    pos = 0
    while pos + 2 <= len(sei):
        kind = size = 0
        while sei[pos] == 0xFF:
            kind += 255
            pos += 1
        kind += sei[pos]
        pos += 1
        while sei[pos] == 0xFF:
            size += 255
            pos += 1
        size += sei[pos]
        pos += 1
        if kind == _PIC_TIMING:
            b = Bits(sei[pos : pos + size])
            if sps.hrd_delays is not None:
                b.skip(sum(sps.hrd_delays))
            return b.u(4)
        pos += size
        if pos < len(sei) and sei[pos] == 0x80:
            break  # rbsp trailing bits
    return None


def _slice(
    nal: bytes, sps: Sps, bottom_poc_in_pps: dict[int, bool], pic_struct: int | None, idr: bool
) -> tuple[int, str | None, tuple[int, int] | None]:
    """(first_mb_in_slice, field order of a frame picture or None, (frame_num, 1 top /
    2 bottom) of a field picture or None)."""
    b = Bits(unescape(nal[1:64]))
    first_mb = b.ue()
    b.ue()  # slice_type
    pps_id = b.ue()
    if sps.separate_planes:
        b.skip(2)  # colour_plane_id
    frame_num = b.u(sps.log2_max_frame_num)
    if b.u(1):  # field_pic_flag
        return first_mb, None, (frame_num, 2 if b.u(1) else 1)
    if pic_struct is not None:
        return first_mb, {3: "tt", 5: "tt", 4: "bb", 6: "bb"}.get(pic_struct, "progressive"), None
    if idr:
        b.ue()  # idr_pic_id
    bottom_poc = bottom_poc_in_pps.get(pps_id, False)
    delta = 0
    if sps.poc_type == 0:
        b.skip(sps.log2_max_poc_lsb)  # pic_order_cnt_lsb
        if bottom_poc:
            delta = b.se()  # delta_pic_order_cnt_bottom
    elif sps.poc_type == 1 and not sps.delta_pic_order_always_zero:
        b.se()  # delta_pic_order_cnt[0]
        delta = sps.offset_top_to_bottom + (b.se() if bottom_poc else 0)
    elif sps.poc_type == 1:
        delta = sps.offset_top_to_bottom
    return first_mb, ("tt" if delta > 0 else "bb" if delta < 0 else "progressive"), None
