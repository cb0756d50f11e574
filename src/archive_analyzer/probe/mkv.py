"""Matroska / WebM: the facts from the EBML header, ``Info`` and ``Tracks`` (a few KB).

Files written to disk carry ``Info/Duration`` near the start. Files written to a pipe or by a
live capture have an unknown-size ``Segment`` and no Duration: the parser then scans the last
few MB for the last ``Cluster`` and takes its timestamp plus its last block's timecode. Such a
file is reported ``incomplete`` (it may still be growing) but carries that duration, which is
what ffprobe computes for a finished one. A ``Segment`` that claims to run past the end of the
file is ``truncated``; the header Duration is still reported.
"""

from __future__ import annotations

import itertools
import math
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from archive_analyzer.errors import ParseError
from archive_analyzer.probe import codecs, riff
from archive_analyzer.probe.facts import Facts, Reader
from archive_analyzer.probe.result import AudioInfo, ProbeStatus, VideoInfo

CONTAINER = "matroska,webm"
LONG_NAME = "Matroska / WebM"

# Element IDs (with their length marker bits, as written).
EBML = 0x1A45DFA3
DOCTYPE = 0x4282
SEGMENT = 0x18538067
SEEKHEAD = 0x114D9B74
SEEK = 0x4DBB
SEEK_ID = 0x53AB
SEEK_POSITION = 0x53AC
INFO = 0x1549A966
TIMECODE_SCALE = 0x2AD7B1
DURATION = 0x4489
DATE_UTC = 0x4461
TRACKS = 0x1654AE6B
TRACK_ENTRY = 0xAE
TRACK_NUMBER = 0xD7
TRACK_TYPE = 0x83
CODEC_ID = 0x86
CODEC_PRIVATE = 0x63A2
DEFAULT_DURATION = 0x23E383
LANGUAGE = 0x22B59C
LANGUAGE_BCP47 = 0x22B59D
VIDEO = 0xE0
PIXEL_WIDTH = 0xB0
PIXEL_HEIGHT = 0xBA
AUDIO = 0xE1
SAMPLING_FREQUENCY = 0xB5
OUTPUT_SAMPLING_FREQUENCY = 0x78B5
CHANNELS = 0x9F
BIT_DEPTH = 0x6264
CLUSTER = 0x1F43B675
CLUSTER_TIMESTAMP = 0xE7
SIMPLE_BLOCK = 0xA3
BLOCK_GROUP = 0xA0
BLOCK = 0xA1
BLOCK_DURATION = 0x9B
VOID = 0xEC
CRC32 = 0xBF

TRACK_VIDEO = 1
TRACK_AUDIO = 2
TRACK_SUBTITLE = 17

_HEADER_READ = 4096  # first read: EBML header, Segment, SeekHead and usually Info + Tracks
_MAX_TOP_LEVEL = 64  # top-level elements visited before the first Cluster
_MAX_INFO = 64 * 1024
_MAX_PRIVATE = 4096  # of CodecPrivate kept: avcC / hvcC / BITMAPINFOHEADER / WAVEFORMATEX
_MAX_TRACKS = 1024 * 1024  # CodecPrivate of many tracks; still bounded
_TAIL_STEPS = (64 * 1024, 512 * 1024, 4 * 1024 * 1024)
_MAX_CLUSTER_FRAMES = 16  # blocks read from the first Cluster for a frame rate
_CLUSTER_SPAN = 2 * 1024 * 1024  # how far into the first Cluster frame-rate blocks are read
_MKV_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)

