"""Elementary-stream headers: the facts MPEG-TS / PS carry only inside the streams themselves.

Video: H.264 and HEVC parameter sets (size, frame rate from the timing info), MPEG-1/2
sequence header (+ extension). Audio: ADTS (AAC), MPEG audio (mp1/mp2/mp3), AC-3 / E-AC-3.
Every function takes a few bytes of payload and returns None when it finds nothing sensible.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive_analyzer.probe import codecs
from archive_analyzer.probe.bitstream import Bits, unescape


@dataclass(frozen=True, slots=True)
class VideoHeader:
    """What a video parameter set says: ffprobe codec name, size, frame rate (None: unknown)."""

    codec: str
    width: int
    height: int
    frame_rate: float | None = None
    profile: str | None = None
    pix_fmt: str | None = None


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


def h264_sps(nal: bytes) -> VideoHeader | None:
    """Decode an H.264 SPS NAL unit (with its one-byte header), VUI timing included."""
    if not nal or nal[0] & 0x1F != 7:
        return None
    config = codecs.h264_sps(nal, timing=True)
    if config is None or config.width is None or config.height is None:
        return None
    return VideoHeader(
        "h264", config.width, config.height, config.frame_rate, config.profile, config.pix_fmt
    )


def hevc_sps(nal: bytes) -> VideoHeader | None:
    """Decode an HEVC SPS NAL unit (with its two-byte header): size only."""
    if len(nal) < 3 or (nal[0] >> 1) & 0x3F != 33:
        return None
    try:
        b = Bits(unescape(nal[2 : 64 * 1024]))
        b.skip(4)
        sub_layers = b.u(3)
        b.skip(1)
        _hevc_profile_tier_level(b, sub_layers)
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
    except IndexError:
        return None
    if width <= 0 or height <= 0 or width > 16384 or height > 16384:
        return None
    return VideoHeader("hevc", width, height)


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


def _hevc_profile_tier_level(b: Bits, sub_layers: int) -> None:
    b.skip(96)
    present = [(b.u(1), b.u(1)) for _ in range(sub_layers)]
    if sub_layers > 0:
        b.skip(2 * (8 - sub_layers))
    for profile, level in present:
        b.skip((88 if profile else 0) + (8 if level else 0))


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


def mpeg2_sequence(data: bytes) -> VideoHeader | None:
    """Decode an MPEG-1/2 sequence header (and extension) found anywhere in ``data``."""
    pos = data.find(b"\x00\x00\x01\xb3")
    if pos < 0 or pos + 12 > len(data):
        return None
    h = data[pos + 4 : pos + 12]
    width = (h[0] << 4) | (h[1] >> 4)
    height = ((h[1] & 0x0F) << 8) | h[2]
    rate = _MPEG2_RATES.get(h[3] & 0x0F)
    if width == 0 or height == 0:
        return None
    codec = "mpeg1video"
    ext = data.find(b"\x00\x00\x01\xb5", pos + 12, pos + 12 + 160)
    if ext >= 0 and ext + 10 <= len(data) and data[ext + 4] >> 4 == 1:
        e = data[ext + 4 : ext + 10]
        codec = "mpeg2video"
        width |= ((e[1] & 0x01) << 1 | e[2] >> 7) << 12
        height |= ((e[2] >> 5) & 0x03) << 12
        n, d = (e[5] >> 5) & 0x03, e[5] & 0x1F
        if rate is not None:
            rate = rate * (n + 1) / (d + 1)
    return VideoHeader(codec, width, height, rate)


def adts(data: bytes) -> AudioHeader | None:
    """Decode the first ADTS (AAC) header in ``data``."""
    for pos in _syncs(data, 0xFFF0, 0xFFF6):
        h = data[pos : pos + 7]
        if len(h) < 7:
            return None
        index = (h[2] >> 2) & 0x0F
        config = ((h[2] & 0x01) << 2) | (h[3] >> 6)
        if index >= len(codecs.AAC_RATES):
            continue
        channels = 8 if config == 7 else config
        return AudioHeader("aac", channels, codecs.AAC_RATES[index])
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
