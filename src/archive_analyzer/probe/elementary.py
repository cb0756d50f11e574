"""Elementary-stream headers: facts that only the streams themselves carry.

Video: H.264 and HEVC parameter sets (size, frame rate from the timing info), MPEG-1/2
sequence header (+ extensions: profile, chroma format, field order), the MPEG-4 part 2
visual object sequence (profile), the VP9 key frame header (profile, pix_fmt). Audio: ADTS
(AAC), LATM, MPEG audio (mp1/mp2/mp3), AC-3 / E-AC-3. Used by MPEG-TS / PS for everything,
and by the other containers for what their headers leave out. Every function takes a few
bytes of payload and returns None when it finds nothing sensible.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from archive_analyzer.probe import codecs, h264, libav
from archive_analyzer.probe.bitstream import Bits, unescape
from archive_analyzer.probe.facts import Reader
from archive_analyzer.timecode import Timecode, base_for


@dataclass(frozen=True, slots=True)
class VideoHeader:
    """What a video parameter set says: ffprobe codec name, size, frame rate (None: unknown)."""

    codec: str
    width: int
    height: int
    frame_rate: float | None = None
    profile: str | None = None
    pix_fmt: str | None = None
    field_order: str | None = None


@dataclass(frozen=True, slots=True)
class AudioHeader:
    """What an audio frame header says."""

    codec: str
    channels: int
    sample_rate: int


def nal_units(data: bytes) -> list[bytes]:
    """NAL units of an Annex B byte stream (start codes removed); the last may be partial."""
    units: list[bytes] = []
    starts: list[int] = []
    pos = data.find(b"\x00\x00\x01")
    while pos >= 0:
        starts.append(pos + 3)
        pos = data.find(b"\x00\x00\x01", pos + 3)
    for i, start in enumerate(starts):
        end = starts[i + 1] - 3 if i + 1 < len(starts) else len(data)
        units.append(data[start:end].rstrip(b"\x00") if i + 1 < len(starts) else data[start:end])
    return units


def hevc_sps(nal: bytes) -> VideoHeader | None:
    """Decode an HEVC SPS NAL unit (with its two-byte header): size, profile, pix_fmt."""
    if len(nal) < 3 or (nal[0] >> 1) & 0x3F != 33:
        return None
    try:
        b = Bits(unescape(nal[2 : 64 * 1024]))
        b.skip(4)
        sub_layers = b.u(3)
        b.skip(1)
        profile_idc = _hevc_profile_tier_level(b, sub_layers)
        b.ue()
        chroma = b.ue()
        if chroma == 3:
            b.skip(1)
        width, height = b.ue(), b.ue()
        if b.u(1):
            left, right, top, bottom = b.ue(), b.ue(), b.ue(), b.ue()
            sub_w = 2 if chroma in (1, 2) else 1
            sub_h = 2 if chroma == 1 else 1
            width -= sub_w * (left + right)
            height -= sub_h * (top + bottom)
        depth = b.ue() + 8  # bit_depth_luma_minus8
    except IndexError:
        return None
    if width <= 0 or height <= 0 or width > 16384 or height > 16384:
        return None
    profile = codecs.hevc_profile(profile_idc)
    return VideoHeader("hevc", width, height, None, profile, codecs.pix_fmt(chroma, depth))


def hevc_vps_rate(nal: bytes) -> float | None:
    """Frame rate from an HEVC VPS's timing info (x265 and most encoders write it)."""
    if len(nal) < 3 or (nal[0] >> 1) & 0x3F != 32:
        return None
    try:
        b = Bits(unescape(nal[2 : 16 * 1024]))
        b.skip(4 + 1 + 1 + 6)
        sub_layers = b.u(3)
        b.skip(1 + 16)
        _hevc_profile_tier_level(b, sub_layers)
        ordering_all = b.u(1)
        for _ in range(0 if ordering_all else sub_layers, sub_layers + 1):
            b.ue()
            b.ue()
            b.ue()
        max_layer_id = b.u(6)
        layer_sets = b.ue()
        if layer_sets > 1024:
            return None
        b.skip(layer_sets * (max_layer_id + 1))
        if not b.u(1):
            return None
        units, scale = b.u(32), b.u(32)
    except IndexError:
        return None
    return scale / units if units and scale else None


