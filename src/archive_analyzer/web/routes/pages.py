"""The HTML pages: home, brand, series, content, player, search, API docs (login required)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from archive_analyzer.web import (
    capabilities,
    hls,
    i18n,
    playinfo,
    queries,
    search,
    trickplay,
    visibility,
)
from archive_analyzer.web.capabilities import Capabilities
from archive_analyzer.catalog import versions
from archive_analyzer.catalog.rules import Rules, load_rules
from archive_analyzer.web import accounts
from archive_analyzer.web.accounts import Role
from archive_analyzer.web.deps import Conn, PageUser, context, page_user
from archive_analyzer.web.render import language, render

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


def _player(request: Request, conn: Conn, user_id: str, content_id: str) -> dict[str, Any] | None:
    """What the player script reads (``playinfo.PlaybackInfo.page``), None when unplayable."""
    caps = Capabilities.parse(request.cookies.get(capabilities.COOKIE))
    info = playinfo.for_content(conn, content_id, user_id, caps, language(request))
    if info is None:
        return None
    t = i18n.translator(language(request))
    labels = {
        k: t(k) for k in ("play", "pause", "seek", "fullscreen", "subtitles", "subtitles_off")
    }
    return {
        **info.page(),
        "labels": {**labels, "audio": t("audio_track")},
        "caps": caps.encode() if caps.reported else None,
        "trickplay_url": trickplay.trickplay_url(conn, content_id),
    }


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
            "player": _player(request, conn, user.id, found.card.id),
            "autoplay": False,
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
    request: Request,
    conn: Conn,
    user: PageUser,
    content_id: str,
    t: float | None = None,
    autoplay: int = 0,
) -> Response:
    found = _content(conn, user, content_id)
    resume = t if t is not None else queries.progress_of(conn, user.id, found.card.id)
    player = _player(request, conn, user.id, found.card.id)
    if player is not None and autoplay and player["mode"] == "hls":
        # Play was asked for: the browser asks for the first segments while it parses the
        # page (<link rel=preload>), so a cold transcode starts before the scripts have run;
        # hls.js then gets the same response (or waits for the same ffmpeg run).
        separate = len(player["audio"]) > 1
        uris = hls.start_uris(
            _start_position(found.card, resume),
            context(request).settings.hls_segment_s,
            player["default_audio"] if separate else None,
        )
        player["preload"] = [f"/hls/{found.card.id}/{uri}" for uri in uris]
    return render(
        request,
        "watch.html",
        {"d": found, "resume": resume, "player": player, "autoplay": bool(autoplay)},
    )


def _start_position(card: queries.Card, resume: float | None) -> float:
    """Where the player starts (static/player/player.js startPosition): the saved position
    when it lies inside the content's range, else the range start."""
    start = card.start_sec or 0.0
    end = card.end_sec
    if resume is not None and resume > 0 and resume >= start and (end is None or resume < end - 1):
        return resume
    return start


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
