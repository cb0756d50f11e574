"""A small demo archive of real media files, for ``archive-analyzer run`` without a source.

Files are made with ffmpeg's lavfi test sources (a minute or more each of moving pictures,
small frames) in the folder layout of the real poker archive: brands, seasons, days, a Korean
copy folder, names with ``$``, ``#`` and runs of spaces, plus junk (an upload in progress, a
Thumbs.db, an XMP sidecar). For playback (issue 15) it holds a two-language broadcast TS
(``(KOR+ENG)``: Korean and English commentary tracks) with a Korean sidecar subtitle file, an
MKV with an embedded SubRip track, a ProRes MOV master and an MPEG-2 MXF carrying source
timecodes (issue 17), a WebM (VP8 + Opus, played directly by Chromium), a Korean-titled
episode, and players and hands sheets (``demo-sheets/``, beside the tree) that the first
``run`` imports: Korean player names, and hands (clips) on one episode. For fixity and versions
(issue 18): one programme as a ProRes master and an H.264 copy, a byte-identical copy in a copy
folder, and a copy that differs from its original. Generated once into ``data_dir/demo`` and
reused while ``DEMO_VERSION`` stays the same.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from archive_analyzer.errors import ArchiveError

log = logging.getLogger(__name__)

DEMO_VERSION = "6"
_MARKER = ".version"

# A 2 s GOP like broadcast files (x264's default is 10 s): a remuxed segment copies from the
# key frame before its start, which ffmpeg cannot find in a TS further back than the lead.
_H264 = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "50")
_AAC = ("-c:a", "aac", "-b:a", "64k")


@dataclass(frozen=True, slots=True)
class DemoFile:
    """One generated file: where it goes and the ffmpeg output options that make it.

    ``audio`` lists (tone Hz, language) per audio track; ``subtitles`` embeds the demo SRT
    with that language."""

    path: str
    options: tuple[str, ...]
    seconds: float = 60.0
    size: str = "320x180"
    audio: tuple[tuple[int, str | None], ...] = ((440, None),)
    subtitles: str | None = None
    pattern: str = "testsrc2"  # the lavfi picture source


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
        f"{WSOP_BR}/WSOP-LAS VEGAS/2024 WSOP-LAS VEGAS MAIN EVENT/"
        "2024 WSOP Main Event Day 5 (KOR+ENG).ts",
        (*_H264, *_AAC, "-f", "mpegts"),
        audio=((330, "kor"), (880, "eng")),
    ),
    DemoFile(
        "WSOP/WSOP-SC/2025 WSOP-SC (Cyprus)/$5M GTD   WSOP Super Circuit Cyprus Main Event 2025/"
        "Day 1.mkv",
        (*_H264, *_AAC, "-c:s", "srt"),
        subtitles="eng",
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
        (
            *("-c:v", "prores", "-profile:v", "0", "-pix_fmt", "yuv422p10le"),
            *("-c:a", "pcm_s16le", "-timecode", "01:00:00:00"),
        ),  # an archive master: ProRes with a source timecode, long enough to mark a hand in
    ),
    DemoFile(
        f"{ARCHIVE}/WSOP Archive (2003-2010)/WSOP 2003/WSOP 2003 Main Event - Chris Moneymaker.mp4",
        (*_H264, *_AAC),
    ),
    DemoFile(
        f"{ARCHIVE}/WSOP Archive (1973-2002)/1995/WSOP - 1995 (1).mp4",
        (*_H264, *_AAC),
    ),
    DemoFile("HCL/2025/20250611 - Nik Airball, Sashimi.mp4", (*_H264, *_AAC)),
    DemoFile("HCL/2025/20250618 - 닉 에어볼, 사시미 (한국어 중계).mp4", (*_H264, *_AAC)),
    DemoFile("HCL/HCL Poker Clip/Hand 12 - Nik Airball vs Sashimi.mp4", (*_H264, *_AAC)),
    DemoFile("PAD/PAD S12/PAD S12 EP05.mp4", (*_H264, *_AAC)),
    # a copy in a copy folder whose bytes differ from its original (shown as a differing copy)
    DemoFile("PAD/PAD S12 - 복사본/PAD S12 EP05.mp4", (*_H264, *_AAC), seconds=2.0),
    # one programme, two encodings: the web MP4 plays, the ProRes master is its other version
    DemoFile(
        "PAD/PAD S13/PAD S13 EP02.mp4",
        (*_H264, *_AAC, "-movflags", "+faststart"),
        seconds=12.0,
        size="320x180",
        pattern="testsrc2",
    ),
    DemoFile(
        "PAD/PAD S13/ProRes/PAD S13 EP02.mov",
        ("-c:v", "prores_ks", "-profile:v", "0", "-c:a", "pcm_s16le"),
        seconds=12.0,
        size="320x180",
        pattern="testsrc2",
    ),
    DemoFile(
        "PAD/PAD S13/PAD S13 EP01.webm",
        ("-c:v", "libvpx", "-deadline", "realtime", "-b:v", "200k", "-c:a", "libopus"),
    ),
    DemoFile("MPP/$1M GTD   $1K PokerOK Mystery Bounty/Final Table.mp4", (*_H264, *_AAC)),
)

# Each minute-long file a different length (60 s, 61 s, ...): the same test pattern at the same
# times would otherwise look like one programme to the duplicate finder, which compares the
# frames of media of equal duration (catalog/duplicates.py). The ProRes/H.264 pair above is
# meant to match, so it keeps its own equal length.
DEMO_FILES = tuple(
    replace(item, seconds=60.0 + n) if item.seconds == 60.0 else item
    for n, item in enumerate(DEMO_FILES)
)

TWO_LANGUAGE_TS = next(item.path for item in DEMO_FILES if "(KOR+ENG)" in item.path)
SUBTITLES = (
    "1\n00:00:01,000 --> 00:00:05,000\n{first}\n\n"
    "2\n00:00:06,000 --> 00:00:12,000\n{second}\n\n"
    "3\n00:00:30,000 --> 00:00:40,000\n{third}\n"
)
SUBTITLE_TEXT = {
    "kor": ("메인 이벤트 5일차에 오신 것을 환영합니다", "닉 에어볼이 레이즈합니다", "올인!"),
    "eng": ("Welcome to Day 1 in Cyprus", "Nik Airball raises", "All in!"),
}
# A Korean sidecar subtitle file beside the two-language TS (picked up like any file).
SIDECARS = {
    TWO_LANGUAGE_TS.rsplit(".", 1)[0] + ".ko.srt": "kor",
}
# Players (with Korean names) and hands (clips) of one episode, imported by the first run.
PLAYERS_CSV = (
    "id,name,display_name,name_kr,country\n"
    "p1,Nik Airball,Nik Airball,닉 에어볼,US\n"
    "p2,Sashimi,Sashimi,사시미,US\n"
    "p3,Daniel Negreanu,Daniel Negreanu,다니엘 네그레아누,CA\n"
    "p4,Chris Moneymaker,Chris Moneymaker,크리스 머니메이커,US\n"
)
HANDS_CSV = (
    "id,file_id,start_sec,end_sec,highlight_score,players,tags,winner,pot_size_bb,"
    "is_all_in,is_showdown,board,display_title\n"
    'h1,"{file}",5,18,3,Nik Airball;Sashimi,bluff,Nik Airball,85,1,1,Ah Kd 7c 2s 9h,'
    "Airball's river bluff\n"
    'h2,"{file}",25,40,2,Sashimi;Nik Airball,hero call,Sashimi,40,0,1,Qs Qh 4d 8c 8s,'
    "Sashimi's hero call\n"
    'h3,"{file}",44,58,1,Nik Airball;Sashimi,,Nik Airball,12,0,0,,\n'
)
HANDS_EPISODE = "HCL/2025/20250611 - Nik Airball, Sashimi.mp4"
# Byte-identical copies (destination: original), as a copy tool leaves them.
COPIES = {
    f"{ARCHIVE}/WSOP Archive (2003-2010)/WSOP 2003 - 복사본/"
    "WSOP 2003 Main Event - Chris Moneymaker.mp4": f"{ARCHIVE}/WSOP Archive (2003-2010)/"
    "WSOP 2003/WSOP 2003 Main Event - Chris Moneymaker.mp4",
}

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
        # one ffmpeg per core: the first `make run` waits for this
        with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
            for made in [pool.submit(_make, ffmpeg, staging / i.path, i) for i in DEMO_FILES]:
                made.result()
        for rel, original in COPIES.items():
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(staging / original, staging / rel)
        for rel, data in JUNK.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for rel, lang in SIDECARS.items():
            (staging / rel).write_text(_srt(lang), encoding="utf-8")
        if root.exists():
            shutil.rmtree(root)
        staging.rename(root)
        marker.write_text(DEMO_VERSION + "\n", encoding="utf-8")
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return root


def _srt(lang: str) -> str:
    first, second, third = SUBTITLE_TEXT[lang]
    return SUBTITLES.format(first=first, second=second, third=third)


def sheets(root: Path) -> tuple[str, str]:
    """The demo's players and hands sheets (CSV text) for the archive at ``root``."""
    return PLAYERS_CSV, HANDS_CSV.format(file=HANDS_EPISODE)


