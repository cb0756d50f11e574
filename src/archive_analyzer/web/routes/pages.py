"""The HTML pages: home, brand, series, content, player, search, API docs (login required).

Every list keeps only what the user may see (per-brand visibility, ``web/visibility.py``);
one content, series or brand of another brand answers 404.
"""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from archive_analyzer.catalog import artwork, series_order
from archive_analyzer.web import browse, my_list, queries, search, viewer_prefs, visibility
from archive_analyzer.web.deps import Conn, PageUser, context, page_user
from archive_analyzer.web.render import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_user)])


def _checked(value: str) -> str:
    if not queries.valid_id(value):
        raise HTTPException(404)
    return value


@router.get("/")
def home(request: Request, conn: Conn, user: PageUser) -> Response:
    return render(request, "home.html", {"home": browse.home(conn, user)})


@router.get("/brand/{catalog_id}")
def brand(
    request: Request, conn: Conn, user: PageUser, catalog_id: str, sort: str = "newest"
) -> Response:
    row = queries.catalog(conn, _checked(catalog_id))
    if row is None or not visibility.brand_visible(user, row.id):
        raise HTTPException(404)
    order = browse.sort_of(sort, "newest")
    version = artwork.stamp(conn, "catalog", [row.id]).get(row.id)
    return render(
        request,
        "brand.html",
        {
            "brand": row,
            "sort": order,
            "sorts": browse.SORTS,
            "series": browse.brand_series(conn, user.id, row.id, order),
            "clips": browse.personal(conn, user.id, queries.recent_clips(conn, row.id, 48)),
            "poster_url": browse.poster_url("catalog", row.id, version),
            "has_artwork": version is not None,
            "poster_result": request.query_params.get("poster"),
        },
    )


@router.get("/series/{series_id}")
def series_page(
    request: Request, conn: Conn, user: PageUser, series_id: str, sort: str = "oldest"
) -> Response:
    row = queries.series(conn, _checked(series_id))
    if row is None or not visibility.brand_visible(user, row.catalog_id):
        raise HTTPException(404)
    order = browse.sort_of(sort, "oldest")
    return render(
        request,
        "series.html",
        {
            "page": browse.series_page(conn, user.id, row, order),
            "series": row,
            "sort": order,
            "sorts": browse.SORTS,
            "poster_result": request.query_params.get("poster"),
        },
    )


def _detail(
    conn: Conn, user: PageUser, content_id: str
) -> tuple[queries.Detail, dict[str, object]]:
    """A visible content's detail with the viewer's state, its neighbours in series order,
    and what the player needs for "Up next"."""
    found = queries.detail(conn, _checked(content_id))
    if found is None or not visibility.brand_visible(user, found.card.catalog_id):
        raise HTTPException(404)
    card = browse.personal(conn, user.id, [found.card])[0]
    clips = browse.personal(conn, user.id, found.clips)
    around = series_order.neighbours(conn, card.id)
    near = {
        c.id: c
        for c in visibility.keep(
            user, queries.cards(conn, [i for i in (around.previous, around.next) if i])
        )
    }
    values: dict[str, object] = {
        "previous": near.get(around.previous or ""),
        "next_card": near.get(around.next or ""),
        "autoplay": viewer_prefs.load(conn, user.id).autoplay,
        "series_on_list": bool(
            card.series_id and my_list.holding(conn, user.id, "series", [card.series_id])
        ),
    }
    return dataclasses.replace(found, card=card, clips=clips), values


@router.get("/content/{content_id}")
def content_page(request: Request, conn: Conn, user: PageUser, content_id: str) -> Response:
    found, values = _detail(conn, user, content_id)
    return render(
        request,
        "content.html",
        {
            "d": found,
            "resume": found.card.progress_s,
            "link_hours": f"{context(request).settings.stream_link_ttl_s / 3600:g}",
            **values,
        },
    )


@router.get("/watch/{content_id}")
def watch_page(
    request: Request,
    conn: Conn,
    user: PageUser,
    content_id: str,
    t: float | None = None,
    autoplay: int = 0,
) -> Response:
    found, values = _detail(conn, user, content_id)
    resume = t if t is not None else found.card.progress_s
    return render(
        request,
        "watch.html",
        {"d": found, "resume": resume, "start_playing": autoplay == 1, **values},
    )


@router.get("/search")
def search_page(
    request: Request,
    conn: Conn,
    user: PageUser,
    q: str = "",
    brand: str = "",
    year: str = "",
    player: str = "",
    page: str = "1",
    exact: str = "",
) -> Response:
    query = search.SearchQuery(
        text=q[:200],
        catalog_id=brand if brand and queries.valid_id(brand) else None,
        year=int(year) if year.isdigit() and len(year) == 4 else None,
        player_id=player if player and queries.valid_id(player) else None,
        page=max(1, min(int(page), 10_000)) if page.isascii() and page.isdigit() else 1,
        visible=visibility.limit_of(user),
        exact=exact == "1",
    )
    result = search.search(conn, query, facets=True, vocabulary=request.app.state.vocabulary)
    selected_player = queries.player(conn, query.player_id) if query.player_id else None
    return render(
        request,
        "search.html",
        {
            "query": query,
            "result": result,
            "cards": browse.personal(conn, user.id, queries.cards(conn, result.content_ids)),
            "catalogs": visibility.keep(user, queries.catalogs(conn), "id"),
            "selected_player": selected_player,
        },
    )


@router.get("/api/docs")
def api_docs(request: Request) -> Response:
    schema = request.app.openapi()
    return render(request, "api_docs.html", {"schema": schema})