# CodecID prefix -> ffprobe codec name (longest prefix wins; from libavformat's matroska.c).
_CODECS: dict[str, str] = {
    "V_MPEG4/ISO/AVC": "h264",
    "V_MPEGH/ISO/HEVC": "hevc",
    "V_MPEG4/ISO/ASP": "mpeg4",
    "V_MPEG4/ISO/AP": "mpeg4",
    "V_MPEG4/ISO/SP": "mpeg4",
    "V_MPEG4/MS/V3": "msmpeg4v3",
    "V_MPEG1": "mpeg1video",
    "V_MPEG2": "mpeg2video",
    "V_VP8": "vp8",
    "V_VP9": "vp9",
    "V_AV1": "av1",
    "V_PRORES": "prores",
    "V_MJPEG": "mjpeg",
    "V_THEORA": "theora",
    "V_DIRAC": "dirac",
    "V_FFV1": "ffv1",
    "V_UNCOMPRESSED": "rawvideo",
    "V_SNOW": "snow",
    "V_REAL/RV10": "rv10",
    "V_REAL/RV20": "rv20",
    "V_REAL/RV30": "rv30",
    "V_REAL/RV40": "rv40",
    "A_AAC": "aac",
    "A_AC3": "ac3",
    "A_EAC3": "eac3",
    "A_DTS": "dts",
    "A_TRUEHD": "truehd",
    "A_MLP": "mlp",
    "A_FLAC": "flac",
    "A_ALAC": "alac",
    "A_OPUS": "opus",
    "A_VORBIS": "vorbis",
    "A_MPEG/L1": "mp1",
    "A_MPEG/L2": "mp2",
    "A_MPEG/L3": "mp3",
    "A_TTA1": "tta",
    "A_WAVPACK4": "wavpack",
    "A_QUICKTIME/QDM2": "qdm2",
    "A_QUICKTIME/QDMC": "qdmc",
}


@dataclass(slots=True)
class _Track:
    number: int = 0
    type: int = 0
    codec_id: str = ""
    private: bytes = b""
    default_duration: int = 0
    language: str = "eng"  # Matroska's default, as libavformat reports it
    width: int | None = None
    height: int | None = None
    sampling: float = 8000.0
    output_sampling: float | None = None
    channels: int = 1
    bit_depth: int = 0


@dataclass(slots=True)
class _Segment:
    data_start: int
    size: int | None  # None: unknown size (live / pipe)
    timecode_scale: int = 1_000_000
    duration: float | None = None
    date_utc: int | None = None
    tracks: list[_Track] = field(default_factory=list)
    first_cluster: int | None = None


def parse(reader: Reader) -> Facts:
    """Read a Matroska / WebM file's facts from its header (and its tail when live).

    Raises ParseError when the bytes are not Matroska; lets BudgetExceeded through.
    """
    try:
        return _parse(reader)
    except (IndexError, struct.error, ValueError, OverflowError) as exc:
        raise ParseError(f"matroska: malformed element ({exc})") from exc


def _parse(reader: Reader) -> Facts:
    size = reader.size
    head = reader.read(0, min(size, _HEADER_READ))
    if len(head) < 4 or _read_id(head, 0)[0] != EBML:
        raise ParseError("matroska: no EBML header")
    _, id_len = _read_id(head, 0)
    ebml_size, size_len = _read_size(head, id_len)
    if ebml_size is None or ebml_size > 4096:
        raise ParseError("matroska: bad EBML header size")
    ebml_body = head[id_len + size_len : id_len + size_len + ebml_size]
    doctype = _find_child(ebml_body, DOCTYPE)
    if doctype is not None and doctype.rstrip(b"\0") not in (b"matroska", b"webm"):
        raise ParseError(f"matroska: unknown DocType {doctype[:16]!r}")
    pos = id_len + size_len + ebml_size
    seg_header = reader.read(pos, 12)
    seg_id, seg_id_len = _read_id(seg_header, 0)
    if seg_id != SEGMENT:
        raise ParseError("matroska: no Segment after the EBML header")
    seg_size, seg_size_len = _read_size(seg_header, seg_id_len)
    segment = _Segment(data_start=pos + seg_id_len + seg_size_len, size=seg_size)
    _read_segment_header(reader, segment)
    if not segment.tracks:
        raise ParseError("matroska: no Tracks")

    status = ProbeStatus.OK
    duration_s: float | None = None
    if segment.duration is not None and segment.duration > 0:
        duration_s = segment.duration * segment.timecode_scale / 1e9
    if segment.size is None:
        # Live / piped: nothing in the header says how long it is, and it may still grow.
        status = ProbeStatus.INCOMPLETE
        if duration_s is None:
            duration_s = _tail_duration(reader, segment)
    elif segment.data_start + segment.size > size:
        status = ProbeStatus.TRUNCATED
    if duration_s is None and segment.size is not None:
        duration_s = _tail_duration(reader, segment)

    return _facts(reader, segment, status, duration_s)


