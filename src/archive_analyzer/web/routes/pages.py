"""The HTML pages: home, brand, series, content, player, search, API docs (login required).

Every list keeps only what the user may see (per-brand visibility, ``web/visibility.py``);
one content, series or brand of another brand answers 404.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from archive_analyzer.catalog import artwork, series_order, versions
from archive_analyzer.catalog.rules import Rules, load_rules
from archive_analyzer.web import (
    accounts,
    browse,
    capabilities,
    hls,
    i18n,
    my_list,
    playinfo,
    queries,
    search,
    trickplay,
    viewer_prefs,
    visibility,
)
from archive_analyzer.web.accounts import Role
from archive_analyzer.web.capabilities import Capabilities
from archive_analyzer.web.deps import Conn, PageUser, context, page_user
from archive_analyzer.web.render import language, render

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
def content_page(
    request: Request, conn: Conn, user: PageUser, content_id: str, split: str = ""
) -> Response:
    primary = _joined_to(conn, user, content_id)
    if primary is not None:  # a joined version: its content's page lists it
        return RedirectResponse(f"/content/{primary}", status_code=303)
    found, values = _detail(conn, user, content_id)
    copy = None
    if found.duplicate:
        checks = versions.copy_checks(conn, rules_of(request), found.card.id)
        copy = checks[0] if checks else None
    return render(
        request,
        "content.html",
        {
            "d": found,
            "resume": found.card.progress_s,
            "player": _player(request, conn, user.id, found.card.id),
            "link_hours": f"{context(request).settings.stream_link_ttl_s / 3600:g}",
            "copy": copy,
            "can_edit": can_edit_versions(user),
            "split": split[:200],
            **values,
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
    found, values = _detail(conn, user, content_id)
    resume = t if t is not None else found.card.progress_s
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
        {
            "d": found,
            "resume": resume,
            "player": player,
            "start_playing": autoplay == 1,
            **values,
        },
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
