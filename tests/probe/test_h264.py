"""H.264 SPS and first-picture field order, on streams x264 writes in each interlacing mode."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive_analyzer.probe import elementary, h264
from tests.probe.test_codecs import SPS_160x90


def test_sps_fields() -> None:
    sps = h264.parse_sps(SPS_160x90, vui=True)
    assert sps is not None
    assert (sps.width, sps.height, sps.frame_mbs_only, sps.frame_rate) == (160, 90, True, 25.0)
    assert h264.parse_sps(SPS_160x90[:12], vui=True) is None  # cut inside the VUI
    assert h264.parse_sps(b"\x67\x64") is None


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
@pytest.mark.parametrize(
    ("x264", "expected"),
    [
        ("tff=1", "tt"),  # MBAFF frames: from the picture order counts
        ("bff=1", "bb"),
        ("tff=1:pic-struct=1", "tt"),  # from the picture timing SEI
        ("bff=1:pic-struct=1", "bb"),
        ("tff=1:nal-hrd=vbr:vbv-maxrate=2000:vbv-bufsize=2000", "tt"),  # SEI after HRD delays
        ("fake-interlaced=1:pic-struct=1", "progressive"),  # interlace-capable, frames coded
        ("fake-interlaced=1", "progressive"),
        ("", "progressive"),  # frame_mbs_only
    ],
)
def test_field_order_as_libavcodec_reports_it(tmp_path: Path, x264: str, expected: str) -> None:
    out = tmp_path / "v.h264"
    source = "testsrc2=size=320x240:rate=25:duration=0.2"
    encode = ["-c:v", "libx264", "-preset", "ultrafast"]
    encode += ["-x264-params", x264] if x264 else []
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", source, *encode, str(out)],
        check=True,
    )
    head = out.read_bytes()[:8192]
    assert h264.field_order(elementary.nal_units(head)) == expected
    found = elementary.in_band("h264", head)
    assert found is not None and found.field_order == expected


def test_field_order_needs_a_picture() -> None:
    assert h264.field_order([SPS_160x90]) is None  # no slice yet: a caller waits for more
    assert h264.field_order([]) is None


@given(st.lists(st.binary(max_size=96), max_size=12))
def test_random_nal_units_never_raise(nals: list[bytes]) -> None:
    assert h264.field_order(nals) in (None, "progressive", "tt", "bb")
    for nal in nals:
        h264.parse_sps(nal, vui=True)
