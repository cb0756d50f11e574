"""Matroska Clusters: block timecodes for a frame rate and a video track's first frame (first
Cluster), and for the duration of a live file (last Cluster, found by scanning the tail).

Only block headers are read: track number and the 16-bit timecode relative to the Cluster's
Timestamp. ``frame_ticks`` maps a track number to its DefaultDuration in timecode ticks.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Iterator

from archive_analyzer.probe import ebml
from archive_analyzer.probe.facts import Reader

_TAIL_STEPS = (64 * 1024, 512 * 1024, 4 * 1024 * 1024)
_MAX_CLUSTER_FRAMES = 16  # blocks read from the first Cluster for a frame rate
_CLUSTER_SPAN = 2 * 1024 * 1024  # how far into the first Cluster frame-rate blocks are read


def frame_rate(
    reader: Reader, first_cluster: int, timecode_scale: int, track_number: int
) -> float | None:
    """Frame rate from the spacing of the first blocks of one track (no DefaultDuration)."""
    times: list[int] = []
    for number, timecode, _, _ in itertools.islice(
        _blocks(reader, first_cluster), _MAX_CLUSTER_FRAMES * 8
    ):
        if number == track_number:
            times.append(timecode)
            if len(times) >= _MAX_CLUSTER_FRAMES:
                break
    times.sort()
    steps = [b - a for a, b in itertools.pairwise(times) if b > a]
    if not steps:
        return None
    steps.sort()
    step_s = steps[len(steps) // 2] * timecode_scale / 1e9
    return 1.0 / step_s if step_s > 0 else None


def first_frame(reader: Reader, first_cluster: int, track_number: int, length: int) -> bytes:
    """The first ``length`` bytes of the track's first frame in the first Cluster (b"" if none).

    Only unlaced blocks qualify (video is not laced in practice).
    """
    for number, _, offset, size in itertools.islice(
        _blocks(reader, first_cluster), _MAX_CLUSTER_FRAMES * 8
    ):
        if number == track_number:
            return reader.read(offset, min(size, length))
    return b""


def _blocks(reader: Reader, first_cluster: int) -> Iterator[tuple[int, int, int, int]]:
    """(track number, relative timecode, frame offset, frame size) of the first Cluster's
    blocks, within its first ``_CLUSTER_SPAN`` bytes; the size is 0 for a laced block."""
    start = first_cluster
    header = reader.read(start, 12)
    _, id_len = ebml.read_id(header, 0)
    cluster_size, size_len = ebml.read_size(header, id_len)
    pos = start + id_len + size_len
    end = pos + cluster_size if cluster_size is not None else reader.size
    end = min(end, reader.size, pos + _CLUSTER_SPAN)
    while pos + 2 <= end:
        chunk = reader.read(pos, 16)
        el_id, id_len = ebml.read_id(chunk, 0)
        el_size, size_len = ebml.read_size(chunk, id_len)
        if el_size is None or el_id == ebml.CLUSTER:
            return
        body = pos + id_len + size_len
        pos = body + el_size
        if el_id not in (ebml.SIMPLE_BLOCK, ebml.BLOCK_GROUP):
            continue
        block_at, block_size = body, el_size
        block = reader.read(body, min(el_size, 16))
        if el_id == ebml.BLOCK_GROUP:
            inner_id, inner_id_len = ebml.read_id(block, 0)
            inner_size, inner_size_len = ebml.read_size(block, inner_id_len)
            if inner_id != ebml.BLOCK or inner_size is None:
                continue
            block_at += inner_id_len + inner_size_len
            block_size = inner_size
            block = block[inner_id_len + inner_size_len :]
        number, n_len = ebml.read_size(block, 0)
        if number is None or len(block) < n_len + 3:
            continue
        timecode = struct.unpack_from(">h", block, n_len)[0]
        laced = block[n_len + 2] & 0x06
        frame_at = block_at + n_len + 3
        yield number, timecode, frame_at, 0 if laced else block_size - n_len - 3


def tail_duration(
    reader: Reader, data_start: int, timecode_scale: int, frame_ticks: dict[int, float]
) -> float | None:
    """Duration from the last Cluster in the file's last few MB: its timestamp plus its last
    block's timecode (and that block's duration when the track has a DefaultDuration)."""
    size = reader.size
    tail, have = b"", size  # grown backwards: each step reads only the bytes not yet read
    for span in _TAIL_STEPS:
        start = max(data_start, size - span)
        tail = reader.read(start, have - start) + tail
        have = start
        end_ticks = _last_cluster_end(tail, frame_ticks)
        if end_ticks is not None:
            return end_ticks * timecode_scale / 1e9
        if start == data_start:
            break
    return None


def _last_cluster_end(tail: bytes, frame_ticks: dict[int, float]) -> float | None:
    marker = ebml.CLUSTER.to_bytes(4, "big")
    pos = tail.rfind(marker)
    while pos >= 0:
        end = _cluster_end(tail, pos, frame_ticks)
        if end is not None:
            return end
        pos = tail.rfind(marker, 0, pos)
    return None


def _cluster_end(data: bytes, pos: int, frame_ticks: dict[int, float]) -> float | None:
    """End time (in ticks) of the Cluster at ``pos`` in ``data``, None if it is not one."""
    try:
        _, id_len = ebml.read_id(data, pos)
        _, size_len = ebml.read_size(data, pos + id_len)
        p = pos + id_len + size_len
        ts_id, ts_id_len = ebml.read_id(data, p)
        ts_size, ts_size_len = ebml.read_size(data, p + ts_id_len)
        if ts_id == ebml.CRC32 and ts_size == 4:  # livestreams checksum each Cluster first
            p += ts_id_len + ts_size_len + 4
            ts_id, ts_id_len = ebml.read_id(data, p)
            ts_size, ts_size_len = ebml.read_size(data, p + ts_id_len)
    except (IndexError, ValueError):
        return None
    if ts_id != ebml.CLUSTER_TIMESTAMP or ts_size is None or not 1 <= ts_size <= 8:
        return None  # a false match inside frame data: real Clusters start with a Timestamp
    body = p + ts_id_len + ts_size_len
    cluster_ts = int.from_bytes(data[body : body + ts_size], "big")
    p = body + ts_size
    best: float | None = float(cluster_ts)
    while p < len(data):
        try:
            el_id, id_len = ebml.read_id(data, p)
            el_size, size_len = ebml.read_size(data, p + id_len)
        except (IndexError, ValueError):
            break
        if el_size is None or el_id == ebml.CLUSTER:
            break
        body = p + id_len + size_len
        block: bytes | None = None
        if el_id == ebml.SIMPLE_BLOCK:
            block = data[body : body + 16]
        elif el_id == ebml.BLOCK_GROUP:
            for child_id, child in ebml.children(data[body : body + min(el_size, 64)]):
                if child_id == ebml.BLOCK:
                    block = child[:16]
                    break
            if block is None and body + 4 < len(data):
                inner_id, inner_len = ebml.read_id(data, body)
                if inner_id == ebml.BLOCK:
                    _, inner_size_len = ebml.read_size(data, body + inner_len)
                    block = data[body + inner_len + inner_size_len : body + 40]
        if block is not None and len(block) >= 4:
            try:
                number, n_len = ebml.read_size(block, 0)
                rel = struct.unpack_from(">h", block, n_len)[0]
            except (IndexError, ValueError, struct.error):
                break
            end = cluster_ts + rel + frame_ticks.get(number or 0, 0.0)
            best = end if best is None else max(best, end)
        if body + el_size > len(data):
            break
        p = body + el_size
    return best
