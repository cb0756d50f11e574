"""Bit-level reading shared by the codec header parsers (``codecs.py``, ``elementary.py``)."""

from __future__ import annotations


class Bits:
    """An MSB-first bit reader with Exp-Golomb codes.

    Raises IndexError when a read runs past the end of the data or an Exp-Golomb code is
    longer than 32 bits: callers treat both as "header cut short or malformed".
    """

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def u(self, n: int) -> int:
        """The next ``n`` bits as an unsigned integer."""
        value = 0
        for _ in range(n):
            byte = self._data[self._pos >> 3]
            value = (value << 1) | ((byte >> (7 - (self._pos & 7))) & 1)
            self._pos += 1
        return value

    def skip(self, n: int) -> None:
        """Skip ``n`` bits (IndexError when that passes the end)."""
        self._pos += n
        if self._pos > len(self._data) * 8:
            raise IndexError("bit reader past the end")

    def ue(self) -> int:
        """An unsigned Exp-Golomb code."""
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise IndexError("Exp-Golomb code too long")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        """A signed Exp-Golomb code."""
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)


def unescape(nal: bytes) -> bytes:
    """Remove emulation-prevention bytes (00 00 03 -> 00 00) from a NAL unit."""
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")
