"""Playback routes: HLS on demand and poster frames (ffmpeg reads through ``sources.loopback``).

* ``GET /hls/{content_id}/index.m3u8``: a VOD playlist computed from the probed duration.
* ``GET /hls/{content_id}/{n}.ts``: segment ``n``, from the cache or made now by ffmpeg
  (remux or transcode, see ``web/hls.py``); 503 "busy" when every transcode slot is taken.
* ``GET /thumb/{content_id}``: the content's poster frame (a placeholder when none).

Only catalogued content ids reach the source, as for ``/stream``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from archive_analyzer import pipeline
from archive_analyzer.catalog import db
from archive_analyzer.catalog.media import MediaInfo
from archive_analyzer.errors import (
    ArchiveError,
    Busy,
    FileVanished,
    PermissionDenied,
    SourceError,
)
from archive_analyzer.sources.base import Source
from archive_analyzer.sources.loopback import ffmpeg_input
from archive_analyzer.web import (
    accounts,
    hls,
    playable,
    prefs,
    queries,
    thumbs,
    tracks,
    trickplay,
    visibility,
)
from archive_analyzer.web.deps import Conn, CurrentUser, context, require_viewer
from archive_analyzer.web.render import language
from archive_analyzer.web.transcode import Cancelled, Playback, TranscodeFailed, run

log = logging.getLogger(__name__)

router = APIRouter(tags=["playback"], dependencies=[Depends(require_viewer)])

_SEGMENT = re.compile(r"^(?:(v)|a(\d{1,2})-)?(\d{1,6})\.ts$")
_PLACEHOLDER = Path(__file__).resolve().parents[1] / "static" / "poster.svg"
# Bumped when segment boundaries or encoding change, so old cached segments are not reused.
SEGMENT_LAYOUT = "v5"


def install(app: FastAPI) -> None:
    """Add the playback routes and their resources to ``app`` (called by ``create_app``)."""
    app.state.playback = Playback.from_settings(app.state.web.settings)
    app.include_router(router)

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})


def playback(request: Request) -> Playback:
    state: Playback = request.app.state.playback
    return state


def _target(conn: Conn, content_id: str, user: accounts.User) -> playable.PlayTarget:
    if not queries.valid_id(content_id):
        raise HTTPException(404, "not found")
    if not visibility.content_visible(conn, user, content_id):
        raise HTTPException(404, "not found")
    found = playable.target(conn, content_id)
    if found is None:
        raise HTTPException(404, "not found")
    return found


async def _source(request: Request, name: str) -> Source:
    try:
        source: Source = await run_in_threadpool(context(request).source_factory, name)
    except (FileVanished, PermissionDenied) as exc:
        raise HTTPException(404, "file not available") from exc
    except SourceError as exc:
        log.warning("playback: source unavailable: %s", exc)
        raise HTTPException(503, "source unavailable") from exc
    return source


def _hls_facts(
    conn: Conn, content_id: str, user: accounts.User
) -> tuple[playable.PlayTarget, MediaInfo]:
    found = _target(conn, content_id, user)
    if found.facts is None or not found.facts.duration_s:
        raise HTTPException(404, "not playable (no probed video)")
    return found, found.facts


_PLAYLIST_HEADERS = {"Cache-Control": "private, no-cache"}
_M3U8 = "application/vnd.apple.mpegurl"


@router.get(
    "/hls/{content_id}/{playlist}.m3u8",
    summary="HLS playlists of a content: index (master or media), video, audio<k>",
    response_class=Response,
)
async def hls_playlist(
    request: Request, content_id: str, playlist: str, conn: Conn, user: CurrentUser
) -> Response:
    found, facts = await run_in_threadpool(_hls_facts, conn, content_id, user)
    assert facts.duration_s is not None
    settings = context(request).settings
    chosen = hls.hls_plan(facts, file_name=found.file.name)
    headers = {**_PLAYLIST_HEADERS, "X-Playback-Mode": chosen.mode.value}
    duration, seg = facts.duration_s, settings.hls_segment_s
    if playlist == "index" and chosen.separate_audio:
        remembered = await run_in_threadpool(prefs.load, conn, user.id)
        ui = language(request)
        default = tracks.default_audio(chosen.audio, [remembered.audio_language, ui])
        text = hls.master_playlist(chosen.audio, default, ui, facts.height)
    elif playlist == "index":
        text = hls.playlist(duration, seg)
    elif playlist == "video" and chosen.separate_audio:
        text = hls.playlist(duration, seg, "v{n}.ts")
    elif playlist.startswith("audio") and playlist[5:].isdigit():
        k = int(playlist[5:])
        if k >= len(chosen.audio):
            raise HTTPException(404, "not found")
        text = hls.playlist(duration, seg, f"a{k}-{{n}}.ts")
    else:
        raise HTTPException(404, "not found")
    return Response(text, media_type=_M3U8, headers=headers)


@router.get(
    "/hls/{content_id}/{segment}",
    summary="One HLS segment (MPEG-TS), cached on disk",
    response_class=Response,
    responses={503: {"description": "Every transcode slot is busy"}},
)
async def hls_segment(
    request: Request, content_id: str, segment: str, conn: Conn, user: CurrentUser
) -> Response:
    match = _SEGMENT.match(segment)
    if match is None:
        raise HTTPException(404, "not found")
    n = int(match.group(3))
    found, facts = await run_in_threadpool(_hls_facts, conn, content_id, user)
    assert facts.duration_s is not None
    settings = context(request).settings
    if n >= hls.segment_count(facts.duration_s, settings.hls_segment_s):
        raise HTTPException(404, "no such segment")
    chosen = hls.hls_plan(facts, file_name=found.file.name)
    rendition: hls.Rendition = hls.MUXED
    if match.group(1):
        rendition = hls.VIDEO
    elif match.group(2) is not None:
        rendition = int(match.group(2))
    if (rendition == hls.MUXED) == chosen.separate_audio or (
        isinstance(rendition, int) and rendition >= len(chosen.audio)
    ):
        raise HTTPException(404, "no such segment")
    state = playback(request)
    state.hls_sessions[content_id] = time.monotonic()
    encoding = hls.Encoding(
        max_height=settings.transcode_max_height,
        preset=settings.transcode_preset,
        start_preset=settings.transcode_start_preset,
    )
    seg_ms = int(settings.hls_segment_s * 1000)
    if isinstance(rendition, int):
        variant = f"audio-{seg_ms}-{SEGMENT_LAYOUT}"
        option = chosen.audio[rendition]
        name = f"a{'+'.join(str(s) for s in option.streams)}-{n}.ts"
        slots = state.audio_slots
    else:
        variant = f"{chosen.mode.value}-{seg_ms}-{SEGMENT_LAYOUT}"
        if chosen.mode is hls.Mode.TRANSCODE:  # other settings make other segments
            variant += f"-{encoding.max_height}p-{encoding.preset}-{encoding.start_preset}"
        name = f"{rendition}{n}.ts"
        slots = state.slots
    key = f"{found.cache_key}/{variant}/{name}"
    headers = {"Cache-Control": "private, max-age=86400", "X-Playback-Mode": chosen.mode.value}
    cached = await run_in_threadpool(state.segments.get, key)
    if cached is not None:
        return FileResponse(cached, media_type="video/mp2t", headers=headers)
    # Being made for another request (a preload from the watch page, a second tab): wait for
    # that run instead of starting a second ffmpeg; make it here if that one was cancelled.
    while (making := state.making.get(key)) is not None:
        with contextlib.suppress(ArchiveError):
            cached = await asyncio.shield(making)
        if cached is not None:
            return FileResponse(cached, media_type="video/mp2t", headers=headers)
    # Claimed before the next await: a request arriving while this one waits for its source
    # or a slot finds the claim and waits for this run (checking only once a slot was held
    # let two requests at once both start ffmpeg).
    done: asyncio.Future[Path] = asyncio.get_running_loop().create_future()
    state.making[key] = done
    temp: Path | None = None
    try:
        source = await _source(request, found.file.source)
        async with slots.hold():
            cached = await run_in_threadpool(state.segments.get, key)  # made while we waited
            if cached is None:
                temp = state.segments.temp_path(key)
                with ffmpeg_input(source, found.file.path) as source_arg:
                    args = hls.segment_args(
                        source_arg,
                        str(temp),
                        chosen,
                        n,
                        facts.duration_s,
                        settings.hls_segment_s,
                        encoding,
                        rendition=rendition,
                    )
                    label = chosen.mode.value if not isinstance(rendition, int) else "audio"
                    await run(
                        args,
                        gone=request.is_disconnected,
                        timeout_s=settings.transcode_timeout_s,
                        processes=state.processes,
                        label=f"{label} {content_id} {name}",
                    )
                cached = await run_in_threadpool(state.segments.put, key, temp)
            done.set_result(cached)
    except Cancelled as exc:
        if temp is not None:
            temp.unlink(missing_ok=True)
        done.set_exception(exc)
        return Response(status_code=499, content=str(exc))
    except TranscodeFailed as exc:
        if temp is not None:
            temp.unlink(missing_ok=True)
        done.set_exception(exc)
        log.warning("segment %s %s: %s", content_id, name, exc)
        raise HTTPException(500, "segment could not be made") from exc
    except BaseException as exc:
        if temp is not None:
            temp.unlink(missing_ok=True)
        if not done.done():
            done.set_exception(Cancelled(f"{name}: {type(exc).__name__}"))
        raise
    finally:
        if done.done() and done.exception() is not None:  # retrieved: no "never retrieved"
            log.debug("segment %s %s not made", content_id, name)
        if state.making.get(key) is done:
            del state.making[key]
    return FileResponse(cached, media_type="video/mp2t", headers=headers)


@router.get(
    "/thumb/{content_id}", summary="Poster frame of a content (JPEG)", response_class=Response
)
async def thumbnail(
    request: Request,
    content_id: str,
    conn: Conn,
    user: CurrentUser,
    at: Annotated[float | None, Query(ge=0, le=10 * 24 * 3600)] = None,
) -> Response:
    """The poster frame; ``at``: the frame at that media time instead (an editor's pick for a
    series or brand poster), cached apart and not recorded."""
    found = await run_in_threadpool(_target, conn, content_id, user)
    file = found.file
    state = playback(request)
    name = thumbs.cache_name(file.id, file.size, file.mtime, at)
    path = state.thumbs_dir / name
    headers = {"Cache-Control": "private, max-age=3600"}
    if path.exists():
        return FileResponse(path, media_type="image/jpeg", headers=headers)
    known = await run_in_threadpool(thumbs.load, conn, file.id)
    same_version = known is not None and (known.size, known.mtime) == (file.size, file.mtime)
    failed_before = at is None and same_version and known is not None and known.error is not None
    if found.facts is None or failed_before:
        return _placeholder()
    try:
        async with state.thumb_slots.hold():
            return await _make_thumbnail(request, conn, found, path, content_id, at)
    except Busy:
        # a page of new tiles asks for many frames at once: a placeholder now, the frame on
        # the next view (not cached by the browser)
        return _placeholder(cache=False)


async def _make_thumbnail(
    request: Request,
    conn: Conn,
    found: playable.PlayTarget,
    path: Path,
    content_id: str,
    at: float | None = None,
) -> Response:
    web = context(request)
    state = playback(request)
    file = found.file
    assert found.facts is not None
    headers = {"Cache-Control": "private, max-age=3600"}
    source = await _source(request, file.source)
    at_s = thumbs.position(found.facts.duration_s) if at is None else at
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".partial-{path.name}")
    watch = thumbs.Stopwatch()
    error: str | None = None
    stderr = ""
    try:
        with ffmpeg_input(source, file.path) as source_arg:
            for position in (at_s, 0.0) if at_s > 0 else (0.0,):
                # A seek can land after the last key frame (one GOP for the whole file, no
                # index in MPEG-TS): no frame comes out, so take the first frame instead.
                stderr += await run(
                    thumbs.args(
                        source_arg,
                        str(temp),
                        position,
                        web.settings.thumb_width,
                        hls.input_options(found.facts.container),
                    ),
                    gone=request.is_disconnected,
                    timeout_s=web.settings.transcode_timeout_s,
                    processes=state.processes,
                    label=f"thumbnail {content_id}",
                )
                at_s = position
                if temp.exists() and temp.stat().st_size > 0:
                    break
        if not temp.exists() or temp.stat().st_size == 0:
            error = "no frame decoded"
        else:
            temp.replace(path)
    except Cancelled:
        temp.unlink(missing_ok=True)
        return Response(status_code=499)
    except TranscodeFailed as exc:
        error = str(exc)
    finally:
        temp.unlink(missing_ok=True)
    bytes_read, seeks = thumbs.read_stats(stderr)
    if bytes_read > web.settings.thumb_budget_bytes:
        log.warning(
            "thumbnail of %s read %d bytes (budget %d)",
            file.path,
            bytes_read,
            web.settings.thumb_budget_bytes,
        )
    if at is None:  # the default frame's outcome is remembered (a failed file is not retried)
        record = thumbs.ThumbRecord(
            file.id, file.size, file.mtime, at_s, bytes_read, seeks, watch.ms, error
        )
        await run_in_threadpool(_store_thumb, conn, record, web.clock)
    if error is not None:
        return _placeholder()
    return FileResponse(path, media_type="image/jpeg", headers=headers)


def _store_thumb(conn: Conn, record: thumbs.ThumbRecord, clock: db.Clock) -> None:
    with db.transaction(conn):
        thumbs.store(conn, record, clock)


def _placeholder(cache: bool = True) -> Response:
    control = "private, max-age=300" if cache else "no-store"
    return FileResponse(
        _PLACEHOLDER, media_type="image/svg+xml", headers={"Cache-Control": control}
    )


_PREVIEW_FILE = re.compile(r"^(thumbs\.vtt|sprite-\d{1,5}\.jpg)$")


@router.get(
    "/previews/{content_id}/{file}",
    summary="Scrubbing previews: the WebVTT thumbnails track and its JPEG sprites",
    response_class=Response,
)
async def preview_file(
    request: Request, content_id: str, file: str, conn: Conn, user: CurrentUser
) -> Response:
    if _PREVIEW_FILE.match(file) is None:
        raise HTTPException(404, "not found")
    await run_in_threadpool(_target, conn, content_id, user)  # visible to this user
    root = pipeline.preview_options(context(request).settings).root
    folder = await run_in_threadpool(trickplay.current_folder, conn, root, content_id)
    path = folder / file if folder is not None else None
    if path is None or not path.is_file():
        raise HTTPException(404, "no previews yet")
    if file == "thumbs.vtt":
        with contextlib.suppress(OSError):
            os.utime(path)  # recency for the size cap's eviction
        return FileResponse(
            path,
            media_type="text/vtt; charset=utf-8",
            headers={"Cache-Control": "private, no-cache"},
        )
    return FileResponse(
        path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"}
    )
