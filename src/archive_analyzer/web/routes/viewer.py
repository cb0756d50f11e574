"""The viewer's own state: mark watched / unwatched, My list, preferences (autoplay).

Pages post forms (CSRF token in the ``csrf`` field) and are sent back where they came from;
``static/browse.js`` posts the same forms with ``Accept: application/json`` and updates the
page in place. The JSON API has the same operations under ``/api`` (``X-CSRF-Token`` header).
These tables are the web app's own (docs/jobs.md, "Who writes what").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from archive_analyzer.web import accounts, my_list, queries, viewer_prefs, visibility, watching
from archive_analyzer.web.deps import (
    Conn,
    CurrentUser,
    FormCsrf,
    PageUser,
    api_csrf,
    context,
    current_user,
    known_id,
    page_user,
)
from archive_analyzer.web.render import render
from archive_analyzer.web.routes.auth import safe_next

pages = APIRouter(include_in_schema=False, dependencies=[Depends(page_user)])
api = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(current_user)])

ApiUser = Annotated[accounts.User, Depends(api_csrf)]


def _answer(request: Request, back: str, state: dict[str, Any]) -> Response:
    """JSON for the page's script, else back to the page the form was on."""
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(state)
    return RedirectResponse(safe_next(back), status_code=303)


def _content_shown(conn: Conn, user: accounts.User, content_id: str) -> bool:
    """A visible content of a brand the user may see."""
    found = queries.card(conn, content_id)
    return found is not None and visibility.brand_visible(user, found.catalog_id)


def _series_shown(conn: Conn, user: accounts.User, series_id: str) -> bool:
    found = queries.series(conn, series_id)
    return found is not None and visibility.brand_visible(user, found.catalog_id)


def _series_contents(conn: Conn, series_id: str) -> list[str]:
    return [c.id for c in queries.series_contents(conn, series_id)]


_SHOWN = {"content": _content_shown, "series": _series_shown}


def _mark(conn: Conn, request: Request, user: accounts.User, ids: list[str], on: bool) -> None:
    watching.mark(conn, user.id, ids, on, now=context(request).clock)


def _set_watched(
    request: Request, conn: Conn, user: accounts.User, kind: str, item_id: str, on: bool
) -> dict[str, Any]:
    """Mark a content, or every content of a series, watched (``on``) or unwatched."""
    ids = [item_id] if kind == "content" else _series_contents(conn, item_id)
    _mark(conn, request, user, ids, on)
    return {"id": item_id, "watched": on} | ({"contents": ids} if kind == "series" else {})


def _set_listed(
    request: Request, conn: Conn, user: accounts.User, kind: str, item_id: str, on: bool
) -> dict[str, Any]:
    """Put a content or a series on My list (``on``) or take it off."""
    my_list.put(conn, user.id, kind, item_id, on, now=context(request).clock)
    return {"id": item_id, "on_list": on}


def _form_route(
    kind: str, change: Callable[[Request, Conn, accounts.User, str, str, bool], dict[str, Any]]
) -> Callable[..., Response]:
    """A page form's handler: ``change`` a content or series the user may see, then answer."""

    def handler(
        request: Request,
        conn: Conn,
        user: PageUser,
        item_id: str,
        on: Annotated[str, Form()] = "1",
        next: Annotated[str, Form()] = "/",
    ) -> Response:
        if not _SHOWN[kind](conn, user, known_id(item_id)):
            raise HTTPException(404, "not found")
        return _answer(request, next, change(request, conn, user, kind, item_id, on == "1"))

    return handler


# The pages' forms (and browse.js): one handler serves a content and a series alike.
for _path, _name, _route in (
    ("/watched/{item_id}", "mark_watched", _form_route("content", _set_watched)),
    ("/watched/series/{item_id}", "mark_series_watched", _form_route("series", _set_watched)),
    ("/my-list/content/{item_id}", "list_content", _form_route("content", _set_listed)),
    ("/my-list/series/{item_id}", "list_series", _form_route("series", _set_listed)),
):
    pages.post(_path, name=_name, dependencies=[FormCsrf])(_route)


@pages.get("/settings")
def settings_page(request: Request, conn: Conn, user: PageUser) -> Response:
    return render(
        request,
        "settings.html",
        {
            "prefs": viewer_prefs.load(conn, user.id),
            "saved": request.query_params.get("saved") == "1",
            "watched_percent": round(context(request).settings.watched_fraction * 100),
        },
    )


@pages.post("/settings", dependencies=[FormCsrf])
def save_settings(
    request: Request,
    conn: Conn,
    user: PageUser,
    autoplay: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/settings?saved=1",
) -> Response:
    prefs = viewer_prefs.ViewerPrefs(autoplay=autoplay == "1")
    viewer_prefs.save(conn, user.id, prefs, now=context(request).clock)
    return _answer(request, next, {"autoplay": prefs.autoplay})


# --- JSON API -----------------------------------------------------------------------------


class WatchedIn(BaseModel):
    content_id: str = Field(max_length=200)
    watched: bool = True


class ListIn(BaseModel):
    content_id: str | None = Field(default=None, max_length=200)
    series_id: str | None = Field(default=None, max_length=200)
    on: bool = True


class PrefsIn(BaseModel):
    autoplay: bool


@api.post("/watched", summary="Mark a content watched or unwatched (needs X-CSRF-Token)")
def api_watched(request: Request, conn: Conn, body: WatchedIn, user: ApiUser) -> dict[str, Any]:
    if not _content_shown(conn, user, known_id(body.content_id)):
        raise HTTPException(404, "not found")
    _mark(conn, request, user, [body.content_id], body.watched)
    return {"content_id": body.content_id, "watched": body.watched}


@api.get("/my-list", summary="The user's list (contents and series), newest first")
def api_my_list(conn: Conn, user: CurrentUser) -> list[dict[str, Any]]:
    return [
        {"content_id": e.content_id, "series_id": e.series_id, "added_at": e.added_at}
        for e in my_list.entries(conn, user.id)
        if (e.content_id and _content_shown(conn, user, e.content_id))
        or (e.series_id and _series_shown(conn, user, e.series_id))
    ]


@api.post("/my-list", summary="Add to or remove from the user's list (needs X-CSRF-Token)")
def api_my_list_put(request: Request, conn: Conn, body: ListIn, user: ApiUser) -> dict[str, Any]:
    if (body.content_id is None) == (body.series_id is None):
        raise HTTPException(422, "give content_id or series_id")
    kind, item = ("content", body.content_id) if body.content_id else ("series", body.series_id)
    assert item is not None
    if not _SHOWN[kind](conn, user, known_id(item)):  # another brand's is not found either
        raise HTTPException(404, "not found")
    my_list.put(conn, user.id, kind, item, body.on, now=context(request).clock)
    return {f"{kind}_id": item, "on": body.on}


@api.get("/prefs", summary="The user's viewing preferences")
def api_prefs(conn: Conn, user: CurrentUser) -> dict[str, Any]:
    return {"autoplay": viewer_prefs.load(conn, user.id).autoplay}


@api.post("/prefs", summary="Change the user's viewing preferences (needs X-CSRF-Token)")
def api_prefs_put(request: Request, conn: Conn, body: PrefsIn, user: ApiUser) -> dict[str, Any]:
    saved = viewer_prefs.save(
        conn, user.id, viewer_prefs.ViewerPrefs(autoplay=body.autoplay), now=context(request).clock
    )
    return {"autoplay": saved.autoplay}