def _facts(
    reader: Reader, segment: _Segment, status: ProbeStatus, duration_s: float | None
) -> Facts:
    video: VideoInfo | None = None
    audio: list[AudioInfo] = []
    subtitles = 0
    for track in segment.tracks:
        if track.type == TRACK_VIDEO and video is None:
            rate = None
            if track.default_duration > 0:
                rate = 1e9 / track.default_duration
            elif segment.first_cluster is not None:
                rate = _cluster_frame_rate(reader, segment, track.number)
            config = codecs.VideoConfig()
            if track.codec_id.startswith("V_MPEG4/ISO/AVC"):
                config = codecs.h264_from_avcc(track.private)
            elif track.codec_id.startswith("V_MPEGH/ISO/HEVC"):
                config = codecs.hevc_from_hvcc(track.private)
            video = VideoInfo(
                codec=_codec_name(track),
                profile=config.profile,
                width=track.width,
                height=track.height,
                frame_rate=rate,
                pix_fmt=config.pix_fmt,
            )
        elif track.type == TRACK_AUDIO:
            rate_hz = track.output_sampling or track.sampling
            language = None if track.language in ("und", "") else track.language
            audio.append(
                AudioInfo(
                    codec=_codec_name(track),
                    channels=track.channels,
                    sample_rate=round(rate_hz),
                    language=language,
                )
            )
        elif track.type == TRACK_SUBTITLE:
            subtitles += 1
    creation = None
    if segment.date_utc is not None:
        when = _MKV_EPOCH + timedelta(microseconds=segment.date_utc // 1000)
        creation = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return Facts(
        container=CONTAINER,
        format_long_name=LONG_NAME,
        status=status,
        duration_s=duration_s,
        video=video,
        audio=tuple(audio),
        subtitle_count=subtitles,
        creation_time=creation,
    )


def _codec_name(track: _Track) -> str | None:
    cid = track.codec_id
    if cid.startswith("A_PCM/INT/LIT"):
        return riff.pcm_codec(track.bit_depth or 16)
    if cid.startswith("A_PCM/INT/BIG"):
        return riff.pcm_codec(track.bit_depth or 16, big_endian=True)
    if cid.startswith("A_PCM/FLOAT/IEEE"):
        return riff.pcm_codec(track.bit_depth or 32, floating=True)
    if cid == "V_MS/VFW/FOURCC":
        info = riff.parse_bitmapinfo(track.private)
        return info.codec if info else None
    if cid == "A_MS/ACM":
        wave = riff.parse_waveformat(track.private)
        return wave.codec if wave else None
    best = ""
    for prefix in _CODECS:
        if cid.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return _CODECS.get(best)


# --- segment header ----------------------------------------------------------------------------


def _read_segment_header(reader: Reader, segment: _Segment) -> None:
    """Visit the Segment's top-level elements up to the first Cluster; follow the SeekHead
    for Info / Tracks that sit after it."""
    pos = segment.data_start
    end = reader.size if segment.size is None else min(reader.size, pos + segment.size)
    seek_targets: dict[int, int] = {}
    have_info = have_tracks = False
    for _ in range(_MAX_TOP_LEVEL):
        if pos + 2 > end:
            break
        header = reader.read(pos, 12)
        try:
            el_id, id_len = _read_id(header, 0)
            el_size, size_len = _read_size(header, id_len)
        except (IndexError, ValueError):
            break  # damaged past this point: keep what was found (no Tracks: ParseError)
        body = pos + id_len + size_len
        if el_id == CLUSTER:
            segment.first_cluster = pos
            break
        if el_size is None:
            break  # an unknown-size element other than a Cluster: nothing more to learn
        if el_id == SEEKHEAD and el_size <= _MAX_INFO:
            seek_targets.update(_seek_entries(reader.read(body, el_size), segment.data_start))
        elif el_id == INFO:
            _read_info(_read_body(reader, body, el_size, _MAX_INFO), segment)
            have_info = True
        elif el_id == TRACKS:
            segment.tracks = _read_tracks(_read_body(reader, body, el_size, _MAX_TRACKS))
            have_tracks = True
        if have_info and have_tracks and segment.first_cluster is not None:
            break
        pos = body + el_size
    for wanted, done in ((INFO, have_info), (TRACKS, have_tracks)):
        target = seek_targets.get(wanted)
        if done or target is None or target >= reader.size:
            continue
        header = reader.read(target, 12)
        el_id, id_len = _read_id(header, 0)
        el_size, size_len = _read_size(header, id_len)
        if el_id != wanted or el_size is None:
            continue
        body_bytes = _read_body(reader, target + id_len + size_len, el_size, _MAX_TRACKS)
        if wanted == INFO:
            _read_info(body_bytes, segment)
        else:
            segment.tracks = _read_tracks(body_bytes)


def _read_body(reader: Reader, offset: int, size: int, cap: int) -> bytes:
    if size > cap:
        raise ParseError(f"matroska: element of {size} bytes exceeds the {cap}-byte cap")
    return reader.read(offset, size)


def _seek_entries(data: bytes, segment_start: int) -> dict[int, int]:
    targets: dict[int, int] = {}
    for el_id, body in _children(data):
        if el_id != SEEK:
            continue
        seek_id = seek_pos = None
        for child_id, child in _children(body):
            if child_id == SEEK_ID:
                seek_id = int.from_bytes(child, "big")
            elif child_id == SEEK_POSITION:
                seek_pos = int.from_bytes(child, "big")
        if seek_id is not None and seek_pos is not None:
            targets.setdefault(seek_id, segment_start + seek_pos)
    return targets


def _read_info(data: bytes, segment: _Segment) -> None:
    for el_id, body in _children(data):
        if el_id == TIMECODE_SCALE and body:
            segment.timecode_scale = int.from_bytes(body, "big") or 1_000_000
        elif el_id == DURATION:
            segment.duration = _float(body)
        elif el_id == DATE_UTC and len(body) == 8:
            segment.date_utc = int.from_bytes(body, "big", signed=True)


def _read_tracks(data: bytes) -> list[_Track]:
    tracks: list[_Track] = []
    for el_id, body in _children(data):
        if el_id != TRACK_ENTRY:
            continue
        track = _Track()
        for child_id, child in _children(body):
            if child_id == TRACK_NUMBER:
                track.number = int.from_bytes(child, "big")
            elif child_id == TRACK_TYPE:
                track.type = int.from_bytes(child, "big")
            elif child_id == CODEC_ID:
                track.codec_id = child.rstrip(b"\0").decode("ascii", "replace")
            elif child_id == CODEC_PRIVATE:
                track.private = child[:_MAX_PRIVATE]
            elif child_id == DEFAULT_DURATION:
                track.default_duration = int.from_bytes(child, "big")
            elif child_id == LANGUAGE:
                track.language = child.rstrip(b"\0").decode("ascii", "replace")
            elif child_id == VIDEO:
                for vid, vbody in _children(child):
                    if vid == PIXEL_WIDTH:
                        track.width = int.from_bytes(vbody, "big")
                    elif vid == PIXEL_HEIGHT:
                        track.height = int.from_bytes(vbody, "big")
            elif child_id == AUDIO:
                for aid, abody in _children(child):
                    if aid == SAMPLING_FREQUENCY:
                        track.sampling = _float(abody) or 8000.0
                    elif aid == OUTPUT_SAMPLING_FREQUENCY:
                        track.output_sampling = _float(abody)
                    elif aid == CHANNELS:
                        track.channels = int.from_bytes(abody, "big") or 1
                    elif aid == BIT_DEPTH:
                        track.bit_depth = int.from_bytes(abody, "big")
        tracks.append(track)
    return tracks


# --- clusters ----------------------------------------------------------------------------------


def _cluster_frame_rate(reader: Reader, segment: _Segment, track_number: int) -> float | None:
    """Frame rate from the spacing of the first blocks of one track (no DefaultDuration)."""
    start = segment.first_cluster
    if start is None:
        return None
    header = reader.read(start, 12)
    _, id_len = _read_id(header, 0)
    cluster_size, size_len = _read_size(header, id_len)
    pos = start + id_len + size_len
    end = pos + cluster_size if cluster_size is not None else reader.size
    end = min(end, reader.size, pos + _CLUSTER_SPAN)
    times: list[int] = []
    for _ in range(_MAX_CLUSTER_FRAMES * 8):
        if pos + 2 > end or len(times) >= _MAX_CLUSTER_FRAMES:
            break
        chunk = reader.read(pos, 16)
        el_id, id_len = _read_id(chunk, 0)
        el_size, size_len = _read_size(chunk, id_len)
        if el_size is None or el_id == CLUSTER:
            break
        body = pos + id_len + size_len
        if el_id in (SIMPLE_BLOCK, BLOCK_GROUP):
            block = reader.read(body, min(el_size, 16))
            if el_id == BLOCK_GROUP:
                inner_id, inner_id_len = _read_id(block, 0)
                _, inner_size_len = _read_size(block, inner_id_len)
                if inner_id != BLOCK:
                    pos = body + el_size
                    continue
                block = block[inner_id_len + inner_size_len :]
            number, n_len = _read_size(block, 0)
            if number == track_number:
                times.append(struct.unpack_from(">h", block, n_len)[0])
        pos = body + el_size
    times.sort()
    steps = [b - a for a, b in itertools.pairwise(times) if b > a]
    if not steps:
        return None
    steps.sort()
    step_s = steps[len(steps) // 2] * segment.timecode_scale / 1e9
    return 1.0 / step_s if step_s > 0 else None


def _tail_duration(reader: Reader, segment: _Segment) -> float | None:
    """Duration from the last Cluster in the file's last few MB: its timestamp plus its last
    block's timecode (and that block's duration when the track has a DefaultDuration)."""
    frame_ticks = {
        t.number: t.default_duration / segment.timecode_scale
        for t in segment.tracks
        if t.default_duration
    }
    size = reader.size
    for span in _TAIL_STEPS:
        start = max(segment.data_start, size - span)
        tail = reader.read(start, size - start)
        end_ticks = _last_cluster_end(tail, frame_ticks)
        if end_ticks is not None:
            return end_ticks * segment.timecode_scale / 1e9
        if start == segment.data_start:
            break
    return None


def _last_cluster_end(tail: bytes, frame_ticks: dict[int, float]) -> float | None:
    marker = CLUSTER.to_bytes(4, "big")
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
        _, id_len = _read_id(data, pos)
        _, size_len = _read_size(data, pos + id_len)
        p = pos + id_len + size_len
        ts_id, ts_id_len = _read_id(data, p)
        ts_size, ts_size_len = _read_size(data, p + ts_id_len)
        if ts_id == CRC32 and ts_size == 4:  # livestreams checksum each Cluster first
            p += ts_id_len + ts_size_len + 4
            ts_id, ts_id_len = _read_id(data, p)
            ts_size, ts_size_len = _read_size(data, p + ts_id_len)
    except (IndexError, ValueError):
        return None
    if ts_id != CLUSTER_TIMESTAMP or ts_size is None or not 1 <= ts_size <= 8:
        return None  # a false match inside frame data: real Clusters start with a Timestamp
    body = p + ts_id_len + ts_size_len
    cluster_ts = int.from_bytes(data[body : body + ts_size], "big")
    p = body + ts_size
    best: float | None = float(cluster_ts)
    while p < len(data):
        try:
            el_id, id_len = _read_id(data, p)
            el_size, size_len = _read_size(data, p + id_len)
        except (IndexError, ValueError):
            break
        if el_size is None or el_id == CLUSTER:
            break
        body = p + id_len + size_len
        block: bytes | None = None
        if el_id == SIMPLE_BLOCK:
            block = data[body : body + 16]
        elif el_id == BLOCK_GROUP:
            for child_id, child in _children(data[body : body + min(el_size, 64)]):
                if child_id == BLOCK:
                    block = child[:16]
                    break
            if block is None and body + 4 < len(data):
                inner_id, inner_len = _read_id(data, body)
                if inner_id == BLOCK:
                    _, inner_size_len = _read_size(data, body + inner_len)
                    block = data[body + inner_len + inner_size_len : body + 40]
        if block is not None and len(block) >= 4:
            try:
                number, n_len = _read_size(block, 0)
                rel = struct.unpack_from(">h", block, n_len)[0]
            except (IndexError, ValueError, struct.error):
                break
            end = cluster_ts + rel + frame_ticks.get(number or 0, 0.0)
            best = end if best is None else max(best, end)
        if body + el_size > len(data):
            break
        p = body + el_size
    return best


# --- EBML primitives ---------------------------------------------------------------------------


def _read_id(data: bytes, pos: int) -> tuple[int, int]:
    """An element ID at ``pos`` (marker bits kept) and its length in bytes."""
    first = data[pos]
    if first == 0:
        raise ValueError("invalid EBML ID")
    length = 8 - first.bit_length() + 1
    if length > 4:
        raise ValueError("EBML ID longer than 4 bytes")
    if pos + length > len(data):
        raise IndexError("EBML ID past the data")
    return int.from_bytes(data[pos : pos + length], "big"), length


def _read_size(data: bytes, pos: int) -> tuple[int | None, int]:
    """An EBML size varint at ``pos``: (value or None for "unknown", length in bytes)."""
    first = data[pos]
    if first == 0:
        raise ValueError("invalid EBML size")
    length = 8 - first.bit_length() + 1
    if pos + length > len(data):
        raise IndexError("EBML size past the data")
    value = first & (0xFF >> length)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    if value == (1 << (7 * length)) - 1:
        return None, length
    return value, length


def _children(data: bytes) -> list[tuple[int, bytes]]:
    """The (id, body) pairs of a master element's body; stops at the first bad element."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos + 2 <= len(data):
        try:
            el_id, id_len = _read_id(data, pos)
            el_size, size_len = _read_size(data, pos + id_len)
        except (IndexError, ValueError):
            break
        if el_size is None:
            break
        body = pos + id_len + size_len
        out.append((el_id, data[body : body + el_size]))
        pos = body + el_size
    return out


def _find_child(data: bytes, wanted: int) -> bytes | None:
    for el_id, body in _children(data):
        if el_id == wanted:
            return body
    return None


def _float(body: bytes) -> float | None:
    if len(body) == 4:
        value = float(struct.unpack(">f", body)[0])
    elif len(body) == 8:
        value = float(struct.unpack(">d", body)[0])
    else:
        return None
    return value if math.isfinite(value) else None
