"""MXF labels (SMPTE RP 224 ULs) -> ffprobe codec names, from libavformat's mxf tables.

Keys are the UL bytes from byte 8 on: byte 7 is the registry version, which libavformat
ignores when matching, and so does ``lookup``.
"""

from __future__ import annotations

UL_PREFIX = b"\x06\x0e\x2b\x34"

# Picture essence coding (bytes 8..; byte 7, the registry version, is ignored as libavformat
# does) -> ffprobe codec name. Longest prefix wins.
PICTURE_CODING: dict[bytes, str] = {
    bytes.fromhex("0401020201"): "mpeg2video",  # MPEG-2 profiles and levels (0x01-0x04 ..)
    bytes.fromhex("040102020120"): "mpeg4",
    bytes.fromhex("040102020130"): "h264",
    bytes.fromhex("040102020131"): "h264",
    bytes.fromhex("040102020132"): "h264",
    bytes.fromhex("0401020202"): "dvvideo",
    bytes.fromhex("040102020301"): "jpeg2000",
    bytes.fromhex("040102020302"): "dnxhd",
    bytes.fromhex("040102020306"): "prores",
    bytes.fromhex("0401020271"): "dnxhd",
    bytes.fromhex("04010201"): "rawvideo",
    bytes.fromhex("0401020101020201"): "v210",
}
# Essence container ULs (bytes 8..) -> codec, for descriptors without a usable coding UL.
PICTURE_CONTAINERS: dict[bytes, str] = {
    bytes.fromhex("0d01030102046001"): "mpeg2video",
    bytes.fromhex("0d0103010201"): "mpeg2video",  # D-10
    bytes.fromhex("0d0103010202"): "dvvideo",
    bytes.fromhex("0d0103010205"): "rawvideo",
    bytes.fromhex("0d010301020c"): "jpeg2000",
    bytes.fromhex("0d0103010210"): "h264",
    bytes.fromhex("0d0103010211"): "dnxhd",
    bytes.fromhex("0d0103010212"): "vc1",
    bytes.fromhex("0d0103010215"): "dirac",
    bytes.fromhex("0d010301021c"): "prores",
}
SOUND_CODING: dict[bytes, str] = {
    bytes.fromhex("04020201"): "pcm_s16le",  # uncompressed; the bit depth decides (_audio)
    bytes.fromhex("040202017e"): "pcm_s16be",
    bytes.fromhex("040202020301"): "pcm_alaw",
    bytes.fromhex("04020202030201"): "ac3",
    bytes.fromhex("04020202030205"): "mp2",
    bytes.fromhex("04020202030301"): "aac",
}
SOUND_CONTAINERS: dict[bytes, str] = {
    bytes.fromhex("0d0103010206"): "pcm_s16le",  # BWF / AES3
    bytes.fromhex("0d0103010201"): "pcm_s16le",  # D-10 AES3 audio
    bytes.fromhex("0d01030102044001"): "mp2",
}
PCM_BE = bytes.fromhex("040202017e")


def lookup(table: dict[bytes, str], ul: bytes | None) -> str | None:
    """ffprobe codec name for a UL by the longest matching prefix (after the version byte)."""
    if ul is None or len(ul) != 16 or not ul.startswith(UL_PREFIX):
        return None
    tail = ul[8:]
    best = b""
    for prefix in table:
        if tail.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return table.get(best)
