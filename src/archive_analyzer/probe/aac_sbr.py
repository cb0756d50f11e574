"""Implicit SBR (HE-AAC) in ADTS: do the raw data blocks carry SBR extension payloads?

An ADTS header names only the AAC core: object type LC at the core rate (24 kHz for 48 kHz
HE-AAC). With implicit signalling the SBR data travels in a fill element (``ID_FIL``,
extension type ``EXT_SBR_DATA`` or ``EXT_SBR_DATA_CRC``) after the channel element, and
libavcodec's decoder switches SBR on when it meets the first one: ffprobe then reports twice
the core rate and, for a mono core, parametric stereo (two channels, "HE-AACv2").

Finding that fill element from the front would mean decoding the spectral data (Huffman
codes). From the back it is cheap: the raw data block ends with ``ID_END`` and zero bits up
to the byte boundary, so the last set bit of the frame ends ``ID_END``; the fill element
before it is ``ID_FIL`` + its byte count + that many payload bytes, so for each possible
count there is exactly one place its header can be. Encoders put the SBR element right after
its channel element, possibly followed by plain fill elements (bit-rate padding), which are
stepped over. A multichannel frame whose last element is the LFE is not recognised.

The header of an SBR payload in the first frame (header flag set, reserved bits zero) and
the SBR element in every whole frame examined must agree, so random bits do not pass.
"""

from __future__ import annotations

_ID_FIL = 6
_ID_END = 7
_SBR = (13, 14)  # EXT_SBR_DATA, EXT_SBR_DATA_CRC
_FILL = (0, 1, 2, 11)  # EXT_FILL, EXT_FILL_DATA, EXT_DATA_ELEMENT, EXT_DYNAMIC_RANGE
_MAX_FRAMES = 4
_MAX_FILLS = 2  # plain fill elements stepped over after the SBR element


def implicit_sbr(data: bytes, pos: int, *, need: int = 1) -> bool | None:
    """Whether the ADTS frames starting at ``pos`` carry SBR (None: fewer than ``need`` whole
    frames in ``data`` and none without SBR).

    Up to four whole frames are examined; all must carry an SBR element. Frames with more
    than one raw data block are not examined (False).
    """
    frames = 0
    while frames < _MAX_FRAMES:
        h = data[pos : pos + 7]
        if len(h) < 7 or h[0] != 0xFF or h[1] & 0xF6 != 0xF0:
            break
        length = ((h[3] & 0x03) << 11) | (h[4] << 3) | (h[5] >> 5)
        header = 7 if h[1] & 0x01 else 9  # protection_absent, else a CRC follows
        if h[6] & 0x03 or length <= header:
            return False
        if pos + length > len(data):
            break
        if not _ends_with_sbr(data[pos + header : pos + length], first=frames == 0):
            return False
        frames += 1
        pos += length
    return True if frames >= need else None


class _Block:
    """A raw data block as one big integer, read by bit position from its start."""

    def __init__(self, raw: bytes) -> None:
        self.bits = len(raw) * 8
        self.value = int.from_bytes(raw, "big")

    def get(self, start: int, count: int) -> int:
        if start < 0 or start + count > self.bits:
            return -1
        return (self.value >> (self.bits - start - count)) & ((1 << count) - 1)


def _ends_with_sbr(raw: bytes, *, first: bool) -> bool:
    block = _Block(raw)
    if block.value == 0:
        return False
    trailing = (block.value & -block.value).bit_length() - 1
    end = block.bits - trailing  # just after the last bit of ID_END
    if block.get(end - 3, 3) != _ID_END:
        return False
    return _sbr_before(block, end - 3, first, _MAX_FILLS)


def _sbr_before(block: _Block, stop: int, first: bool, fills: int) -> bool:
    """True if a fill element ending at bit ``stop`` is SBR data, or plain fill preceded by one."""
    for start, payload in _fill_elements(block, stop):
        kind = block.get(payload, 4)
        if kind in _SBR and (not first or _sbr_header(block, payload + 4, crc=kind == 14)):
            return True
        if kind in _FILL and fills and _sbr_before(block, start, first, fills - 1):
            return True
    return False


def _fill_elements(block: _Block, stop: int) -> list[tuple[int, int]]:
    """(element start, payload start) of every fill element header consistent with ending
    at ``stop``: ``ID_FIL`` + count (4 bits; 15 escapes to 14 + an 8-bit count) + payload."""
    found: list[tuple[int, int]] = []
    for count in range(1, min(270, stop // 8 + 1)):
        payload = stop - 8 * count
        if count < 15 and block.get(payload - 7, 7) == (_ID_FIL << 4) | count:
            found.append((payload - 7, payload))
        if count >= 14 and block.get(payload - 15, 15) == (_ID_FIL << 12) | 0xF00 | (count - 14):
            found.append((payload - 15, payload))
    return found


def _sbr_header(block: _Block, pos: int, *, crc: bool) -> bool:
    """The first frame's SBR payload starts with a header: flag set, reserved bits zero."""
    if crc:
        pos += 10  # bs_sbr_crc_bits
    if block.get(pos, 1) != 1:  # bs_header_flag
        return False
    # bs_amp_res (1), bs_start_freq (4), bs_stop_freq (4), bs_xover_band (3), reserved (2)
    return block.get(pos + 1 + 1 + 4 + 4 + 3, 2) == 0