def _hevc_profile_tier_level(b: Bits, sub_layers: int) -> int:
    """Skip a profile_tier_level structure; returns general_profile_idc."""
    b.skip(3)  # general_profile_space, general_tier_flag
    profile_idc = b.u(5)
    b.skip(88)
    present = [(b.u(1), b.u(1)) for _ in range(sub_layers)]
    if sub_layers > 0:
        b.skip(2 * (8 - sub_layers))
    for profile, level in present:
        b.skip((88 if profile else 0) + (8 if level else 0))
    return profile_idc


_MPEG2_RATES = {
    1: 24000 / 1001,
    2: 24.0,
    3: 25.0,
    4: 30000 / 1001,
    5: 30.0,
    6: 50.0,
    7: 60000 / 1001,
    8: 60.0,
}


# profile_and_level_indication bits 6-4 -> libavcodec's profile names (the escape bit is
# ignored, as libavcodec does: 4:2:2 (0x85) reads as 0).
_MPEG2_PROFILES = {
    0: "4:2:2",
    1: "High",
    2: "Spatially Scalable",
    3: "SNR Scalable",
    4: "Main",
    5: "Simple",
}
_MPEG2_CHROMA = {1: "yuv420p", 2: "yuv422p", 3: "yuv444p"}
_PICTURE_SPAN = 2048  # how far after the sequence header the first picture extension is sought


def mpeg2_sequence(data: bytes) -> VideoHeader | None:
    """Decode an MPEG-1/2 sequence header (and extensions) found anywhere in ``data``.

    MPEG-2 profile and pix_fmt come from the sequence extension; the field order as
    libavcodec's parser reports it: progressive for a progressive sequence, else the first
    picture coding extension's progressive_frame / top_field_first (None when ``data`` ends
    before that extension).
    """
    pos = data.find(b"\x00\x00\x01\xb3")
    if pos < 0 or pos + 12 > len(data):
        return None
    h = data[pos + 4 : pos + 12]
    width = (h[0] << 4) | (h[1] >> 4)
    height = ((h[1] & 0x0F) << 8) | h[2]
    rate = _MPEG2_RATES.get(h[3] & 0x0F)
    if width == 0 or height == 0:
        return None
    ext = data.find(b"\x00\x00\x01\xb5", pos + 12, pos + 12 + 160)
    if ext < 0 or ext + 10 > len(data) or data[ext + 4] >> 4 != 1:
        return VideoHeader("mpeg1video", width, height, rate, None, "yuv420p")
    e = data[ext + 4 : ext + 10]
    width |= ((e[1] & 0x01) << 1 | e[2] >> 7) << 12
    height |= ((e[2] >> 5) & 0x03) << 12
    n, d = (e[5] >> 5) & 0x03, e[5] & 0x1F
    if rate is not None:
        rate = rate * (n + 1) / (d + 1)
    profile = _MPEG2_PROFILES.get(e[0] & 0x07)
    pix_fmt = _MPEG2_CHROMA.get((e[1] >> 1) & 0x03)
    field_order = "progressive" if e[1] & 0x08 else _mpeg2_picture_fields(data, ext + 10)
    return VideoHeader("mpeg2video", width, height, rate, profile, pix_fmt, field_order)


def mpeg2_gop_timecode(data: bytes, frame_rate: float | None) -> str | None:
    """The time code of the first MPEG-1/2 group of pictures header in ``data`` (the stream's
    own start timecode, which TS / PS recorders carry nowhere else), as a label on the base of
    ``frame_rate``; None without a GOP header or a usable rate."""
    pos = data.find(b"\x00\x00\x01\xb8")
    if pos < 0 or pos + 8 > len(data) or not frame_rate:
        return None
    value = int.from_bytes(data[pos + 4 : pos + 8], "big")
    drop = bool(value >> 31)
    hours, minutes = (value >> 26) & 0x1F, (value >> 20) & 0x3F
    seconds, pictures = (value >> 13) & 0x3F, (value >> 7) & 0x3F
    if not value >> 19 & 1:  # the marker bit between minutes and seconds
        return None
    fps, _ = base_for(frame_rate)
    drop = drop and fps % 30 == 0
    sep = ";" if drop else ":"
    try:
        label = f"{hours:02d}:{minutes:02d}:{seconds:02d}{sep}{pictures:02d}"
        return Timecode.parse(label, fps).label
    except ValueError:
        return None


