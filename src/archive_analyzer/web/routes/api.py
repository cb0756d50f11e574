"""The JSON API under /api (login required; POSTs need the ``X-CSRF-Token`` header).

Responses are the query dataclasses as JSON. ``/api/openapi.json`` is the schema;
``/api/docs`` renders it as a local HTML page (no CDN assets). Lists page two ways: ``page``
(and ``per_page``), or the opaque ``cursor`` each page returns as ``next_cursor`` (null on the
last page), which keeps its place when contents are added meanwhile (``web/cursor.py``).
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from pydantic import BaseModel, Field

from archive_analyzer.catalog import listing, series_order
from archive_analyzer.catalog.file_facts import FileFacts
from archive_analyzer.catalog.listing import ContentFilter
from archive_analyzer.web import (
    accounts,
    browse,
    cursor,
    playinfo,
    progress,
    queries,
    search,
    visibility,
    watching,
)
from archive_analyzer.web import capabilities as caps
from archive_analyzer.web import trickplay as previews_store
from archive_analyzer.web.capabilities import Capabilities
from archive_analyzer.web.deps import (
    Conn,
    CsrfFailed,
    CurrentUser,
    api_csrf,
    context,
    known_id,
    require_viewer,
)
from archive_analyzer.web.render import language
from archive_analyzer.web.security import csrf_ok

router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(require_viewer)])


def _card_json(card: queries.Card) -> dict[str, Any]:
    data = asdict(card)
    data["resolution"] = card.resolution
    data["play_seconds"] = card.play_seconds
    data["stream_url"] = f"/stream/{card.id}"
    return data


def _media_json(file: FileFacts | None) -> dict[str, Any] | None:
    """The played file and its media facts, as ``media`` of ``/api/contents/{id}``."""
    if file is None:
        return None
    m = file.media
    return {
        "file_name": file.name,
        "ext": file.ext,
        "size": file.size,
        "container": m.container if m else None,
        "format_long_name": m.format_long_name if m else None,
        "duration_s": m.duration_s if m else None,
        "bit_rate": m.bit_rate if m else None,
        "video_codec": m.video_codec if m else None,
        "video_profile": m.video_profile if m else None,
        "width": m.width if m else None,
        "height": m.height if m else None,
        "frame_rate": m.frame_rate if m else None,
        "pix_fmt": m.pix_fmt if m else None,
        "field_order": m.field_order if m else None,
        "audio": [track.as_dict() for track in m.audio] if m else [],
        "subtitle_count": m.subtitle_count if m else 0,
        "browser_playable": m.browser_playable if m else False,
        "status": m.status if m else None,
        "timecode": m.timecode if m else None,
    }


def _position(token: str | None, kind: str, filters: list[Any]) -> tuple[Any, ...] | None:
    if token is None:
        return None
    try:
        return cursor.decode(token, kind, filters)
    except cursor.BadCursor as exc:
        raise HTTPException(400, str(exc)) from exc


CursorParam = Annotated[
    str | None,
    Query(
        alias="cursor",
        max_length=1000,
        description="next_cursor of the previous page (replaces page)",
    ),
]


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request) -> dict[str, Any]:
    schema: dict[str, Any] = request.app.openapi()
    return schema


@router.get("/me", summary="The logged-in user and this session's CSRF token")
def me(request: Request, user: CurrentUser) -> dict[str, Any]:
    from archive_analyzer.web.security import csrf_token

    return {
        "username": user.username,
        "role": user.role.value,
        "brands": sorted(limit) if (limit := visibility.limit_of(user)) is not None else None,
        "csrf_token": csrf_token(request) if request.state.principal.via == "session" else None,
    }


@router.get("/catalogs", summary="Brands with their series and content counts")
def list_catalogs(conn: Conn, user: CurrentUser) -> list[dict[str, Any]]:
    return [asdict(c) for c in visibility.keep(user, queries.catalogs(conn), "id")]


@router.get("/catalogs/{catalog_id}", summary="One brand and its series")
def get_catalog(conn: Conn, user: CurrentUser, catalog_id: str) -> dict[str, Any]:
    row = queries.catalog(conn, known_id(catalog_id))
    if row is None or not visibility.brand_visible(user, row.id):
        raise HTTPException(404, "not found")
    return {**asdict(row), "series": [asdict(s) for s in queries.series_of(conn, row.id)]}


@router.get(
    "/series/{series_id}",
    summary="One series, its contents in series order with the user's state, episodes left",
)
def get_series(conn: Conn, user: CurrentUser, series_id: str) -> dict[str, Any]:
    row = queries.series(conn, known_id(series_id))
    if row is None or not visibility.brand_visible(user, row.catalog_id):
        raise HTTPException(404, "not found")
    cards = browse.personal(
        conn, user.id, queries.cards(conn, series_order.series_ids(conn, row.id))
    )
    done = watching.series_progress(conn, user.id, [row.id]).get(row.id)
    return {
        **asdict(row),
        "contents": [_card_json(c) for c in cards],
        "episodes_left": done.left if done else row.episode_count,
    }


def capabilities_of(request: Request, query: str | None = None) -> Capabilities:
    """What the browser plays: the ``caps`` query value, else the player's cookie."""
    return Capabilities.parse(query if query is not None else request.cookies.get(caps.COOKIE))


