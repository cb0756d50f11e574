"""Series and brand posters: ``GET /poster/series/{id}`` and ``/poster/brand/{id}`` show them
(an uploaded image, else a redirect to the chosen or default frame); editors change them with
``POST`` to the same paths (an image upload, a frame of a content at a time, or back to the
default). The change is made by the catalog writer, as a catalog edit (``jobs/edits.py``):
the web request only asks and waits for the reply.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from archive_analyzer.catalog import artwork
from archive_analyzer.errors import InvalidUpload, JobError
from archive_analyzer.web import accounts, posters, queries, visibility
from archive_analyzer.web.deps import (
    Conn,
    CsrfFailed,
    CurrentUser,
    PageEditor,
    context,
    current_user,
)
from archive_analyzer.web.routes import playback
from archive_analyzer.web.routes.auth import safe_next
from archive_analyzer.web.security import csrf_ok

_PLACEHOLDER = Path(__file__).resolve().parents[1] / "static" / "poster.svg"
router = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])
_KINDS = {"series": "series", "brand": "catalog"}


def _owner(conn: Conn, user: accounts.User, kind: str, owner_id: str) -> str:
    """The artwork kind of an existing series or brand the user may see (404 otherwise)."""
    if kind not in _KINDS or not queries.valid_id(owner_id):
        raise HTTPException(404, "not found")
    if kind == "series":
        series = queries.series(conn, owner_id)
        brand = series.catalog_id if series else None
    else:
        catalog = queries.catalog(conn, owner_id)
        brand = catalog.id if catalog else None
    if brand is None or not visibility.brand_visible(user, brand):
        raise HTTPException(404, "not found")
    return _KINDS[kind]


def _poster(conn: Conn, kind: str, owner_id: str) -> posters.Poster:
    if kind == "series":
        return posters.series_poster(conn, owner_id)
    newest = queries.series_of(conn, owner_id)
    return posters.brand_poster(conn, owner_id, newest[0].id if newest else None)


async def _poster_response(
    request: Request, conn: Conn, user: accounts.User, kind: str, owner_id: str
) -> Response:
    found = await run_in_threadpool(_poster, conn, kind, owner_id)
    if found.image is not None:
        etag = f'"{found.etag}"'
        headers = {"ETag": etag, "Cache-Control": "private, max-age=300"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(found.image, media_type="image/jpeg", headers=headers)
    if found.content_id is not None:
        try:
            return await playback.thumbnail(request, found.content_id, conn, user, found.position_s)
        except HTTPException as exc:  # the frame's content is gone or not visible
            if exc.status_code != 404:
                raise
    return FileResponse(_PLACEHOLDER, media_type="image/svg+xml")


@router.get("/poster/series/{series_id}", summary="Poster of a series (JPEG)")
async def series_poster(
    request: Request, conn: Conn, user: CurrentUser, series_id: str
) -> Response:
    await run_in_threadpool(_owner, conn, user, "series", series_id)
    return await _poster_response(request, conn, user, "series", series_id)


@router.get("/poster/brand/{catalog_id}", summary="Poster of a brand (JPEG)")
async def brand_poster(
    request: Request, conn: Conn, user: CurrentUser, catalog_id: str
) -> Response:
    await run_in_threadpool(_owner, conn, user, "brand", catalog_id)
    return await _poster_response(request, conn, user, "brand", catalog_id)


class PosterForm:
    """The editor's form: an image, a frame (content and time), or ``reset``."""

    def __init__(
        self,
        csrf: Annotated[str, Form()] = "",
        image: Annotated[UploadFile | None, File()] = None,
        content_id: Annotated[str, Form(max_length=200)] = "",
        position_s: Annotated[float | None, Form(ge=0, le=10 * 24 * 3600)] = None,
        reset: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "/",
    ) -> None:
        self.csrf = csrf
        self.image = image
        self.content_id = content_id
        self.position_s = position_s
        self.reset = reset
        self.next = next


@router.post("/poster/series/{series_id}")
async def set_series_poster(
    request: Request,
    conn: Conn,
    user: PageEditor,
    series_id: str,
    form: Annotated[PosterForm, Depends()],
) -> Response:
    return await _set_poster(request, conn, user, "series", series_id, form)


@router.post("/poster/brand/{catalog_id}")
async def set_brand_poster(
    request: Request,
    conn: Conn,
    user: PageEditor,
    catalog_id: str,
    form: Annotated[PosterForm, Depends()],
) -> Response:
    return await _set_poster(request, conn, user, "brand", catalog_id, form)


async def _set_poster(
    request: Request,
    conn: Conn,
    user: accounts.User,
    kind: str,
    owner_id: str,
    form: PosterForm,
) -> Response:
    if not csrf_ok(request, form.csrf):
        raise CsrfFailed
    owner_kind = await run_in_threadpool(_owner, conn, user, kind, owner_id)
    web = context(request)
    limit = web.settings.poster_max_bytes
    change = artwork.Change(owner_kind, owner_id, user.username)
    outcome = "saved"
    try:
        if form.image is not None and form.image.filename:
            data = await form.image.read(limit + 1)
            jpeg, width, height = await run_in_threadpool(posters.prepare_upload, data, limit)
            change = artwork.Change(owner_kind, owner_id, user.username, jpeg, width, height)
        elif form.content_id and form.position_s is not None:
            if not queries.valid_id(form.content_id):
                raise HTTPException(404, "not found")
            change = artwork.Change(
                owner_kind,
                owner_id,
                user.username,
                content_id=form.content_id,
                position_s=form.position_s,
            )
        elif form.reset != "1":
            raise InvalidUpload("choose an image or a frame")
        reply = await run_in_threadpool(web.writer.submit_edit, change)
        if reply.error is not None:
            outcome = "refused"
    except InvalidUpload:
        outcome = "invalid"
    except JobError:
        outcome = "queued"
    if "application/json" in request.headers.get("accept", ""):
        status = 400 if outcome in ("invalid", "refused") else 200
        return JSONResponse({"poster": outcome}, status_code=status)
    back = safe_next(form.next)
    return RedirectResponse(f"{back}{'&' if '?' in back else '?'}poster={outcome}", status_code=303)
