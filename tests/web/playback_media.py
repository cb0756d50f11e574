"""Media for the playback tests: corpus files plus two made here, in one cached folder.

* ``long_mkv`` / ``long_ts``: 10 minutes of H.264/AAC in Matroska / MPEG-TS (the corpus MKV
  looped by stream copy), so a seek far ahead must not wait for the segments before it.
* ``big_mpeg2``: 20 s of 1080p MPEG-2 in MPEG-TS, slow enough to transcode that a segment's
  ffmpeg is still running when a test disconnects or asks for a second slot.
* ``ts_odd_gop``: 30 s of H.264 in MPEG-TS with a key frame every 1.48 s, so segment
  boundaries fall inside GOPs (remuxed segments must not leave holes there).

Built once under ``~/.cache/archive-analyzer/playback-<VERSION>/`` (file lock), reused.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from pathlib import Path

VERSION = "1"
CACHE_ROOT = Path(os.environ.get("ARCHIVE_CORPUS_CACHE", "~/.cache/archive-analyzer")).expanduser()

EXTRA = {
    "long_mkv": "long_mkv.mkv",
    "long_ts": "long_ts.ts",
    "big_mpeg2": "big_mpeg2.ts",
    "ts_odd_gop": "ts_odd_gop.ts",
}


def _make(name: str, corpus: dict[str, Path], out: Path) -> None:
    base = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
    if name == "long_mkv":
        args = ["-stream_loop", "-1", "-i", str(corpus["mkv"]), "-t", "600", "-c", "copy"]
    elif name == "long_ts":  # browsers do not play MPEG-TS files: this one stays HLS
        args = [*("-stream_loop", "-1", "-i", str(corpus["mkv"]), "-t", "600", "-c", "copy")]
        args += ["-f", "mpegts"]
    elif name == "ts_odd_gop":
        args = [
            *("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=30"),
            *("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=30"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-g", "37", "-sc_threshold", "0"),
            *("-b:v", "100k", "-c:a", "aac", "-b:a", "32k", "-f", "mpegts"),
        ]
    else:
        args = [
            *("-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25:duration=20"),
            *("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=20"),
            *("-c:v", "mpeg2video", "-b:v", "6M", "-g", "12", "-c:a", "mp2", "-f", "mpegts"),
        ]
    subprocess.run([*base, *args, str(out)], check=True, timeout=300)


def media_folder(corpus: dict[str, Path]) -> dict[str, Path]:
    """name -> path of every corpus file (symlinked) and the extra files, all in one folder."""
    root = CACHE_ROOT / f"playback-{VERSION}"
    root.mkdir(parents=True, exist_ok=True)
    found: dict[str, Path] = {}
    with open(CACHE_ROOT / f"playback-{VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for name, path in corpus.items():
            link = root / path.name
            if not link.is_symlink() or link.resolve() != path.resolve():
                link.unlink(missing_ok=True)
                link.symlink_to(path)
            found[name] = link
        for name, filename in EXTRA.items():
            target = root / filename
            if not target.exists():
                partial = root / f".partial-{filename}"
                _make(name, corpus, partial)
                partial.rename(target)
            found[name] = target
    return found
