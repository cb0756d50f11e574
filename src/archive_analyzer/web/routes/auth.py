"""Login, logout, password change and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from archive_analyzer.errors import AuthError, LoginThrottled
from archive_analyzer.web import accounts, i18n
from archive_analyzer.web.deps import (
    SESSION_USER,
    SESSION_VERSION,
    Conn,
    CsrfFailed,
    CurrentUser,
    context,
)
from archive_analyzer.web.render import render
from archive_analyzer.web.security import csrf_ok

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else (other hosts, schemes) becomes ``/``."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ch in target for ch in "\r\n\\"):
        return "/"
    return target


def client_ip(request: Request) -> str:
    # The peer address; X-Forwarded-For is not trusted (no proxy is assumed).
    return request.client.host if request.client else "unknown"


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": safe_next(next), "error_key": None})


@router.post("/login")
def login(
    request: Request,
    conn: Conn,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    target = safe_next(next)
    if not csrf_ok(request, csrf):
        return render(
            request, "login.html", {"next": target, "error_key": "csrf_failed"}, status_code=403
        )
    web = context(request)
    try:
        user = accounts.authenticate(conn, username, password, client_ip(request), now=web.clock)
    except LoginThrottled:
        return render(
            request,
            "login.html",
            {"next": target, "error_key": "login_throttled"},
            status_code=429,
        )
    except AuthError:
        return render(
            request, "login.html", {"next": target, "error_key": "login_failed"}, status_code=401
        )
    # A fresh session (new CSRF token) so a planted cookie cannot ride the login.
    request.session.clear()
    request.session[SESSION_USER] = user.id
    request.session[SESSION_VERSION] = user.session_version
    if user.must_change_password:
        target = "/account/password"
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, user: CurrentUser, csrf: Annotated[str, Form()] = "") -> Response:
    if not csrf_ok(request, csrf):
        raise CsrfFailed
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/account/password")
def password_page(request: Request, user: CurrentUser) -> Response:
    return render(request, "password.html", {"error_key": None, "done": False})


@router.post("/account/password")
def change_password(
    request: Request,
    conn: Conn,
    user: CurrentUser,
    password: Annotated[str, Form()] = "",
    repeat: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    if not csrf_ok(request, csrf):
        raise CsrfFailed
    error: str | None = None
    if password != repeat:
        error = "passwords_differ"
    else:
        try:
            updated = accounts.set_password(
                conn, user.username, password, now=context(request).clock
            )
        except AuthError as exc:
            return render(
                request,
                "password.html",
                {"error": str(exc), "error_key": None, "done": False},
                status_code=400,
            )
        request.session[SESSION_VERSION] = updated.session_version
        request.state.user = updated
        return RedirectResponse("/", status_code=303)
    return render(request, "password.html", {"error_key": error, "done": False}, status_code=400)


@router.get("/lang/{code}")
def switch_language(code: str, next: str = "/") -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie(
            i18n.COOKIE, code, max_age=365 * 24 * 3600, httponly=True, samesite="lax"
        )
    return response
