"""The archive team's routes: hands marked in the player, clip and edit list exports.

Reading an episode's hands and looking players up is open to every logged-in user (the player
shows hands as markers); everything else is for editors (``deps.require_editor``: editors and
admins), and state changes also need a session's ``X-CSRF-Token`` header (``editor_csrf``).
Anything naming a content checks per-brand visibility (404 when hidden, as elsewhere). Clip
exports, original downloads and edit lists are recorded in the audit log (``export``):

* ``GET /api/players?q=``: type-ahead over names, display names, Korean names and 초성.
* ``GET /api/contents/{id}/hands``: an episode's hands and its file's clock.
* ``POST /api/contents/{id}/hands``, ``PUT`` / ``DELETE /api/hands/{id}``: mark, edit,
  delete a hand (done by the catalog writer; times in seconds, ``H:MM:SS`` or the source
  timecode ``HH:MM:SS:FF``).
* ``POST /api/contents/{id}/export`` ``{"exact": bool}`` and ``GET /api/exports/{key}``: a clip
  export job and its progress; ``GET /exports/clips/{key}``: the finished clip.
* ``GET /download/{id}``: the whole original, streamed from the source.
* ``GET /exports/edit-list?format=edl|fcpxml|otio|csv&content=|series=|q=``: an edit list.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from archive_analyzer.catalog import audit as audit_log
from archive_analyzer.catalog import hands, marking
from archive_analyzer.catalog.file_facts import FileFacts
from archive_analyzer.errors import (
    ExportError,
    HandError,
    JobError,
    NotFound,
)
from archive_analyzer.export import edit_lists, selection
from archive_analyzer.jobs.edits import DeleteHand, EditReply, SaveHand
from archive_analyzer.sources.base import FileReader
from archive_analyzer.web import accounts, search, streaming, visibility
from archive_analyzer.web.deps import (
    Conn,
    CurrentUser,
    EditorUser,
    EditorWrite,
    ExportRequests,
    audit,
    context,
    current_user,
    known_id,
)
from archive_analyzer.web.routes.stream import file_info, open_played

log = logging.getLogger(__name__)

router = APIRouter(tags=["archive team"], dependencies=[Depends(current_user)])


def install(app: FastAPI) -> None:
    """Add the archive team's routes to ``app``."""
    app.include_router(router)


def _exports(request: Request) -> ExportRequests:
    return context(request).exports


class HandIn(BaseModel):
    """A hand as the marking form sends it. Times: seconds, H:MM:SS or HH:MM:SS:FF."""

    start: str = Field(max_length=32)
    end: str = Field(max_length=32)
    title: str | None = Field(default=None, max_length=300)
    players: list[str] = Field(default_factory=list, max_length=20)
    winner: str | None = Field(default=None, max_length=64)
    pot_size_bb: float | None = Field(default=None, ge=0, le=1e9)
    is_all_in: bool | None = None
    is_showdown: bool | None = None
    board: str | None = Field(default=None, max_length=64)
    highlight_score: int | None = Field(default=None, ge=0, le=hands.MAX_SCORE)
    tags: list[str] = Field(default_factory=list, max_length=20)


class ExportIn(BaseModel):
    exact: bool = False


def _visible(conn: Conn, user: accounts.User, content_id: str) -> str:
    """``content_id`` when it is a content ``user`` may see (its brand), else 404."""
    if not visibility.content_visible(conn, user, known_id(content_id)):
        raise HTTPException(404, "not found")
    return content_id


@router.get("/api/players", summary="Players for a type-ahead (names, Korean names, 초성)")
def players(conn: Conn, q: Annotated[str, Query(max_length=100)] = "") -> list[dict[str, Any]]:
    return marking.find_players(conn, q)


@router.get("/api/contents/{content_id}/hands", summary="An episode's hands and its clock")
def list_hands(conn: Conn, user: CurrentUser, content_id: str) -> dict[str, Any]:
    ep = marking.episode(conn, _visible(conn, user, content_id))
    if ep is None:
        raise HTTPException(404, "not an episode with a file")
    return _panel(conn, ep)


def _panel(conn: Conn, ep: marking.Episode) -> dict[str, Any]:
    clock = ep.clock
    return {
        "content_id": ep.id,
        "duration_s": clock.duration_s,
        "frame_rate": clock.frame_rate,
        "timecode": clock.start_timecode,
        "hands": marking.hands_of(conn, ep),
    }