@router.get(
    "/contents/{content_id}",
    summary="One content: media, players, tags, clips, playback (tracks), trickplay; "
    "next/previous in series order; watched",
)
def get_content(
    request: Request,
    conn: Conn,
    user: CurrentUser,
    content_id: str,
    caps_text: Annotated[str | None, Query(alias="caps", max_length=2000)] = None,
) -> dict[str, Any]:
    found = queries.detail(conn, known_id(content_id))
    if found is None or not visibility.brand_visible(user, found.card.catalog_id):
        raise HTTPException(404, "not found")
    info = playinfo.for_content(
        conn, found.card.id, user.id, capabilities_of(request, caps_text), language(request)
    )
    card = browse.personal(conn, user.id, [found.card])[0]
    around = series_order.neighbours(conn, card.id)

    def shown(content_id: str | None) -> str | None:
        if content_id is None or not visibility.content_visible(conn, user, content_id):
            return None
        return content_id

    return {
        **_card_json(card),
        "next": shown(around.next),
        "previous": shown(around.previous),
        "media": _media_json(found.file),
        "players": [asdict(p) for p in found.players],
        "tags": found.tags,
        "clips": [_card_json(c) for c in found.clips],
        "parent": _card_json(found.parent) if found.parent else None,
        "facts": found.facts,
        "playback": info.api() if info else None,
        "trickplay_url": previews_store.trickplay_url(conn, found.card.id),
    }


@router.get(
    "/contents",
    summary="Every content newest first, or by brand, year or series (paged, or by cursor)",
)
def list_contents(
    conn: Conn,
    user: CurrentUser,
    catalog: Annotated[str | None, Query(max_length=200)] = None,
    series: Annotated[str | None, Query(max_length=200)] = None,
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor_: CursorParam = None,
) -> dict[str, Any]:
    """Visible contents (episodes and clips) of the brands the caller may see: newest first;
    with ``series``, that series' own contents in episode order. ``total`` counts them all
    (null on a cursor page)."""
    if series is not None and not visibility.series_visible(conn, user, known_id(series)):
        raise HTTPException(404, "not found")
    where = ContentFilter(
        catalog_id=known_id(catalog) if catalog else None,
        series_id=known_id(series) if series else None,
        year=year,
        brands=visibility.limit_of(user),
    )
    filters: list[Any] = [where.catalog_id, where.series_id, where.year]
    after = _position(cursor_, "contents", filters)
    items, last = queries.listing(
        conn, where, limit=per_page, offset=(page - 1) * per_page, after=after
    )
    return {
        # Counting costs a pass over the catalog (~0.1-0.5 s at 100,000 contents): a cursor
        # page leaves it out, so walking a large catalog costs the pages alone.
        "total": listing.count_contents(conn, where) if after is None else None,
        "page": page if after is None else None,
        "items": [_card_json(c) for c in items],
        "next_cursor": cursor.encode("contents", filters, last) if last else None,
    }