def _mpeg2_picture_fields(data: bytes, start: int) -> str | None:
    """Field order of the first picture coding extension after ``start`` (interlaced sequence)."""
    pos = data.find(b"\x00\x00\x01\xb5", start, start + _PICTURE_SPAN)
    while pos >= 0 and pos + 9 <= len(data):
        if data[pos + 4] >> 4 == 8:
            if data[pos + 8] & 0x80:  # progressive_frame
                return "progressive"
            return "tt" if data[pos + 7] & 0x80 else "bb"  # top_field_first
        pos = data.find(b"\x00\x00\x01\xb5", pos + 4, start + _PICTURE_SPAN)
    return None


# profile_and_level_indication >> 4 -> libavcodec's names ("Code Scalable" is its spelling).
_MPEG4_PROFILES = (
    "Simple Profile",
    "Simple Scalable Profile",
    "Core Profile",
    "Main Profile",
    "N-bit Profile",
    "Scalable Texture Profile",
    "Simple Face Animation Profile",
    "Basic Animated Texture Profile",
    "Hybrid Profile",
    "Advanced Real Time Simple Profile",
    "Code Scalable Profile",
    "Advanced Coding Profile",
    "Advanced Core Profile",
    "Advanced Scalable Texture Profile",
    "Simple Studio Profile",
    "Advanced Simple Profile",
)


def mpeg4_visual(data: bytes) -> codecs.VideoConfig | None:
    """Profile and pix_fmt of MPEG-4 part 2 video from its visual object sequence header.

    The decoder outputs 4:2:0 except in the studio profiles (left unknown here).
    """
    pos = data.find(b"\x00\x00\x01\xb0")
    if pos < 0 or pos + 5 > len(data):
        return None
    profile = data[pos + 4] >> 4
    if profile == 14:
        return codecs.VideoConfig(profile=_MPEG4_PROFILES[profile])
    return codecs.VideoConfig(profile=_MPEG4_PROFILES[profile], pix_fmt="yuv420p")


# (bit depth, subsampling x, subsampling y) -> pix_fmt, as libavcodec's VP9 decoder picks it.
_VP9_PIX = {
    (8, 1, 1): "yuv420p",
    (8, 1, 0): "yuv422p",
    (8, 0, 1): "yuv440p",
    (8, 0, 0): "yuv444p",
    (10, 1, 1): "yuv420p10le",
    (10, 1, 0): "yuv422p10le",
    (10, 0, 1): "yuv440p10le",
    (10, 0, 0): "yuv444p10le",
    (12, 1, 1): "yuv420p12le",
    (12, 1, 0): "yuv422p12le",
    (12, 0, 1): "yuv440p12le",
    (12, 0, 0): "yuv444p12le",
}
_VP9_RGB = {8: "gbrp", 10: "gbrp10le", 12: "gbrp12le"}


def vp9_frame(frame: bytes) -> codecs.VideoConfig | None:
    """Profile and pix_fmt from a VP9 key frame's uncompressed header (None for other frames)."""
    try:
        b = Bits(frame[:16])
        if b.u(2) != 2:  # frame_marker
            return None
        low, high = b.u(1), b.u(1)
        profile = (high << 1) | low
        if profile == 3:
            b.skip(1)
        if b.u(1) or b.u(1):  # show_existing_frame, frame_type (1: not a key frame)
            return None
        b.skip(2)  # show_frame, error_resilient_mode
        if b.u(24) != 0x498342:  # frame_sync_code
            return None
        depth = (12 if b.u(1) else 10) if profile >= 2 else 8
        if b.u(3) == 7:  # CS_RGB
            pix_fmt = _VP9_RGB[depth] if profile in (1, 3) else None
        else:
            b.skip(1)  # color_range
            sub_x, sub_y = (b.u(1), b.u(1)) if profile in (1, 3) else (1, 1)
            pix_fmt = _VP9_PIX[(depth, sub_x, sub_y)]
    except IndexError:
        return None
    return codecs.VideoConfig(profile=f"Profile {profile}", pix_fmt=pix_fmt)