def _hand(conn: Conn, ep: marking.Episode, body: HandIn) -> hands.Hand:
    try:
        start = hands.seconds_of(body.start, ep.clock)
        end = hands.seconds_of(body.end, ep.clock)
    except HandError as exc:
        raise HTTPException(422, str(exc)) from None
    ids = [known_id(p) for p in dict.fromkeys(body.players)]
    winner = known_id(body.winner) if body.winner else None
    tags = tuple(t.strip() for t in body.tags if t.strip())
    hand = hands.Hand(
        start=round(start, 6),
        end=round(end, 6),
        title=(body.title or "").strip() or None,
        players=tuple(ids),
        winner=winner,
        pot_size_bb=body.pot_size_bb,
        is_all_in=body.is_all_in,
        is_showdown=body.is_showdown,
        board=(body.board or "").strip() or None,
        highlight_score=body.highlight_score,
        tags=tags,
    )
    try:
        hands.check(hand, ep.clock)
    except HandError as exc:
        raise HTTPException(422, str(exc)) from None
    return hand


async def _submit(request: Request, edit: SaveHand | DeleteHand) -> EditReply:
    writer = context(request).writer
    try:
        reply = await run_in_threadpool(writer.submit_edit, edit)
    except JobError as exc:
        raise HTTPException(503, str(exc)) from exc
    if reply.missing:
        raise HTTPException(404, reply.error or "not found")
    if reply.error is not None:
        raise HTTPException(422, reply.error)
    return reply


@router.post("/api/contents/{content_id}/hands", summary="Mark a hand (editors)", status_code=201)
async def mark_hand(
    request: Request, conn: Conn, user: EditorWrite, content_id: str, body: HandIn
) -> dict[str, Any]:
    await run_in_threadpool(_visible, conn, user, content_id)
    ep = await run_in_threadpool(marking.episode, conn, content_id)
    if ep is None:
        raise HTTPException(404, "not an episode with a file")
    hand = await run_in_threadpool(_hand, conn, ep, body)
    hand_id = uuid.uuid4().hex
    await _submit(request, SaveHand(ep.id, hand_id, hand, True, user.username))
    return await run_in_threadpool(_one, conn, ep, hand_id)


@router.put("/api/hands/{hand_id}", summary="Edit a hand (editors)")
async def edit_hand(
    request: Request, conn: Conn, user: EditorWrite, hand_id: str, body: HandIn
) -> dict[str, Any]:
    await run_in_threadpool(_visible, conn, user, hand_id)
    parent = await run_in_threadpool(marking.hand_parent, conn, hand_id)
    ep = await run_in_threadpool(marking.episode, conn, parent) if parent else None
    if ep is None:
        raise HTTPException(404, "no such hand")
    hand = await run_in_threadpool(_hand, conn, ep, body)
    await _submit(request, SaveHand(ep.id, hand_id, hand, False, user.username))
    return await run_in_threadpool(_one, conn, ep, hand_id)


@router.delete("/api/hands/{hand_id}", summary="Delete a hand (editors)", status_code=204)
async def delete_hand(request: Request, conn: Conn, user: EditorWrite, hand_id: str) -> Response:
    await run_in_threadpool(_visible, conn, user, hand_id)
    await _submit(request, DeleteHand(hand_id, user.username))
    return Response(status_code=204)


def _one(conn: Conn, ep: marking.Episode, hand_id: str) -> dict[str, Any]:
    found = next((h for h in marking.hands_of(conn, ep) if h["id"] == hand_id), None)
    if found is None:
        raise HTTPException(404, "no such hand")
    return found


# --- clip exports ------------------------------------------------------------------------


@router.post("/api/contents/{content_id}/export", summary="Export a clip (editors)")
async def export_clip(
    request: Request, conn: Conn, user: EditorWrite, content_id: str, body: ExportIn
) -> dict[str, Any]:
    jobs = _exports(request)
    await run_in_threadpool(_visible, conn, user, content_id)
    try:
        target = await run_in_threadpool(selection.clip_target, conn, content_id)
    except NotFound as exc:
        raise HTTPException(404, "not found") from exc
    if target.end <= target.start:
        raise HTTPException(422, "the file has no probed duration yet")
    try:
        state = await run_in_threadpool(jobs.request_export, target, body.exact)
    except JobError as exc:
        raise HTTPException(503, str(exc)) from exc
    mode = "exact" if body.exact else "fast"
    detail = {"kind": "clip", "mode": mode, "start": target.start, "end": target.end}
    await run_in_threadpool(
        audit, request, conn, audit_log.EXPORT, target=content_id, detail=detail
    )
    log.info("%s asked for the %s clip of %s", user.username, mode, content_id)
    return _state_json(state)


