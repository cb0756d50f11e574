"""ffprobe strategies: ``ladder`` (the seed's baseline) and ``full`` (ground truth).

``ladder`` is the seed's exact procedure: pipe the first 512 KB into ``ffprobe -probesize
524288 -analyzeduration 10000000 ... -`` and escalate to the first 5 MB, the last 1 MB and the
whole file while the answer lacks streams or a duration. It reads through the counting reader
(no temp files), so its bytes are measured like ``smart``'s. ``full`` runs ffprobe on a local
file by path (seekable: the real ground truth); for other sources it streams the whole file
into stdin. A hung ffprobe is killed at the deadline.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

from archive_analyzer.errors import ProbeError, ProbeTimeout
from archive_analyzer.probe.facts import Facts, Reader
from archive_analyzer.probe.result import AudioInfo, ProbeStatus, VideoInfo

FFPROBE = "ffprobe"
_OUTPUT = ["-v", "quiet", "-print_format", "json", "-show_format", "-show_streams"]
LADDER_ARGS = ["-probesize", "524288", "-analyzeduration", "10000000", *_OUTPUT, "-"]
_STREAM_CHUNK = 1024 * 1024
KB = 1024  # the seed: 512 KB = its -probesize 524288
LADDER_STEPS = ("head:512", "head:5000", "tail:1000", "whole")


def facts_from_json(data: dict[str, Any]) -> Facts | None:
    """Facts from ffprobe's JSON (``-show_format -show_streams``); None without a format."""
    fmt = data.get("format")
    streams = data.get("streams") or []
    if not fmt or not streams:
        return None
    video: VideoInfo | None = None
    audio: list[AudioInfo] = []
    subtitles = 0
    for stream in streams:
        kind = stream.get("codec_type")
        if kind == "video" and video is None and not _attached_picture(stream):
            video = VideoInfo(
                codec=stream.get("codec_name"),
                profile=stream.get("profile"),
                width=stream.get("width"),
                height=stream.get("height"),
                frame_rate=frame_rate(stream),
                pix_fmt=stream.get("pix_fmt"),
                field_order=stream.get("field_order"),
            )
        elif kind == "audio":
            audio.append(
                AudioInfo(
                    codec=stream.get("codec_name"),
                    channels=stream.get("channels"),
                    sample_rate=_int(stream.get("sample_rate")),
                    language=(stream.get("tags") or {}).get("language"),
                )
            )
        elif kind == "subtitle":
            subtitles += 1
    tags = fmt.get("tags") or {}
    return Facts(
        container=str(fmt.get("format_name")),
        format_long_name=fmt.get("format_long_name"),
        duration_s=_float(fmt.get("duration")),
        bit_rate=_int(fmt.get("bit_rate")),
        video=video,
        audio=tuple(audio),
        subtitle_count=subtitles,
        creation_time=tags.get("creation_time"),
        timecode=timecode_tag(data),
    )


def timecode_tag(data: dict[str, Any]) -> str | None:
    """ffprobe's start timecode: the format's ``timecode`` tag (MXF material package,
    Matroska ``TIMECODE``), else the first video stream's (MOV/MP4 ``tmcd``), else any
    stream's (a ``tmcd`` data stream). Tag names are compared without case."""
    streams = data.get("streams") or []
    video = [s for s in streams if s.get("codec_type") == "video"][:1]
    for tags in [(data.get("format") or {}).get("tags"), *(s.get("tags") for s in video)] + [
        s.get("tags") for s in streams
    ]:
        for key, value in (tags or {}).items():
            if key.casefold() == "timecode" and isinstance(value, str) and value:
                return value
    return None


def _attached_picture(stream: dict[str, Any]) -> bool:
    return bool((stream.get("disposition") or {}).get("attached_pic"))


def frame_rate(stream: dict[str, Any]) -> float | None:
    """A stream's frame rate as a float: ``avg_frame_rate``, else ``r_frame_rate``."""
    for key in ("avg_frame_rate", "r_frame_rate"):
        text = stream.get(key)
        if not text or text in ("0/0", "0/1"):
            continue
        try:
            value = Fraction(text)
        except (ValueError, ZeroDivisionError):
            continue
        if value > 0:
            return float(value)
    return None


def _float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "N/A") else None
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    number = _float(value)
    return int(number) if number is not None else None


def complete(facts: Facts | None) -> bool:
    """The seed's test of a ladder step: streams were found and a duration came back."""
    return facts is not None and facts.duration_s is not None and facts.duration_s > 0