def in_band(codec: str | None, data: bytes) -> codecs.VideoConfig | None:
    """Profile, pix_fmt and field order from the headers at the start of a video frame.

    For containers whose headers leave them out (AVI, Matroska without CodecPrivate, MXF
    essence): an Annex B H.264 SPS, an MPEG-1/2 sequence header, an MPEG-4 part 2 visual
    object sequence, a VP9 key frame header, a DNxHD frame header. None when ``data`` holds
    none of these.
    """
    if codec == "h264":
        nals = nal_units(data)
        for nal in nals:
            if nal and nal[0] & 0x1F == h264.SPS_NAL:
                sps = h264.parse_sps(nal)
                if sps is None:
                    return None
                order = sps.field_order or h264.field_order(nals)
                return replace(sps.config(), field_order=order)
        return None
    if codec in ("mpeg1video", "mpeg2video"):
        found = mpeg2_sequence(data)
        if found is None:
            return None
        return codecs.VideoConfig(found.profile, found.pix_fmt, field_order=found.field_order)
    if codec == "mpeg4":
        return mpeg4_visual(data)
    if codec == "vp9":
        return vp9_frame(data)
    if codec == "dnxhd":
        return dnxhd_frame(data)
    return None


def in_band_at(
    reader: Reader, codec: str | None, offset: int, length: int
) -> codecs.VideoConfig | None:
    """``in_band`` over the first ``length`` bytes of a frame at ``offset`` of the file."""
    if offset >= reader.size:
        return None
    return in_band(codec, reader.read(offset, min(length, reader.size - offset)))


# DNxHR compression IDs -> libavcodec's profile; every other CID is plain DNxHD.
_DNXHR_PROFILES = {
    1270: "DNXHR 444",
    1271: "DNXHR HQX",
    1272: "DNXHR HQ",
    1273: "DNXHR SQ",
    1274: "DNXHR LB",
}
_DNXHD_HEADER = 0x2D  # the frame header bytes read: up to the 4:4:4 / colour transform byte


def dnxhd_frame(data: bytes) -> codecs.VideoConfig | None:
    """Profile and pix_fmt from the first DNxHD / DNxHR frame header in ``data``.

    As libavcodec's decoder: profile from the compression ID (0x28), bit depth from 0x21,
    4:4:4 and the colour transform from 0x2C.
    """
    pos = data.find(b"\x00\x00\x02")
    while pos >= 0 and pos + _DNXHD_HEADER <= len(data):
        prefix = int.from_bytes(data[pos : pos + 5], "big") << 8  # byte 5: field flags
        offset = prefix >> 16
        hr = prefix & 0xFFFF0000FFFF == 0x0300 and 0x280 <= offset <= 0x2170 and not offset & 3
        if prefix in (0x000002800100, 0x000002800200) or hr:
            h = data[pos : pos + _DNXHD_HEADER]
            depth = {1: 8, 2: 10, 3: 12}.get(h[0x21] >> 5)
            cid = int.from_bytes(h[0x28:0x2C], "big")
            profile = _DNXHR_PROFILES.get(cid, "DNXHD")
            if depth is None:
                return codecs.VideoConfig(profile=profile)
            if (h[0x2C] >> 6) & 1:  # 4:4:4, with or without the colour transform
                rgb = "gbrp" if not h[0x2C] & 0x07 else "yuv444p"
                fmt = None if depth == 8 else f"{rgb}{depth}le"
            else:
                fmt = "yuv422p" if depth == 8 else f"yuv422p{depth}le"
            return codecs.VideoConfig(profile=profile, pix_fmt=fmt)
        pos = data.find(b"\x00\x00\x02", pos + 1)
    return None


def adts(data: bytes, *, partial: bool = False) -> AudioHeader | None:
    """Decode the first ADTS (AAC) header in ``data``.

    When ``data`` holds the whole first frame, libavcodec decodes it (``libav``): with
    implicitly signalled SBR (HE-AAC) the decoder reports twice the header's core rate and
    a mono core as two channels, as ffprobe does. With ``partial`` (``data`` is the start
    of a payload that goes on), None until the first frame is whole.
    """
    for pos in _syncs(data, 0xFFF0, 0xFFF6):
        h = data[pos : pos + 7]
        if len(h) < 7:
            return None
        index = (h[2] >> 2) & 0x0F
        config = ((h[2] & 0x01) << 2) | (h[3] >> 6)
        if index >= len(codecs.AAC_RATES):
            continue
        channels = 8 if config == 7 else config
        rate = codecs.AAC_RATES[index]
        length = ((h[3] & 0x03) << 11) | (h[4] << 3) | (h[5] >> 5)
        if pos + length > len(data):
            if partial:
                return None
        elif length > 7 and (decoded := libav.decoded_audio("aac", data[pos : pos + length])):
            rate, channels = decoded
        return AudioHeader("aac", channels, rate)
    return None


