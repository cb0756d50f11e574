"""The HTML pages: home, brand, series, content, player, search, API docs (login required)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from archive_analyzer.catalog import versions
from archive_analyzer.catalog.rules import Rules, load_rules
from archive_analyzer.web import accounts, queries, search, visibility
from archive_analyzer.web.accounts import Role
from archive_analyzer.web.deps import Conn, PageUser, context, page_user
from archive_analyzer.web.render import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_user)])


def _checked(value: str) -> str:
    if not queries.valid_id(value):
        raise HTTPException(404)
    return value


def _content(conn: Conn, user: PageUser, content_id: str) -> queries.Detail:
    found = queries.detail(conn, _checked(content_id))
    if found is None or not visibility.brand_visible(user, found.card.catalog_id):
        raise HTTPException(404)
    return found


@router.get("/")
def home(request: Request, conn: Conn, user: PageUser) -> Response:
    rows = queries.brand_rows(conn)
    brands = [
        (row, rows.get(row.id, []))
        for row in visibility.keep(user, queries.catalogs(conn), "id")
        if row.content_count
    ]
    return render(
        request,
        "home.html",
        {
            "recent": queries.recently_added(conn, brands=visibility.limit_of(user)),
            "continue_rows": visibility.keep(user, queries.continue_watching(conn, user.id)),
            "brands": brands,
        },
    )


@router.get("/brand/{catalog_id}")
def brand(request: Request, conn: Conn, user: PageUser, catalog_id: str) -> Response:
    row = queries.catalog(conn, _checked(catalog_id))
    if row is None or not visibility.brand_visible(user, row.id):
        raise HTTPException(404)
    return render(request, "brand.html", {"brand": row, "series": queries.series_of(conn, row.id)})


@router.get("/series/{series_id}")
def series_page(request: Request, conn: Conn, user: PageUser, series_id: str) -> Response:
    row = queries.series(conn, _checked(series_id))
    if row is None or not visibility.brand_visible(user, row.catalog_id):
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
    primary = _joined_to(conn, user, content_id)
    if primary is not None:  # a joined version: its content's page lists it
        return RedirectResponse(f"/content/{primary}", status_code=303)
    found = _content(conn, user, content_id)
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
            "link_hours": f"{context(request).settings.stream_link_ttl_s / 3600:g}",
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
    """Who may split versions: editors and admins."""
    return user.may(Role.EDITOR)


def _joined_to(conn: Conn, user: accounts.User, content_id: str) -> str | None:
    """The content ``content_id`` is joined to as a version, when this user may see it."""
    primary = versions.primary_of(conn, _checked(content_id))
    if primary is None:
        return None
    found = queries.detail(conn, primary)
    if found is None or not visibility.brand_visible(user, found.card.catalog_id):
        return None
    return primary


@router.get("/watch/{content_id}")
def watch_page(
    request: Request, conn: Conn, user: PageUser, content_id: str, t: float | None = None
) -> Response:
    found = _content(conn, user, content_id)
    resume = t if t is not None else queries.progress_of(conn, user.id, found.card.id)
    return render(request, "watch.html", {"d": found, "resume": resume})


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
) -> Response:
    query = search.SearchQuery(
        text=q[:200],
        catalog_id=brand if brand and queries.valid_id(brand) else None,
        year=int(year) if year.isdigit() and len(year) == 4 else None,
        player_id=player if player and queries.valid_id(player) else None,
        page=max(1, min(int(page), 10_000)) if page.isascii() and page.isdigit() else 1,
        visible=visibility.limit_of(user),
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
            "catalogs": visibility.keep(user, queries.catalogs(conn), "id"),
            "selected_player": selected_player,
        },
    )


@router.get("/api/docs")
def api_docs(request: Request) -> Response:
    schema = request.app.openapi()
    return render(request, "api_docs.html", {"schema": schema})
