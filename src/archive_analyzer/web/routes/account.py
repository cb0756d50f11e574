"""The account page: who you are, your sessions (end one or all) and personal access tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from archive_analyzer.catalog import audit as audit_log
from archive_analyzer.errors import AuthError
from archive_analyzer.web import queries, sessions, tokens
from archive_analyzer.web.deps import (
    Conn,
    FormCsrf,
    PageUser,
    audit,
    context,
    known_id,
    page_user,
)
from archive_analyzer.web.render import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_user)])

# choices of the token form: days (0 = never expires)
EXPIRY_DAYS = (7, 30, 90, 365, 0)


def account_values(request: Request, conn: Conn, user: PageUser) -> dict[str, object]:
    web = context(request)
    now = web.clock()
    current = request.state.principal.session
    return {
        "sessions": sessions.of_user(conn, user.id, now, web.lifetimes),
        "current_session": current.id if current else None,
        "tokens": tokens.of_user(conn, user.id),
        "now": now,
        "expiry_days": EXPIRY_DAYS,
        "brand_titles": {c.id: c.title for c in queries.catalogs(conn)},
        "done": request.query_params.get("done", ""),
        "new_token": None,
        "error_key": None,
    }


@router.get("/account")
def account_page(request: Request, conn: Conn, user: PageUser) -> Response:
    return render(request, "account.html", account_values(request, conn, user))


def _ended(request: Request, signed_out: bool, done: str) -> Response:
    """After sessions ended: to the login page when this browser's own was one of them, else
    back to the account page."""
    if signed_out:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(f"/account?done={done}", status_code=303)


@router.post("/account/sessions/{session_id}/end", dependencies=[FormCsrf])
def end_session(
    request: Request,
    conn: Conn,
    user: PageUser,
    session_id: str,
) -> Response:
    web = context(request)
    if not sessions.end(conn, known_id(session_id), "ended", web.clock(), user_id=user.id):
        raise HTTPException(404, "not found")
    audit(
        request, conn, audit_log.SESSION_END, target=user.username, detail={"session": session_id}
    )
    current = request.state.principal.session
    return _ended(request, current is not None and current.id == session_id, "session")


@router.post("/account/sessions/end-all", dependencies=[FormCsrf])
def end_all_sessions(
    request: Request,
    conn: Conn,
    user: PageUser,
    keep_this: Annotated[str, Form()] = "",
) -> Response:
    """End every other session (``keep_this=1``) or all of them, this one included; stream
    links die with them either way."""
    web = context(request)
    current = request.state.principal.session
    keep = current.id if keep_this and current is not None else None
    ended = sessions.end_all(conn, user.id, "ended", web.clock(), keep=keep)
    audit(
        request,
        conn,
        audit_log.SESSION_END,
        target=user.username,
        detail={"all": True, "kept_current": keep is not None, "ended": ended},
    )
    return _ended(request, keep is None, "sessions")


@router.post("/account/tokens", dependencies=[FormCsrf])
def create_token(
    request: Request,
    conn: Conn,
    user: PageUser,
    name: Annotated[str, Form(max_length=200)] = "",
    days: Annotated[str, Form()] = "90",
) -> Response:
    web = context(request)
    chosen = int(days) if days.isdigit() and int(days) in EXPIRY_DAYS else 90
    values = account_values(request, conn, user)
    try:
        token, raw = tokens.create(
            conn,
            user.id,
            name,
            web.clock(),
            expires_in=timedelta(days=chosen) if chosen else None,
        )
    except AuthError:
        values["error_key"] = "token_name_taken" if name.strip() else "token_name_needed"
        return render(request, "account.html", values, status_code=400)
    audit(
        request,
        conn,
        audit_log.TOKEN_CREATE,
        target=token.name,
        detail={"expires_at": token.expires_at},
    )
    values["tokens"] = tokens.of_user(conn, user.id)
    values["new_token"] = raw  # shown this once; only its hash is kept
    return render(request, "account.html", values)


@router.post("/account/tokens/{token_id}/revoke", dependencies=[FormCsrf])
def revoke_token(
    request: Request,
    conn: Conn,
    user: PageUser,
    token_id: str,
) -> Response:
    revoked = tokens.revoke(conn, known_id(token_id), context(request).clock(), user_id=user.id)
    if revoked is None:
        raise HTTPException(404, "not found")
    audit(request, conn, audit_log.TOKEN_REVOKE, target=revoked.name)
    return RedirectResponse("/account?done=token", status_code=303)