@router.get("/api/exports/{key}", summary="A clip export's state (editors)")
def export_state(request: Request, user: EditorUser, key: str) -> dict[str, Any]:
    state = _exports(request).export_state(_key(key))
    if state is None:
        raise HTTPException(404, "no such export")
    return _state_json(state)


def _audited(request: Request, conn: Conn, content_id: str, detail: dict[str, Any]) -> None:
    audit(request, conn, audit_log.EXPORT, target=content_id, detail=detail)


def _key(value: str) -> str:
    if len(value) != 24 or not all(c in "0123456789abcdef" for c in value):
        raise HTTPException(404, "not found")
    return value


def _state_json(state: Any) -> dict[str, Any]:
    data: dict[str, Any] = state.as_json()
    data["url"] = f"/exports/clips/{state.key}" if state.state == "done" else None
    return data


@router.get("/exports/clips/{key}", summary="A finished clip (editors)", response_class=Response)
def export_file(request: Request, user: EditorUser, key: str) -> Response:
    jobs = _exports(request)
    state = jobs.export_state(_key(key))
    path = jobs.export_file(key)
    if path is None or state is None:
        raise HTTPException(404, "no such clip (export it first)")
    return FileResponse(
        path,
        media_type=streaming.content_type(path.suffix.lstrip(".")),
        filename=state.name or path.name,
        headers={"Cache-Control": "private, no-store"},
    )


# --- the whole original --------------------------------------------------------------------


@router.get("/download/{content_id}", summary="Download the original file (editors)")
async def download_original(
    request: Request, conn: Conn, user: EditorUser, content_id: str
) -> Response:
    await run_in_threadpool(_visible, conn, user, content_id)
    target, reader = await open_played(request, conn, content_id)
    original = _original(request, conn, user, content_id, target, reader)
    return await streaming.answer_closing(reader, original)


async def _original(
    request: Request,
    conn: Conn,
    user: accounts.User,
    content_id: str,
    target: FileFacts,
    reader: FileReader,
) -> Response:
    """The whole file as an attachment, audited as an export; the body closes the reader."""
    info = await file_info(reader, content_id)
    name = target.path.rsplit("/", 1)[-1]
    detail = {"kind": "original", "bytes": info.size}
    await run_in_threadpool(
        audit, request, conn, audit_log.EXPORT, target=content_id, detail=detail
    )
    log.info("%s downloads the original of %s (%d bytes)", user.username, content_id, info.size)
    headers = {
        "Content-Length": str(info.size),
        "Content-Disposition": _attachment(name),
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(
        streaming.body(reader, target.path, 0, info.size),
        headers=headers,
        media_type="application/octet-stream",
    )


def _attachment(name: str) -> str:
    from urllib.parse import quote

    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


# --- edit lists -------------------------------------------------------------------------------


@router.get(
    "/exports/edit-list", summary="An edit list of hands (editors)", response_class=Response
)
def edit_list(
    request: Request,
    conn: Conn,
    user: EditorUser,
    format: Annotated[str, Query(pattern="^(edl|fcpxml|otio|csv)$")] = "edl",
    content: Annotated[str | None, Query(max_length=64)] = None,
    series: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    chosen = [v for v in (content, series, q) if v]
    if len(chosen) != 1:
        raise HTTPException(422, "give exactly one of content, series or q")
    if content:
        ids = [_visible(conn, user, content)]
        name = selection.content_title(conn, content)
        if name is None:
            raise HTTPException(404, "no such content")
    elif series:
        if not visibility.series_visible(conn, user, known_id(series)):
            raise HTTPException(404, "no such series")
        try:
            ids = selection.series_contents(conn, series)
        except NotFound as exc:
            raise HTTPException(404, "no such series") from exc
        name = selection.series_title(conn, series) or series
    else:
        ids = search.matching_ids(conn, q or "", visible=visibility.limit_of(user))
        name = f"search {q}"
    fmt: edit_lists.Format = format  # type: ignore[assignment]
    options = edit_lists.Options(media_root=_media_root(request), name=name)
    events = selection.events(conn, ids)
    try:
        text = edit_lists.render(events, fmt, options)
    except ExportError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=422)
    audit(
        request,
        conn,
        audit_log.EXPORT,
        target=content or series or None,
        detail={"kind": "edit list", "format": fmt, "query": q, "events": len(events)},
    )
    log.info("%s exported an %s edit list of %s", user.username, fmt, name)
    filename = edit_lists.file_name(name, fmt)
    return Response(
        text,
        media_type=edit_lists.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": _attachment(filename), "Cache-Control": "no-store"},
    )


def _media_root(request: Request) -> str:
    from archive_analyzer.export.clips import media_root_of

    settings = context(request).settings
    return settings.export_media_root or media_root_of(settings.source)
