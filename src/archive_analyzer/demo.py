"""A small demo archive of real media files, for ``archive-analyzer run`` without a source.

Files are made with ffmpeg's lavfi test sources (1-2 s, tiny frames) in the folder layout of
the real poker archive: brands, seasons, days, a Korean copy folder, names with ``$``, ``#`` and
runs of spaces, plus junk (an upload in progress, a Thumbs.db, a sidecar). Generated once into
``data_dir/demo`` and reused while ``DEMO_VERSION`` stays the same.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from archive_analyzer.errors import ArchiveError

log = logging.getLogger(__name__)

DEMO_VERSION = "1"
_MARKER = ".version"

_H264 = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
_AAC = ("-c:a", "aac", "-b:a", "64k")


@dataclass(frozen=True, slots=True)
class DemoFile:
    """One generated file: where it goes and the ffmpeg output options that make it."""

    path: str
    options: tuple[str, ...]
    seconds: float = 1.0
    size: str = "160x90"


WSOP_BR = "WSOP/WSOP-BR"
ARCHIVE = "WSOP/WSOP ARCHIVE (PRE-2016)"

DEMO_FILES: tuple[DemoFile, ...] = (
    DemoFile(
        f"{WSOP_BR}/WSOP-EUROPE/2025 WSOP-Europe/2025 WSOP-EUROPE MAIN EVENT/"
        "NO COMMENTARY WITH GRAPHICS VER/Day 1 A/WSOP 2025 Main Event _ Day 1A (Part 2).mp4",
        (*_H264, *_AAC, "-movflags", "+faststart"),
    ),
    DemoFile(
        f"{WSOP_BR}/WSOP-PARADISE/2024 WSOP-PARADISE SUPER MAIN EVENT/Day 4/"
        "2024 WSOP-PARADISE SUPER MAIN EVENT Day 4.mp4",
        (*_H264, *_AAC),  # moov at the end, like many archive files
        seconds=2.0,
    ),
    DemoFile(
        f"{WSOP_BR}/WSOP-LAS VEGAS/2024 WSOP-LAS VEGAS (PokerGo Clip)/"
        "WSOP 2024 Event #58 $50K PPC Day 3.mp4",
        (*_H264, *_AAC),
    ),
    DemoFile(
        "WSOP/WSOP-C/2024 WSOP-C LA/2024 WSOP-C LA STREAM/2024 WSOP-C LA Main Event Day 2.ts",
        (*_H264, *_AAC, "-f", "mpegts"),
    ),
    DemoFile(
        "WSOP/WSOP-SC/2025 WSOP-SC (Cyprus)/$5M GTD   WSOP Super Circuit Cyprus Main Event 2025/"
        "Day 1.mkv",
        (*_H264, *_AAC),
    ),
    DemoFile(
        f"{ARCHIVE}/WSOP Archive (2003-2010)/WSOP 2007/MXFs/WSOP 2007 Main Event (1).mxf",
        (
            *("-c:v", "mpeg2video", "-b:v", "1M", "-c:a", "pcm_s16le", "-ar", "48000"),
            *("-timecode", "10:00:00:00", "-f", "mxf"),
        ),  # a master's source timecode
        size="720x576",
    ),
    DemoFile(
        f"{ARCHIVE}/WSOP Archive (2011-2016)/WSOP 2015/Main Event MOVs/"
        "WSOP 2015 Main Event Day 7.mov",
        (*_H264, *_AAC, "-timecode", "01:00:00:00"),  # long enough to mark a hand in
        seconds=20.0,
    ),
    DemoFile(
        f"{ARCHIVE}/WSOP Archive (2003-2010)/WSOP 2003 - 복사본/"
        "WSOP 2003 Main Event - Chris Moneymaker.mp4",
        (*_H264, *_AAC),
    ),
    DemoFile(
        f"{ARCHIVE}/WSOP Archive (1973-2002)/1995/WSOP - 1995 (1).mp4",
        (*_H264, *_AAC),
    ),
    DemoFile("HCL/2025/20250611 - Nik Airball, Sashimi.mp4", (*_H264, *_AAC)),
    DemoFile("HCL/HCL Poker Clip/Hand 12 - Nik Airball vs Sashimi.mp4", (*_H264, *_AAC)),
    DemoFile("PAD/PAD S12/PAD S12 EP05.mp4", (*_H264, *_AAC)),
    DemoFile(
        "PAD/PAD S13/PAD S13 EP01.webm",
        ("-c:v", "libvpx", "-deadline", "realtime", "-b:v", "200k", "-c:a", "libopus"),
    ),
    DemoFile("MPP/$1M GTD   $1K PokerOK Mystery Bounty/Final Table.mp4", (*_H264, *_AAC)),
)

# Junk the archive really contains: an upload in progress, Windows thumbnails, a sidecar.
JUNK = {
    "HCL/2025/20250618 - Upload In Progress.mp4.part": b"\x00\x00\x00\x18ftypisom" + bytes(1000),
    "PAD/PAD S12/Thumbs.db": bytes(512),
    "PAD/PAD S12/PAD S12 EP05.xmp": b'<?xpacket begin=""?><x:xmpmeta xmlns:x="adobe:ns:meta/"/>',
}


def ensure_demo_archive(root: Path) -> Path:
    """Generate the demo archive under ``root`` unless this version is already there; returns
    ``root``. Raises ``ArchiveError`` when ffmpeg is missing or fails."""
    marker = root.with_name(root.name + _MARKER)  # beside the tree, so it is not catalogued
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() == DEMO_VERSION:
        return root
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise ArchiveError("ffmpeg is needed to generate the demo archive (apt-get install ffmpeg)")
    root.parent.mkdir(parents=True, exist_ok=True)
    log.info("generating the demo archive in %s (%d files)", root, len(DEMO_FILES))
    staging = Path(tempfile.mkdtemp(prefix=".demo-", dir=root.parent))
    try:
        for item in DEMO_FILES:
            _make(ffmpeg, staging / item.path, item)
        for rel, data in JUNK.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if root.exists():
            shutil.rmtree(root)
        staging.rename(root)
        marker.write_text(DEMO_VERSION + "\n", encoding="utf-8")
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return root


def _make(ffmpeg: str, target: Path, item: DemoFile) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    command = [
        ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"testsrc=size={item.size}:rate=25:duration={item.seconds}",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency=440:sample_rate=48000:duration={item.seconds}",
        *item.options,
        "-shortest",
        str(target),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise ArchiveError(f"ffmpeg could not make {item.path}: {detail[0]}")