def _make(ffmpeg: str, target: Path, item: DemoFile) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    inputs = [
        *("-f", "lavfi", "-i"),
        f"{item.pattern}=size={item.size}:rate=25:duration={item.seconds}",
    ]
    maps = ["-map", "0:v"]
    for n, (tone, _lang) in enumerate(item.audio, start=1):
        inputs += [
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={tone}:sample_rate=48000:duration={item.seconds}",
        ]
        maps += ["-map", f"{n}:a"]
    # Same test pattern, different broadcasts: without a tag of its own, files made with the
    # same options are byte-identical and the duplicate finder rightly joins them.
    tags: list[str] = ["-metadata", f"comment={item.path}"]
    for n, (_tone, lang) in enumerate(item.audio):
        if lang:
            tags += [f"-metadata:s:a:{n}", f"language={lang}"]
    with tempfile.TemporaryDirectory() as tmp:
        if item.subtitles:
            srt = Path(tmp) / "demo.srt"
            srt.write_text(_srt(item.subtitles), encoding="utf-8")
            inputs += ["-i", str(srt)]
            maps += ["-map", f"{len(item.audio) + 1}:s"]
            tags += ["-metadata:s:s:0", f"language={item.subtitles}"]
        command = [
            *(ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"),
            *inputs,
            *maps,
            *item.options,
            *tags,
            "-t",
            str(item.seconds),
            str(target),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise ArchiveError(f"ffmpeg could not make {item.path}: {detail[0]}")
