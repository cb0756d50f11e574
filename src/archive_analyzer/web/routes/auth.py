"""Login, logout, password change and the language switch."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from archive_analyzer.catalog import audit as audit_log
from archive_analyzer.errors import AuthError
from archive_analyzer.web import accounts, i18n, passwords, sessions, throttle
from archive_analyzer.web.deps import (
    SESSION_ID,
    Conn,
    FormCsrf,
    audit,
    client_ip,
    context,
    session_user,
)
from archive_analyzer.web.render import render
from archive_analyzer.web.security import (
    DEVICE_COOKIE,
    DEVICE_MAX_AGE,
    csrf_ok,
    device_cookie,
    device_of,
)

router = APIRouter(include_in_schema=False)
SessionUser = Annotated[accounts.User, Depends(session_user)]
# who is signed in is checked before the form's CSRF token (an anonymous post: the login page)
_SIGNED_IN_FORM = [Depends(session_user), FormCsrf]


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else (other hosts, schemes) becomes ``/``."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ch in target for ch in "\r\n\\"):
        return "/"
    return target


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
    ip = client_ip(request)
    device = device_of(web.secret, request.cookies.get(DEVICE_COOKIE), username)
    try:
        user = accounts.authenticate(conn, username, password, ip, now=web.clock, device=device)
    except throttle.Throttled as exc:
        response = render(
            request,
            "login.html",
            {"next": target, "error_key": "login_throttled", "retry_after": exc.retry_after},
            status_code=429,
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except AuthError as exc:
        key = "account_disabled" if "disabled" in str(exc) else "login_failed"
        return render(request, "login.html", {"next": target, "error_key": key}, status_code=401)
    # A fresh session (new secret, new CSRF token) so a planted cookie cannot ride the login.
    request.session.clear()
    _session, secret = sessions.create(
        conn, user.id, ip, request.headers.get("user-agent", ""), web.clock()
    )
    request.session[SESSION_ID] = secret
    accounts.housekeeping(
        conn,
        web.clock(),
        audit_keep=timedelta(days=web.settings.audit_retention_days),
        lifetimes=web.lifetimes,
    )
    if user.must_change_password:
        target = "/account/password"
    redirect = RedirectResponse(target, status_code=303)
    if device is None:  # this browser is now known to the account (login throttling)
        redirect.set_cookie(
            DEVICE_COOKIE,
            device_cookie(web.secret, user.username),
            max_age=DEVICE_MAX_AGE,
            httponly=True,
            samesite="lax",
        )
    return redirect


@router.post("/logout", dependencies=_SIGNED_IN_FORM)
def logout(request: Request, conn: Conn, user: SessionUser) -> Response:
    found = request.state.principal.session
    if found is not None:
        sessions.end(conn, found.id, "logout", context(request).clock())
        audit(request, conn, audit_log.LOGOUT)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/account/password")
def password_page(request: Request, user: SessionUser) -> Response:
    return render(request, "password.html", {"error_key": None, "hints": ()})


@router.post("/account/password", dependencies=_SIGNED_IN_FORM)
def change_password(
    request: Request,
    conn: Conn,
    user: SessionUser,
    current: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    repeat: Annotated[str, Form()] = "",
) -> Response:
    web = context(request)

    def refused(key: str, status: int = 400, hints: tuple[str, ...] = ()) -> Response:
        return render(
            request, "password.html", {"error_key": key, "hints": hints}, status_code=status
        )

    try:
        # the current password, checked (and throttled) like a login: a borrowed session
        # cannot take the account over
        accounts.authenticate(
            conn,
            user.username,
            current,
            client_ip(request),
            now=web.clock,
            purpose=audit_log.PASSWORD,
        )
    except throttle.Throttled:
        return refused("login_throttled", 429)
    except AuthError:
        return refused("current_password_wrong", 403)
    if password != repeat:
        return refused("passwords_differ")
    if password == current:
        return refused("pw_same_as_current")
    found = request.state.principal.session
    try:
        accounts.set_password(
            conn,
            user.username,
            password,
            now=web.clock,
            keep_session=found.id if found else None,
        )
    except passwords.WeakPassword as exc:
        return refused(exc.key, hints=exc.hints)
    audit(request, conn, audit_log.PASSWORD, target=user.username)
    # the first login goes on to the app; a change made from the account page returns there
    target = "/" if user.must_change_password else "/account?done=password"
    return RedirectResponse(target, status_code=303)


@router.get("/lang/{code}")
def switch_language(code: str, next: str = "/") -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie(
            i18n.COOKIE, code, max_age=365 * 24 * 3600, httponly=True, samesite="lax"
        )
    return response
