"""Subtitles as WebVTT and the user's remembered track choices.

* ``GET /subtitles/{content_id}/{key}.vtt``: an embedded text stream (``s<N>``) or a sidecar
  file (``f<file id>``) of the content's played file, as WebVTT, made once per file version
  and cached. Only tracks the content's description lists are served: the sidecar id must be
  one found beside the video in the catalog.
* ``POST /api/playback/prefs``: remember the audio / subtitle language the user picked.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from archive_analyzer.errors import SourceError
from archive_analyzer.sources.base import Source
from archive_analyzer.sources.loopback import ffmpeg_input
from archive_analyzer.web import (
    accounts,
    hls,
    playinfo,
    prefs,
    queries,
    subtitles,
    tracks,
)
from archive_analyzer.web.deps import Conn, CurrentUser, api_csrf, context, require_viewer
from archive_analyzer.web.routes.playback import _source, _target, playback
from archive_analyzer.web.transcode import Cancelled, TranscodeFailed, run

log = logging.getLogger(__name__)

router = APIRouter(tags=["playback"], dependencies=[Depends(require_viewer)])
_KEY = re.compile(r"^(s\d{1,3}|f[A-Za-z0-9_-]{1,64})\.vtt$")
_VTT = "text/vtt; charset=utf-8"


@router.get(
    "/subtitles/{content_id}/{track_file}",
    summary="A subtitle track as WebVTT",
    response_class=Response,
)
async def subtitle(
    request: Request, content_id: str, track_file: str, conn: Conn, user: CurrentUser
) -> Response:
    match = _KEY.match(track_file)
    if match is None:
        raise HTTPException(404, "not found")
    key = match.group(1)
    found = await run_in_threadpool(_target, conn, content_id, user)
    listed = await run_in_threadpool(playinfo.subtitle_tracks, conn, found)
    track = next((t for t in listed if t.key == key), None)
    if track is None:
        raise HTTPException(404, "no such subtitle track")
    state = playback(request)
    headers = {"Cache-Control": "private, max-age=3600"}
    if track.file is not None:
        side = await run_in_threadpool(_sidecar_row, conn, track.file)
        cache_key = f"sidecar/{side.file_id}-{side.size}-{int(side.mtime * 1000)}.vtt"
    else:
        cache_key = f"{found.cache_key}/s{track.index}.vtt"
    cached = await run_in_threadpool(state.subtitles.get, cache_key)
    if cached is not None:
        return FileResponse(cached, media_type=_VTT, headers=headers)
    source = await _source(request, found.file.source)
    temp = state.subtitles.temp_path(cache_key)
    try:
        if track.file is not None:
            data = await run_in_threadpool(_read_sidecar, source, side.path, side.size)
            temp.write_bytes(await subtitles.convert(subtitles.decode_text(data), track.format))
        else:
            assert track.index is not None and found.facts is not None
            async with state.audio_slots.hold():
                with ffmpeg_input(source, found.file.path) as source_arg:
                    args = subtitles.extract_args(
                        source_arg,
                        str(temp),
                        track.index,
                        track.format,
                        hls.input_options(found.facts.container),
                    )
                    await run(
                        args,
                        gone=request.is_disconnected,
                        timeout_s=context(request).settings.transcode_timeout_s,
                        processes=state.processes,
                        label=f"subtitles {content_id} {key}",
                    )
        path = await run_in_threadpool(state.subtitles.put, cache_key, temp)
    except Cancelled:
        return Response(status_code=499)
    except TranscodeFailed as exc:
        log.warning("subtitles %s %s: %s", content_id, key, exc)
        raise HTTPException(500, "subtitles could not be made") from exc
    finally:
        temp.unlink(missing_ok=True)
    return FileResponse(path, media_type=_VTT, headers=headers)


def _sidecar_row(conn: Conn, file_id: str) -> queries.SidecarFile:
    row = queries.sidecar_file(conn, file_id)
    if row is None:
        raise HTTPException(404, "no such subtitle track")
    return row


def _read_sidecar(source: Source, path: str, size: int) -> bytes:
    if size > subtitles.MAX_SIDECAR_BYTES:
        raise HTTPException(413, "subtitle file too large")
    try:
        with source.open(path) as handle:
            return handle.read(subtitles.MAX_SIDECAR_BYTES + 1)[: subtitles.MAX_SIDECAR_BYTES]
    except SourceError as exc:
        raise HTTPException(404, "subtitle file not available") from exc


class PrefsIn(BaseModel):
    audio_language: str | None = Field(default=None, max_length=8)
    subtitle_language: str | None = Field(default=None, max_length=8)


@router.post("/api/playback/prefs", summary="Remember the chosen audio/subtitle language")
def save_prefs(
    request: Request,
    conn: Conn,
    body: PrefsIn,
    user: Annotated[accounts.User, Depends(api_csrf)],
) -> dict[str, str | None]:
    given = body.model_dump(exclude_unset=True)
    values: dict[str, str | None] = {}
    if "audio_language" in given:
        values["audio_language"] = tracks.language(body.audio_language)
    if "subtitle_language" in given:
        # "" (or null) = subtitles off
        values["subtitle_language"] = tracks.language(body.subtitle_language) or ""
    saved = prefs.save(conn, user.id, now=context(request).clock, **values)
    return {"audio_language": saved.audio_language, "subtitle_language": saved.subtitle_language}