def latm(data: bytes) -> AudioHeader | None:
    """Decode the StreamMuxConfig of the first LOAS/LATM frame carrying one (``aac_latm``).

    The AudioSpecificConfig inside names the output rate: with explicit SBR signalling
    (HE-AAC, object type 5 or 29) that is the extension rate, as the decoder reports it.
    """
    pos = data.find(b"\x56")
    while 0 <= pos < len(data) - 3:
        if data[pos + 1] & 0xE0 == 0xE0:
            try:
                found = _latm_config(Bits(data[pos + 3 : pos + 64]))
            except IndexError:
                found = None
            if found is not None:
                return found
        pos = data.find(b"\x56", pos + 1)
    return None


def _latm_config(b: Bits) -> AudioHeader | None:
    if b.u(1):  # useSameStreamMux: the config is in an earlier frame
        return None
    version = b.u(1)
    if version:
        if b.u(1):  # audioMuxVersionA: reserved
            return None
        _latm_value(b)  # taraBufferFullness
    b.skip(1 + 6)  # allStreamsSameTimeFraming, numSubFrames
    if b.u(4) or b.u(3):  # one program, one layer is all broadcast uses
        return None
    if version:
        _latm_value(b)  # AudioSpecificConfig length
    config = codecs.read_asc(b)
    if config.sample_rate is None or config.channels is None:
        return None
    return AudioHeader("aac_latm", config.channels, config.sample_rate)


def _latm_value(b: Bits) -> int:
    value = 0
    for _ in range(b.u(2) + 1):
        value = (value << 8) | b.u(8)
    return value


_MPA_RATES = (44100, 48000, 32000)


def mpeg_audio(data: bytes) -> AudioHeader | None:
    """Decode the first MPEG audio (layer I/II/III) frame header in ``data``."""
    for pos in _syncs(data, 0xFFE0, 0xFFE0):
        h = data[pos : pos + 4]
        if len(h) < 4:
            return None
        version = (h[1] >> 3) & 0x03
        layer = (h[1] >> 1) & 0x03
        rate_index = (h[2] >> 2) & 0x03
        if version == 1 or layer == 0 or rate_index == 3 or (h[2] >> 4) == 0x0F:
            continue
        rate = _MPA_RATES[rate_index] >> {3: 0, 2: 1, 0: 2}[version]
        channels = 1 if h[3] >> 6 == 3 else 2
        return AudioHeader(("mp3", "mp2", "mp1")[layer - 1], channels, rate)
    return None


_AC3_RATES = (48000, 44100, 32000)
_AC3_CHANNELS = (2, 1, 2, 3, 3, 4, 4, 5)


def ac3(data: bytes) -> AudioHeader | None:
    """Decode the first AC-3 or E-AC-3 sync frame header in ``data``."""
    pos = data.find(b"\x0b\x77")
    if pos < 0 or pos + 8 > len(data):
        return None
    bsid = data[pos + 5] >> 3
    if bsid <= 10:
        fscod = data[pos + 4] >> 6
        if fscod == 3:
            return None
        b = Bits(data[pos + 5 : pos + 8])
        b.skip(5 + 3)
        acmod = b.u(3)
        if acmod & 1 and acmod != 1:
            b.skip(2)
        if acmod & 4:
            b.skip(2)
        if acmod == 2:
            b.skip(2)
        lfe = b.u(1)
        return AudioHeader("ac3", _AC3_CHANNELS[acmod] + lfe, _AC3_RATES[fscod])
    if bsid <= 16:
        b = Bits(data[pos + 2 : pos + 8])
        b.skip(2 + 3 + 11)
        fscod = b.u(2)
        if fscod == 3:
            rate = _AC3_RATES[b.u(2) % 3] // 2
        else:
            b.skip(2)
            rate = _AC3_RATES[fscod]
        acmod = b.u(3)
        lfe = b.u(1)
        return AudioHeader("eac3", _AC3_CHANNELS[acmod] + lfe, rate)
    return None


def _syncs(data: bytes, mask_value: int, mask: int) -> list[int]:
    """Offsets where a 12/11-bit sync word starts (first 8 candidates)."""
    out: list[int] = []
    pos = data.find(b"\xff")
    while 0 <= pos < len(data) - 1 and len(out) < 8:
        if ((data[pos] << 8) | data[pos + 1]) & (mask | 0xFFE0) == mask_value:
            out.append(pos)
        pos = data.find(b"\xff", pos + 1)
    return out
