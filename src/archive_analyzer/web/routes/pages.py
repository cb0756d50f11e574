"""The HTML pages: home, brand, series, content, player, search, API docs (login required)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from archive_analyzer.catalog import versions
from archive_analyzer.catalog.rules import Rules, load_rules
from archive_analyzer.web import accounts, queries, search
from archive_analyzer.web.deps import Conn, PageUser, context, page_user
from archive_analyzer.web.render import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_user)])


def _checked(value: str) -> str:
    if not queries.valid_id(value):
        raise HTTPException(404)
    return value


@router.get("/")
def home(request: Request, conn: Conn, user: PageUser) -> Response:
    brands = [
        (row, queries.brand_row(conn, row.id))
        for row in queries.catalogs(conn)
        if row.content_count
    ]
    return render(
        request,
        "home.html",
        {
            "recent": queries.recently_added(conn),
            "continue_rows": queries.continue_watching(conn, user.id),
            "brands": brands,
        },
    )


@router.get("/brand/{catalog_id}")
def brand(request: Request, conn: Conn, catalog_id: str) -> Response:
    row = queries.catalog(conn, _checked(catalog_id))
    if row is None:
        raise HTTPException(404)
    return render(request, "brand.html", {"brand": row, "series": queries.series_of(conn, row.id)})


@router.get("/series/{series_id}")
def series_page(request: Request, conn: Conn, series_id: str) -> Response:
    row = queries.series(conn, _checked(series_id))
    if row is None:
        raise HTTPException(404)
    return render(
        request,
        "series.html",
        {"series": row, "contents": queries.series_contents(conn, row.id)},
    )


@router.get("/content/{content_id}")
def content_page(
    request: Request, conn: Conn, user: PageUser, content_id: str, split: str = ""
) -> Response:
    found = queries.detail(conn, _checked(content_id))
    if found is None:
        primary = versions.primary_of(conn, content_id)
        if primary is not None:  # a joined version: its content's page lists it
            return RedirectResponse(f"/content/{primary}", status_code=303)
        raise HTTPException(404)
    copy = None
    if found.duplicate:
        checks = versions.copy_checks(conn, rules_of(request), found.card.id)
        copy = checks[0] if checks else None
    return render(
        request,
        "content.html",
        {
            "d": found,
            "resume": queries.progress_of(conn, user.id, found.card.id),
            "copy": copy,
            "can_edit": can_edit_versions(user),
            "split": split[:200],
        },
    )


def rules_of(request: Request) -> Rules:
    """The classification rules (``settings.rules_file`` over the shipped ones), loaded once."""
    rules: Rules | None = getattr(request.app.state, "rules", None)
    if rules is None:
        rules = load_rules(context(request).settings.rules_file)
        request.app.state.rules = rules
    return rules


def can_edit_versions(user: accounts.User) -> bool:
    """Who may split versions: admins (the editor role of issue 14 joins when it lands)."""
    return user.is_admin


@router.get("/watch/{content_id}")
def watch_page(
    request: Request, conn: Conn, user: PageUser, content_id: str, t: float | None = None
) -> Response:
    found = queries.detail(conn, _checked(content_id))
    if found is None:
        raise HTTPException(404)
    resume = t if t is not None else queries.progress_of(conn, user.id, found.card.id)
    return render(request, "watch.html", {"d": found, "resume": resume})


@router.get("/search")
def search_page(
    request: Request,
    conn: Conn,
    q: str = "",
    brand: str = "",
    year: str = "",
    player: str = "",
    page: str = "1",
) -> Response:
    query = search.SearchQuery(
        text=q[:200],
        catalog_id=brand if brand and queries.valid_id(brand) else None,
        year=int(year) if year.isdigit() and len(year) == 4 else None,
        player_id=player if player and queries.valid_id(player) else None,
        page=max(1, min(int(page), 10_000)) if page.isascii() and page.isdigit() else 1,
    )
    result = search.search(conn, query, facets=True)
    selected_player = queries.player(conn, query.player_id) if query.player_id else None
    return render(
        request,
        "search.html",
        {
            "query": query,
            "result": result,
            "cards": queries.cards(conn, result.content_ids),
            "catalogs": queries.catalogs(conn),
            "selected_player": selected_player,
        },
    )


@router.get("/api/docs")
def api_docs(request: Request) -> Response:
    schema = request.app.openapi()
    return render(request, "api_docs.html", {"schema": schema})
