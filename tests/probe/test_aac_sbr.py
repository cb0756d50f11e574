"""Implicit SBR detection in ADTS frames: hand-built HE-AAC frames and real LC AAC."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive_analyzer.probe.aac_sbr import implicit_sbr
from tests.fixtures.corpus import adts_frame


def test_sbr_frames() -> None:
    frames = adts_frame(2, sbr=True) + adts_frame(2, sbr=True, sbr_header=False, fill=20)
    assert implicit_sbr(frames, 0) is True
    assert implicit_sbr(adts_frame(1, sbr=False), 0) is False
    # one frame without SBR among SBR frames: not HE-AAC
    assert implicit_sbr(adts_frame(2, sbr=True) + adts_frame(2, sbr=False), 0) is False
    assert implicit_sbr(adts_frame(2, sbr=True)[:30], 0) is None  # no whole frame
    assert implicit_sbr(adts_frame(2, sbr=True), 0, need=2) is None


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
@pytest.mark.parametrize(("channels", "rate"), [(1, "16k"), (2, "32k"), (6, "192k")])
def test_lc_aac_is_never_taken_for_sbr(tmp_path: Path, channels: int, rate: str) -> None:
    """ffmpeg's LC AAC (noise, so the spectral bits are busy): no frame start passes."""
    out = tmp_path / "lc.aac"
    noise = "anoisesrc=d=10:r=24000:a=0.5"
    encode = ["-ac", str(channels), "-c:a", "aac", "-b:a", rate, "-f", "adts", str(out)]
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", noise, *encode], check=True
    )
    data = out.read_bytes()
    pos = starts = 0
    while pos + 7 <= len(data):
        assert implicit_sbr(data, pos) is not True, pos
        starts += 1
        pos += ((data[pos + 3] & 0x03) << 11) | (data[pos + 4] << 3) | (data[pos + 5] >> 5)
    assert starts > 200


@given(st.binary(max_size=2048), st.integers(0, 64))
def test_random_bytes_never_raise(data: bytes, pos: int) -> None:
    implicit_sbr(b"\xff\xf1" + data, pos)