def run(args: list[str], chunks: Iterable[bytes], deadline: float) -> dict[str, Any]:
    """Run ffprobe with ``args``, feeding ``chunks`` into its stdin; parsed JSON output.

    The process is killed at ``deadline`` (``ProbeTimeout``). An exit code is not a verdict:
    the caller judges the fields.
    """
    proc = subprocess.Popen(
        [FFPROBE, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    out: list[bytes] = []
    failure: list[BaseException] = []

    def feed() -> None:
        assert proc.stdin is not None
        try:
            for chunk in chunks:
                proc.stdin.write(chunk)
        except (BrokenPipeError, ValueError, OSError):
            pass  # ffprobe stopped reading: it has what it wants
        except BaseException as exc:  # a source error: report it, stop ffprobe
            failure.append(exc)
            proc.kill()
        finally:
            with contextlib.suppress(OSError):
                proc.stdin.close()

    def drain() -> None:
        assert proc.stdout is not None
        out.append(proc.stdout.read())

    feeder = threading.Thread(target=feed, daemon=True)
    drainer = threading.Thread(target=drain, daemon=True)
    feeder.start()
    drainer.start()
    try:
        proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        proc.wait()
        raise ProbeTimeout("ffprobe did not finish in time and was killed") from exc
    finally:
        drainer.join(timeout=5)  # ends with ffprobe's stdout
        # The feeder may be blocked in a stalled source read; it is a daemon and stops at
        # its next write into the closed pipe.
        feeder.join(timeout=0 if proc.returncode is None or proc.returncode < 0 else 5)
    if failure:
        raise failure[0]
    try:
        parsed: dict[str, Any] = json.loads(b"".join(out) or b"{}")
    except json.JSONDecodeError:
        parsed = {}
    return parsed


def _pieces(reader: Reader, start: int, end: int) -> Iterator[bytes]:
    for offset in range(start, end, _STREAM_CHUNK):
        data = reader.read(offset, min(_STREAM_CHUNK, end - offset))
        if not data:
            return
        yield data


def ladder(reader: Reader, deadline: float) -> Facts:
    """The seed's ladder: 512 KB -> 5 MB -> last 1 MB -> whole file, over stdin.

    Raises ``ProbeError`` when no step gave ffprobe anything it recognised.
    """
    size = reader.size
    best: Facts | None = None
    for step in LADDER_STEPS:
        if step == "whole":
            start, end = 0, size
        else:
            where, amount = step.split(":")
            length = min(size, int(amount) * KB)
            start, end = (0, length) if where == "head" else (size - length, size)
        facts = facts_from_json(run(LADDER_ARGS, _pieces(reader, start, end), deadline))
        if facts is not None and (best is None or complete(facts)):
            best = facts
        if complete(facts) or end - start >= size:
            break
    if best is None:
        raise ProbeError("ffprobe found no media in any step of the ladder")
    return best


@cache
def _baseline_reads() -> tuple[int, int]:
    """What ffprobe reads on its own (libraries, /proc): subtracted from its counters."""
    counters = _measured([*_OUTPUT, os.devnull], time.monotonic() + 30)[1]
    return counters


def _measured(args: list[str], deadline: float) -> tuple[dict[str, Any], tuple[int, int]]:
    """Run ffprobe on a path; its JSON and (bytes, read calls) from ``/proc/<pid>/io``."""
    proc = subprocess.Popen(
        [FFPROBE, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    out: list[bytes] = []
    drain = threading.Thread(target=lambda: out.append(proc.stdout.read() if proc.stdout else b""))
    drain.start()
    counters = (0, 0)
    try:
        # Wait without reaping, so the exited process's I/O counters can still be read.
        _wait_unreaped(proc, deadline)
        counters = _io_counters(proc.pid)
    finally:
        proc.kill()
        proc.wait()
        drain.join(timeout=5)
    try:
        parsed: dict[str, Any] = json.loads(b"".join(out) or b"{}")
    except json.JSONDecodeError:
        parsed = {}
    return parsed, counters


def _wait_unreaped(proc: subprocess.Popen[bytes], deadline: float) -> None:
    while True:
        result = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG)
        if result is not None:
            return
        if time.monotonic() > deadline:
            raise ProbeTimeout("ffprobe did not finish in time and was killed")
        time.sleep(0.005)  # polling a child we cannot select on; bounded by the deadline


def _io_counters(pid: int) -> tuple[int, int]:
    try:
        text = Path(f"/proc/{pid}/io").read_text()
    except OSError:
        return (0, 0)
    fields = dict(line.split(": ") for line in text.splitlines() if ": " in line)
    return int(fields.get("rchar", 0)), int(fields.get("syscr", 0))


def full_local(path: Path, deadline: float) -> tuple[Facts | None, int, int]:
    """ffprobe on a local file by path: (facts, bytes read, read calls).

    The counts come from the kernel's per-process I/O counters minus ffprobe's own start-up
    reads.
    """
    base_bytes, base_calls = _baseline_reads()
    data, (read_bytes, calls) = _measured([*_OUTPUT, str(path)], deadline)
    return facts_from_json(data), max(0, read_bytes - base_bytes), max(0, calls - base_calls)


def full_stream(reader: Reader, deadline: float) -> Facts | None:
    """ffprobe on the whole file streamed into stdin (for sources without a local path)."""
    return facts_from_json(run([*_OUTPUT, "-"], _pieces(reader, 0, reader.size), deadline))


def status_of(facts: Facts | None) -> ProbeStatus:
    """OK when ffprobe recognised media, else INVALID."""
    return ProbeStatus.OK if facts is not None else ProbeStatus.INVALID
