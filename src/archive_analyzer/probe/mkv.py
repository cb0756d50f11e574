"""Matroska / WebM: the facts from the ebml.EBML header, ``Info`` and ``Tracks`` (a few KB).

Files written to disk carry ``Info/Duration`` near the start. Files written to a pipe or by a
live capture have an unknown-size ``Segment`` and no Duration: the parser then scans the last
few MB for the last ``Cluster`` and takes its timestamp plus its last block's timecode. Such a
file is reported ``incomplete`` (it may still be growing) but carries that duration, which is
what ffprobe computes for a finished one. A ``Segment`` that claims to run past the end of the
file is ``truncated``; the header Duration is still reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from archive_analyzer.errors import ParseError
from archive_analyzer.probe import codecs, ebml, elementary, h264, mkv_clusters, mp4_entries, riff
from archive_analyzer.probe.facts import Facts, Reader, malformed_is_parse_error
from archive_analyzer.probe.result import AudioInfo, ProbeStatus, VideoInfo
from archive_analyzer.timecode import clean_label

CONTAINER = "matroska,webm"
LONG_NAME = "Matroska / WebM"

TRACK_VIDEO = 1
TRACK_AUDIO = 2
TRACK_SUBTITLE = 17

_HEADER_READ = 4096  # first read: ebml.EBML header, Segment, SeekHead and usually Info + Tracks
_MAX_TOP_LEVEL = 64  # top-level elements visited before the first Cluster
_MAX_INFO = 64 * 1024
_MAX_PRIVATE = 4096  # of CodecPrivate kept: avcC / hvcC / BITMAPINFOHEADER / WAVEFORMATEX
_MAX_TRACKS = 1024 * 1024  # CodecPrivate of many tracks; still bounded
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
    interlaced: int = 0  # FlagInterlaced: 0 undetermined, 1 interlaced, 2 progressive
    field_order: int = 2  # FieldOrder: 2 undetermined
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
    timecode: str | None = None  # a TIMECODE tag (ffmpeg writes one), global before per-track


@malformed_is_parse_error("matroska: malformed element")
def parse(reader: Reader) -> Facts:
    """Read a Matroska / WebM file's facts from its header (and its tail when live).

    Raises ParseError when the bytes are not Matroska; lets BudgetExceeded through.
    """
    size = reader.size
    head = reader.read(0, min(size, _HEADER_READ))
    if len(head) < 4 or ebml.read_id(head, 0)[0] != ebml.EBML:
        raise ParseError("matroska: no ebml.EBML header")
    _, id_len = ebml.read_id(head, 0)
    ebml_size, size_len = ebml.read_size(head, id_len)
    if ebml_size is None or ebml_size > 4096:
        raise ParseError("matroska: bad ebml.EBML header size")
    ebml_body = head[id_len + size_len : id_len + size_len + ebml_size]
    doctype = ebml.find_child(ebml_body, ebml.DOCTYPE)
    if doctype is not None and doctype.rstrip(b"\0") not in (b"matroska", b"webm"):
        raise ParseError(f"matroska: unknown DocType {doctype[:16]!r}")
    pos = id_len + size_len + ebml_size
    seg_header = reader.read(pos, 12)
    seg_id, seg_id_len = ebml.read_id(seg_header, 0)
    if seg_id != ebml.SEGMENT:
        raise ParseError("matroska: no Segment after the ebml.EBML header")
    seg_size, seg_size_len = ebml.read_size(seg_header, seg_id_len)
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
                rate = mkv_clusters.frame_rate(
                    reader, segment.first_cluster, segment.timecode_scale, track.number
                )
            codec = _codec_name(track)
            config = _video_config(reader, segment, track, codec)
            video = VideoInfo(
                codec=codec,
                profile=config.profile,
                width=track.width,
                height=track.height,
                frame_rate=rate,
                pix_fmt=config.pix_fmt,
                field_order=_field_order(track, config),
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
        timecode=segment.timecode,
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
    if cid == "V_QUICKTIME":  # CodecPrivate is a QuickTime sample description
        entry = mp4_entries.parse_stsd(bytes(8) + track.private, b"vide")
        return entry.codec if entry else None
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
            el_id, id_len = ebml.read_id(header, 0)
            el_size, size_len = ebml.read_size(header, id_len)
        except (IndexError, ValueError):
            break  # damaged past this point: keep what was found (no Tracks: ParseError)
        body = pos + id_len + size_len
        if el_id == ebml.CLUSTER:
            segment.first_cluster = pos
            break
        if el_size is None:
            break  # an unknown-size element other than a Cluster: nothing more to learn
        if el_id == ebml.SEEKHEAD and el_size <= _MAX_INFO:
            seek_targets.update(_seek_entries(reader.read(body, el_size), segment.data_start))
        elif el_id == ebml.INFO:
            _read_info(_read_body(reader, body, el_size, _MAX_INFO), segment)
            have_info = True
        elif el_id == ebml.TRACKS:
            segment.tracks = _read_tracks(_read_body(reader, body, el_size, _MAX_TRACKS))
            have_tracks = True
        elif el_id == ebml.TAGS and el_size <= _MAX_INFO:
            # Only Tags before the first Cluster (ffmpeg's place for them); mkvmerge writes
            # its Tags after the clusters, and seeking there would cost a read per file.
            segment.timecode = _tags_timecode(reader.read(body, el_size))
        if have_info and have_tracks and segment.first_cluster is not None:
            break
        pos = body + el_size
    for wanted, done in ((ebml.INFO, have_info), (ebml.TRACKS, have_tracks)):
        target = seek_targets.get(wanted)
        if done or target is None or target >= reader.size:
            continue
        header = reader.read(target, 12)
        el_id, id_len = ebml.read_id(header, 0)
        el_size, size_len = ebml.read_size(header, id_len)
        if el_id != wanted or el_size is None:
            continue
        body_bytes = _read_body(reader, target + id_len + size_len, el_size, _MAX_TRACKS)
        if wanted == ebml.INFO:
            _read_info(body_bytes, segment)
        else:
            segment.tracks = _read_tracks(body_bytes)


# FieldOrder (with FlagInterlaced = 1) -> ffprobe's field_order, as libavformat maps it.
_FIELD_ORDERS = {0: "progressive", 1: "tt", 6: "bb", 9: "bt", 14: "tb"}
_FRAME_PEEK = 1024  # of a track's first frame, for the headers CodecPrivate may leave out


def _video_config(
    reader: Reader, segment: _Segment, track: _Track, codec: str | None
) -> codecs.VideoConfig:
    """Profile / pix_fmt (/ field order) from CodecPrivate, else from the track's first frame
    (MPEG-1/2 and MPEG-4 part 2 headers are often only in-band; VP9's always are)."""
    if track.codec_id.startswith("V_MPEG4/ISO/AVC"):
        return h264.from_avcc(track.private)
    if track.codec_id.startswith("V_MPEGH/ISO/HEVC"):
        return codecs.hevc_from_hvcc(track.private)
    if codec not in ("h264", "mpeg1video", "mpeg2video", "mpeg4", "vp9", "dnxhd"):
        return codecs.VideoConfig(pix_fmt=codecs.fixed_pix_fmt(codec))
    found = elementary.in_band(codec, track.private)
    if found is None and segment.first_cluster is not None:
        frame = mkv_clusters.first_frame(reader, segment.first_cluster, track.number, _FRAME_PEEK)
        found = elementary.in_band(codec, frame)
    return found or codecs.VideoConfig()


def _field_order(track: _Track, config: codecs.VideoConfig) -> str | None:
    """The container's word (FlagInterlaced, FieldOrder) wins over the bitstream's, as in
    libavformat."""
    if track.interlaced == 1:
        return _FIELD_ORDERS.get(track.field_order)
    if track.interlaced == 2:
        return "progressive"
    return config.field_order


def _read_body(reader: Reader, offset: int, size: int, cap: int) -> bytes:
    if size > cap:
        raise ParseError(f"matroska: element of {size} bytes exceeds the {cap}-byte cap")
    return reader.read(offset, size)


def _seek_entries(data: bytes, segment_start: int) -> dict[int, int]:
    targets: dict[int, int] = {}
    for el_id, body in ebml.children(data):
        if el_id != ebml.SEEK:
            continue
        seek_id = seek_pos = None
        for child_id, child in ebml.children(body):
            if child_id == ebml.SEEK_ID:
                seek_id = int.from_bytes(child, "big")
            elif child_id == ebml.SEEK_POSITION:
                seek_pos = int.from_bytes(child, "big")
        if seek_id is not None and seek_pos is not None:
            targets.setdefault(seek_id, segment_start + seek_pos)
    return targets


def _read_info(data: bytes, segment: _Segment) -> None:
    for el_id, body in ebml.children(data):
        if el_id == ebml.TIMECODE_SCALE and body:
            segment.timecode_scale = int.from_bytes(body, "big") or 1_000_000
        elif el_id == ebml.DURATION:
            segment.duration = ebml.float_value(body)
        elif el_id == ebml.DATE_UTC and len(body) == 8:
            segment.date_utc = int.from_bytes(body, "big", signed=True)


def _tags_timecode(data: bytes) -> str | None:
    """The value of a ``TIMECODE`` simple tag: a global one (no track target) first."""
    found: list[tuple[bool, str]] = []
    for el_id, tag in ebml.children(data):
        if el_id != ebml.TAG:
            continue
        per_track = False
        for child_id, child in ebml.children(tag):
            if child_id == ebml.TARGETS:
                per_track = ebml.find_child(child, ebml.TAG_TRACK_UID) is not None
            elif child_id == ebml.SIMPLE_TAG:
                name = _text(ebml.find_child(child, ebml.TAG_NAME))
                label = clean_label(_text(ebml.find_child(child, ebml.TAG_STRING)))
                if name.casefold() == "timecode" and label:
                    found.append((per_track, label))
    found.sort(key=lambda item: item[0])
    return found[0][1] if found else None


def _text(value: bytes | None) -> str:
    return (value or b"").rstrip(b"\0").decode("utf-8", "replace")


def _read_tracks(data: bytes) -> list[_Track]:
    tracks: list[_Track] = []
    for el_id, body in ebml.children(data):
        if el_id != ebml.TRACK_ENTRY:
            continue
        track = _Track()
        for child_id, child in ebml.children(body):
            if child_id == ebml.TRACK_NUMBER:
                track.number = int.from_bytes(child, "big")
            elif child_id == ebml.TRACK_TYPE:
                track.type = int.from_bytes(child, "big")
            elif child_id == ebml.CODEC_ID:
                track.codec_id = child.rstrip(b"\0").decode("ascii", "replace")
            elif child_id == ebml.CODEC_PRIVATE:
                track.private = child[:_MAX_PRIVATE]
            elif child_id == ebml.DEFAULT_DURATION:
                track.default_duration = int.from_bytes(child, "big")
            elif child_id == ebml.LANGUAGE:
                track.language = child.rstrip(b"\0").decode("ascii", "replace")
            elif child_id == ebml.VIDEO:
                for vid, vbody in ebml.children(child):
                    if vid == ebml.PIXEL_WIDTH:
                        track.width = int.from_bytes(vbody, "big")
                    elif vid == ebml.PIXEL_HEIGHT:
                        track.height = int.from_bytes(vbody, "big")
                    elif vid == ebml.FLAG_INTERLACED:
                        track.interlaced = int.from_bytes(vbody, "big")
                    elif vid == ebml.FIELD_ORDER:
                        track.field_order = int.from_bytes(vbody, "big")
            elif child_id == ebml.AUDIO:
                for aid, abody in ebml.children(child):
                    if aid == ebml.SAMPLING_FREQUENCY:
                        track.sampling = ebml.float_value(abody) or 8000.0
                    elif aid == ebml.OUTPUT_SAMPLING_FREQUENCY:
                        track.output_sampling = ebml.float_value(abody)
                    elif aid == ebml.CHANNELS:
                        track.channels = int.from_bytes(abody, "big") or 1
                    elif aid == ebml.BIT_DEPTH:
                        track.bit_depth = int.from_bytes(abody, "big")
        tracks.append(track)
    return tracks


def _tail_duration(reader: Reader, segment: _Segment) -> float | None:
    frame_ticks = {
        t.number: t.default_duration / segment.timecode_scale
        for t in segment.tracks
        if t.default_duration
    }
    return mkv_clusters.tail_duration(
        reader, segment.data_start, segment.timecode_scale, frame_ticks
    )
