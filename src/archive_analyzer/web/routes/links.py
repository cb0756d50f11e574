"""Signed stream links for external players: "Open in VLC / mpv" and "copy stream link".

* ``GET /content/{id}/play.m3u``: a one-entry playlist holding the signed link; browsers hand
  ``.m3u`` files to the system's media player (VLC, mpv, IINA...), which then streams with
  ranges, no cookie needed. A clip carries VLC's start/stop options.
* ``POST /api/contents/{id}/stream-link`` (``X-CSRF-Token``): the signed link as JSON, for the
  copy button (and scripts with a session).

A link reaches ``/stream/{id}`` of that content only, until ``stream_link_ttl_s`` has passed
or its owner ends all sessions / changes the password (``web/tokens.py``). Issuing one is
audited.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from archive_analyzer.catalog import audit as audit_log
from archive_analyzer.web import accounts, queries, tokens, visibility
from archive_analyzer.web.deps import Conn, PageUser, api_csrf, audit, context, require_viewer

router = APIRouter(dependencies=[Depends(require_viewer)])


def signed_url(request: Request, user: accounts.User, content_id: str) -> tuple[str, int]:
    """An absolute signed URL of ``/stream/{content_id}`` for ``user`` and when it expires."""
    web = context(request)
    expires = int(web.clock().timestamp() + web.settings.stream_link_ttl_s)
    query = tokens.link_query(web.link_key, content_id, user.id, user.session_version, expires)
    base = str(request.base_url).rstrip("/")
    return f"{base}/stream/{content_id}?{query}", expires


def _card(conn: Conn, user: accounts.User, content_id: str) -> queries.Card:
    card = queries.card(conn, content_id) if queries.valid_id(content_id) else None
    if card is None or not visibility.brand_visible(user, card.catalog_id):
        raise HTTPException(404, "not found")
    return card


@router.get("/content/{content_id}/play.m3u", include_in_schema=False)
def playlist(request: Request, conn: Conn, user: PageUser, content_id: str) -> Response:
    card = _card(conn, user, content_id)
    url, expires = signed_url(request, user, card.id)
    audit(request, conn, audit_log.STREAM_LINK, target=card.id, detail={"expires": expires})
    title = re.sub(r"[\r\n]+", " ", card.title or card.id)
    lines = ["#EXTM3U", f"#EXTINF:-1,{title}"]
    if card.start_sec is not None:
        lines.append(f"#EXTVLCOPT:start-time={card.start_sec:g}")
    if card.end_sec is not None:
        lines.append(f"#EXTVLCOPT:stop-time={card.end_sec:g}")
    lines.append(url)
    return Response(
        "\n".join(lines) + "\n",
        media_type="audio/x-mpegurl",
        headers={
            "Content-Disposition": f'attachment; filename="{card.id}.m3u"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/api/contents/{content_id}/stream-link",
    summary="A signed, expiring stream URL of one content for external players",
    tags=["api"],
)
def stream_link(
    request: Request,
    conn: Conn,
    content_id: str,
    user: Annotated[accounts.User, Depends(api_csrf)],
) -> dict[str, Any]:
    card = _card(conn, user, content_id)
    url, expires = signed_url(request, user, card.id)
    audit(request, conn, audit_log.STREAM_LINK, target=card.id, detail={"expires": expires})
    return {"url": url, "expires": expires, "start_sec": card.start_sec, "end_sec": card.end_sec}
