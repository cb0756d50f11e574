"""Admin pages for accounts: ``/admin/users`` (roles, brands, disable, sessions, unlock) and
``/admin/audit`` (the audit log). Admins only; every change is a CSRF-checked form and is
recorded in the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from archive_analyzer.catalog import audit as audit_log
from archive_analyzer.catalog.db import transaction
from archive_analyzer.errors import AuthError
from archive_analyzer.web import accounts, queries, sessions, throttle
from archive_analyzer.web.deps import (
    Conn,
    FormCsrf,
    PageAdmin,
    audit,
    context,
    known_id,
    page_admin,
)
from archive_analyzer.web.render import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_admin)])
AUDIT_PAGE = 100


def _account(conn: Conn, username: str) -> accounts.User:
    """The account a form acts on (the path's ``username``), else 404."""
    try:
        accounts.validate_username(username)
    except AuthError:
        raise HTTPException(404, "not found") from None
    user = accounts.find_user(conn, username)
    if user is None:
        raise HTTPException(404, "not found")
    return user


Target = Annotated[accounts.User, Depends(_account)]


def _back(done: str, error: str = "") -> Response:
    suffix = f"&error={error}" if error else ""
    return RedirectResponse(f"/admin/users?done={done}{suffix}", status_code=303)


@router.get("/admin/users")
def users_page(request: Request, conn: Conn, user: PageAdmin) -> Response:
    web = context(request)
    now = web.clock()
    people = accounts.list_users(conn)
    return render(
        request,
        "admin/users.html",
        {
            "people": people,
            "live": sessions.live(conn, now, web.lifetimes),
            "counts": sessions.live_counts(conn),
            "locked": {p.username: throttle.account_lock(conn, p.username, now) for p in people},
            "catalogs": queries.catalogs(conn),
            "roles": accounts.ROLES,
            "done": request.query_params.get("done", ""),
            "error": request.query_params.get("error", ""),
            "current_session": request.state.principal.session.id,
        },
    )


@router.post("/admin/users/{username}/role", dependencies=[FormCsrf])
def change_role(
    request: Request,
    conn: Conn,
    user: PageAdmin,
    target: Target,
    role: Annotated[str, Form()] = "",
) -> Response:
    try:
        updated = accounts.set_role(conn, target.username, role, now=context(request).clock)
    except AuthError:
        return _back("", "role")
    audit(
        request,
        conn,
        audit_log.ROLE,
        target=updated.username,
        detail={"from": target.role.value, "to": updated.role.value},
    )
    return _back("role")


@router.post("/admin/users/{username}/disable", dependencies=[FormCsrf])
def disable(request: Request, conn: Conn, user: PageAdmin, target: Target) -> Response:
    try:
        accounts.set_disabled(conn, target.username, True, now=context(request).clock)
    except AuthError:
        return _back("", "last_admin")
    audit(request, conn, audit_log.DISABLE, target=target.username)
    return _back("disabled")


@router.post("/admin/users/{username}/enable", dependencies=[FormCsrf])
def enable(request: Request, conn: Conn, user: PageAdmin, target: Target) -> Response:
    accounts.set_disabled(conn, target.username, False, now=context(request).clock)
    audit(request, conn, audit_log.ENABLE, target=target.username)
    return _back("enabled")


@router.post("/admin/users/{username}/brands", dependencies=[FormCsrf])
def set_brands(
    request: Request,
    conn: Conn,
    user: PageAdmin,
    target: Target,
    brand: Annotated[list[str] | None, Form()] = None,
) -> Response:
    try:
        updated = accounts.set_brands(conn, target.username, brand, now=context(request).clock)
    except AuthError:
        return _back("", "brands")
    audit(
        request,
        conn,
        audit_log.BRANDS,
        target=updated.username,
        detail={"brands": sorted(updated.brands) if updated.brands else "all"},
    )
    return _back("brands")


@router.post("/admin/users/{username}/sessions/end", dependencies=[FormCsrf])
def end_user_sessions(request: Request, conn: Conn, user: PageAdmin, target: Target) -> Response:
    current = request.state.principal.session
    keep = current.id if target.id == user.id else None  # an admin does not log out here
    ended = sessions.end_all(conn, target.id, "ended", context(request).clock(), keep=keep)
    audit(
        request,
        conn,
        audit_log.SESSION_END,
        target=target.username,
        detail={"all": True, "ended": ended},
    )
    return _back("sessions")


@router.post("/admin/sessions/{session_id}/end", dependencies=[FormCsrf])
def end_session(
    request: Request,
    conn: Conn,
    user: PageAdmin,
    session_id: str,
) -> Response:
    owner = sessions.owner_name(conn, known_id(session_id))
    if owner is None or not sessions.end(conn, session_id, "ended", context(request).clock()):
        raise HTTPException(404, "not found")
    audit(request, conn, audit_log.SESSION_END, target=owner, detail={"session": session_id})
    return _back("session")


@router.post("/admin/users/{username}/unlock", dependencies=[FormCsrf])
def unlock(request: Request, conn: Conn, user: PageAdmin, target: Target) -> Response:
    with transaction(conn):
        throttle.clear(conn, target.username)
    audit(request, conn, audit_log.UNLOCK, target=target.username)
    return _back("unlocked")


@router.get("/admin/audit")
def audit_page(
    request: Request,
    conn: Conn,
    user: PageAdmin,
    action: str = "",
    actor: str = "",
    page: str = "1",
) -> Response:
    number = max(1, min(int(page), 10_000)) if page.isascii() and page.isdigit() else 1
    events = audit_log.recent(
        conn,
        action=action[:40] or None,
        actor=actor[:64] or None,
        limit=AUDIT_PAGE + 1,
        offset=(number - 1) * AUDIT_PAGE,
    )
    return render(
        request,
        "admin/audit.html",
        {
            "events": events[:AUDIT_PAGE],
            "more": len(events) > AUDIT_PAGE,
            "page": number,
            "action": action[:40],
            "actor": actor[:64],
            "actions": audit_log.actions(conn),
            "retention_days": context(request).settings.audit_retention_days,
        },
    )