@router.get(
    "/search",
    summary="Ranked search (Korean, English, 초성, typos forgiven) with filters; exact=true "
    "searches every word as typed",
)
def api_search(
    request: Request,
    conn: Conn,
    user: CurrentUser,
    q: Annotated[str, Query(max_length=200)] = "",
    brand: Annotated[str | None, Query(max_length=200)] = None,
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    player: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 24,
    cursor_: CursorParam = None,
    exact: bool = False,
) -> dict[str, Any]:
    brand_id = brand if brand and queries.valid_id(brand) else None
    player_id = player if player and queries.valid_id(player) else None
    filters: list[Any] = [q, brand_id, year, player_id]
    position = _position(cursor_, "search", filters)
    start = position[0] if position else None
    if position is not None and (not isinstance(start, int) or start < 0):
        raise HTTPException(400, "bad cursor")
    result = search.search(
        conn,
        search.SearchQuery(
            text=q,
            catalog_id=brand_id,
            year=year,
            player_id=player_id,
            page=page,
            per_page=per_page,
            start=start if isinstance(start, int) else None,
            visible=visibility.limit_of(user),
            exact=exact,
        ),
        facets=True,
        vocabulary=request.app.state.vocabulary,
    )
    following = result.next_start
    return {
        "query": q,
        "corrected": result.corrected,
        "suggestion": result.suggestion,
        "total": result.total,
        "page": result.page if position is None else None,
        "pages": result.pages,
        "next_cursor": cursor.encode("search", filters, [following]) if following else None,
        "capped": result.capped,
        "items": [_card_json(c) for c in queries.cards(conn, result.content_ids)],
        "years": result.years,
        "players": [{"id": i, "name": n, "hits": h} for i, n, h in result.players],
    }


class ProgressIn(BaseModel):
    content_id: str = Field(max_length=200)
    position_s: float = Field(ge=0, le=10 * 24 * 3600)


@router.get("/progress", summary="The user's watch progress, newest first")
def get_progress(conn: Conn, user: CurrentUser) -> list[dict[str, Any]]:
    saved = progress.of_user(conn, user.id)
    if visibility.limit_of(user) is not None:
        shown = {
            c.id for c in visibility.keep(user, queries.cards(conn, [p.content_id for p in saved]))
        }
        saved = [p for p in saved if p.content_id in shown]
    return [asdict(p) for p in saved]


@router.post("/progress", summary="Save the playback position (needs X-CSRF-Token)")
def post_progress(
    request: Request,
    conn: Conn,
    body: ProgressIn,
    user: Annotated[accounts.User, Depends(api_csrf)],
) -> dict[str, Any]:
    return _save_progress(request, conn, user, body)


async def beacon_csrf(request: Request, user: CurrentUser) -> accounts.User:
    """A beacon cannot set headers: the session's CSRF token comes as the form field ``csrf``,
    checked before the other fields are (a refused request learns nothing)."""
    form = await request.form()
    token = form.get("csrf")
    if not isinstance(token, str) or not csrf_ok(request, token):
        raise CsrfFailed
    return user


@router.post(
    "/progress/beacon",
    summary="Save the position from navigator.sendBeacon (form fields, CSRF token in `csrf`)",
)
def post_progress_beacon(
    request: Request,
    conn: Conn,
    user: Annotated[accounts.User, Depends(beacon_csrf)],
    content_id: Annotated[str, Form(max_length=200)],
    position_s: Annotated[float, Form(ge=0, le=10 * 24 * 3600)],
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> dict[str, Any]:
    return _save_progress(
        request, conn, user, ProgressIn(content_id=content_id, position_s=position_s)
    )


def _save_progress(
    request: Request, conn: Conn, user: accounts.User, body: ProgressIn
) -> dict[str, Any]:
    if not math.isfinite(body.position_s):
        raise HTTPException(422, "position must be finite")
    card = queries.card(conn, known_id(body.content_id))
    if card is None or not visibility.brand_visible(user, card.catalog_id):
        raise HTTPException(404, "not found")
    start = card.start_sec or 0.0
    end = card.end_sec if card.end_sec is not None else card.duration_s
    saved = progress.save(
        conn,
        user.id,
        card.id,
        body.position_s,
        start_s=start,
        end_s=end,
        watched_fraction=context(request).settings.watched_fraction,
        now=context(request).clock,
    )
    return asdict(saved)
