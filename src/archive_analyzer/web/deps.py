"""Request-scoped dependencies: the app's context, a catalog connection, who is calling.

A request is made by a *principal*: a login session (the cookie), a personal access token
(``Authorization: Bearer``, read-only, machine routes only) or, on ``/stream/{id}`` alone, a
signed stream link. Routes declare the role they need with one dependency per role::

    router = APIRouter(dependencies=[Depends(require_editor)])
    def handler(user: EditorUser): ...

``require_role(Role.X)`` builds the same for any role. Every one of them refuses anonymous
callers (401 / login page), sessions that must change their password first (403 / the
password page), disabled accounts, and roles below the one needed (403). Pages take
``PageUser`` (a session, viewer or more). State-changing JSON calls add ``api_csrf``; a
page's state-changing form adds ``dependencies=[FormCsrf]`` (its ``csrf`` field).
``known_id(value)`` is a path's catalog id, or 404.
``audit(request, conn, action, ...)`` records an audit event as the caller.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

from fastapi import Depends, Form, HTTPException, Request
from jinja2 import Environment

from archive_analyzer.catalog import audit as audit_log
from archive_analyzer.catalog.db import Clock
from archive_analyzer.config import Settings
from archive_analyzer.sources.base import Source
from archive_analyzer.web import accounts, queries, sessions, tokens
from archive_analyzer.web.accounts import Role
from archive_analyzer.web.security import CSRF_HEADER, csrf_ok, derived_key

if TYPE_CHECKING:
    from archive_analyzer.export.selection import ClipTarget
    from archive_analyzer.jobs.edits import Edit, EditReply
    from archive_analyzer.jobs.exports import ExportState

SESSION_ID = "sid"  # the session cookie's key holding the session secret


class WriterRequests(Protocol):
    """What the web app may ask of the catalog's writer, through its queue (production:
    ``jobs.client.JobClient``). The web app writes no catalog table the writer owns."""

    def request_reprobe(self, file_id: str) -> None:
        """Queue a re-probe of catalogued file ``file_id`` (``JobError``: queue down)."""
        ...

    def submit_edit(self, edit: Edit) -> EditReply:
        """Have the writer make a catalog edit (a hand marked, edited or deleted) and return
        its reply (``JobError``: no answer in time, or the queue is down)."""
        ...


class ExportRequests(Protocol):
    """Clip exports as jobs (production: ``jobs.client.JobClient`` over ``jobs.exports``)."""

    def request_export(self, target: ClipTarget, exact: bool) -> ExportState:
        """The export's state: done when cached, else queued (one job per clip)."""
        ...

    def export_state(self, key: str) -> ExportState | None:
        """Where the export ``key`` stands (None: never asked for)."""
        ...

    def export_file(self, key: str) -> Path | None:
        """The finished clip of ``key`` in the export cache, or None."""
        ...


@dataclass(frozen=True)
class WebContext:
    """What the app was built with (``app.state.web``): injected I/O and the clock."""

    settings: Settings
    conn_factory: Callable[[], sqlite3.Connection]
    source_factory: Callable[[str], Source]
    clock: Clock
    templates: Environment
    conn_release: Callable[[sqlite3.Connection], None]
    writer: WriterRequests
    exports: ExportRequests
    secret: str = ""

    @property
    def lifetimes(self) -> sessions.Lifetimes:
        return sessions.Lifetimes(
            timedelta(seconds=self.settings.session_idle_s),
            timedelta(seconds=self.settings.session_lifetime_s),
        )

    @property
    def link_key(self) -> bytes:
        return derived_key(self.secret, "stream-link")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who makes this request and how."""

    user: accounts.User
    via: Literal["session", "token", "link"]
    session: sessions.Session | None = None
    token: tokens.Token | None = None

    @property
    def read_only(self) -> bool:
        return self.via != "session"


class LoginRequired(Exception):
    """No valid session or token: pages redirect to /login, machine routes answer 401."""

    def __init__(self, detail: str = "login required", bearer: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.bearer = bearer


class PasswordChangeRequired(Exception):
    """The account must choose a new password before anything else (pages redirect, 403)."""


class CsrfFailed(Exception):
    """A state-changing request without this session's CSRF token (403)."""


class LinkRefused(Exception):
    """A stream link that is forged, expired, for another content or of a dead account (403)."""


def context(request: Request) -> WebContext:
    web: WebContext = request.app.state.web
    return web


def client_ip(request: Request) -> str:
    """The client's address: the TCP peer, or what a trusted proxy says it is (the app runs
    ``ProxyHeadersMiddleware`` for ``settings.trusted_proxies`` only)."""
    return request.client.host if request.client else "unknown"


def connection(request: Request) -> Iterator[sqlite3.Connection]:
    """A catalog connection for this request, released (closed or pooled) afterwards."""
    web = context(request)
    conn = web.conn_factory()
    try:
        yield conn
    finally:
        web.conn_release(conn)


Conn = Annotated[sqlite3.Connection, Depends(connection)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise LoginRequired("invalid token", bearer=True)
    return value.strip()


def _session_principal(request: Request, conn: sqlite3.Connection) -> Principal | None:
    secret = request.session.get(SESSION_ID)
    if not isinstance(secret, str):
        return None
    web = context(request)
    now = web.clock()
    found = sessions.resolve(conn, secret, now, web.lifetimes)
    user = accounts.get_user(conn, found.user_id) if found else None
    if found is None or user is None or user.disabled:
        request.session.clear()
        return None
    sessions.touch(conn, found, client_ip(request), now)
    return Principal(user, "session", session=found)


def _token_principal(request: Request, conn: sqlite3.Connection, raw: str) -> Principal:
    web = context(request)
    now = web.clock()
    found = tokens.resolve(conn, raw, now)
    user = accounts.get_user(conn, found.user_id) if found else None
    if found is None or user is None or user.disabled:
        raise LoginRequired("invalid token", bearer=True)
    if request.method not in tokens.READ_METHODS:
        raise HTTPException(403, "tokens are read-only")
    if tokens.mark_used(conn, found, client_ip(request), now):
        audit_log.record(
            conn,
            audit_log.TOKEN_USE,
            at=now,
            actor=user.username,
            actor_id=user.id,
            ip=client_ip(request),
            target=found.name,
            detail={"path": request.url.path},
        )
    return Principal(user, "token", token=found)


def _resolve(request: Request, conn: sqlite3.Connection, *, machine: bool) -> Principal:
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    raw = _bearer(request) if machine else None
    found = _token_principal(request, conn, raw) if raw else _session_principal(request, conn)
    if found is None:
        raise LoginRequired
    request.state.principal = found
    request.state.user = found.user
    return found


def session_user(request: Request, conn: Conn) -> accounts.User:
    """The session's user even when it must change its password (that page, logout)."""
    return _resolve(request, conn, machine=False).user


session_user.must_change_allowed = True  # type: ignore[attr-defined]  # read by the route matrix


def _checked(found: Principal) -> Principal:
    if found.user.must_change_password:
        raise PasswordChangeRequired
    return found


def principal(request: Request, conn: Conn) -> Principal:
    """The caller (session or token), able to use the app; raises otherwise."""
    return _checked(_resolve(request, conn, machine=True))


def current_user(found: Annotated[Principal, Depends(principal)]) -> accounts.User:
    """The calling account (any role): ``LoginRequired`` / ``PasswordChangeRequired``."""
    return found.user


# Every enabled account is at least a viewer: a route guarded by ``current_user`` alone is a
# viewer route (the route matrix reads this mark).
current_user.required_role = Role.VIEWER  # type: ignore[attr-defined]
CurrentUser = Annotated[accounts.User, Depends(current_user)]


def require_role(needed: Role) -> Callable[..., accounts.User]:
    """A dependency admitting callers whose role allows ``needed`` (403 for the others)."""

    def dependency(user: CurrentUser) -> accounts.User:
        if not user.may(needed):
            raise HTTPException(403, f"{needed.value} role required")
        return user

    dependency.__name__ = f"require_{needed.value}"
    dependency.required_role = needed  # type: ignore[attr-defined]  # read by the route matrix
    return dependency


require_viewer = require_role(Role.VIEWER)
require_editor = require_role(Role.EDITOR)
require_admin = require_role(Role.ADMIN)
ViewerUser = Annotated[accounts.User, Depends(require_viewer)]
EditorUser = Annotated[accounts.User, Depends(require_editor)]
AdminUser = Annotated[accounts.User, Depends(require_admin)]


def page_session(request: Request, conn: Conn) -> Principal:
    """The caller of an HTML page: a login session only (tokens are for machine routes)."""
    found = _resolve(request, conn, machine=False)
    if found.via != "session":
        raise LoginRequired
    return _checked(found)


def page_user(found: Annotated[Principal, Depends(page_session)]) -> accounts.User:
    """The session's user for HTML pages (viewer or more); must-change goes to that page."""
    if not found.user.may(Role.VIEWER):
        raise HTTPException(403, "viewer role required")
    return found.user


page_user.required_role = Role.VIEWER  # type: ignore[attr-defined]  # read by the route matrix
PageUser = Annotated[accounts.User, Depends(page_user)]


def page_role(needed: Role) -> Callable[..., accounts.User]:
    """Like ``require_role`` for HTML pages (a session, not a token)."""

    def dependency(user: PageUser) -> accounts.User:
        if not user.may(needed):
            raise HTTPException(403, f"{needed.value} role required")
        return user

    dependency.__name__ = f"page_{needed.value}"
    dependency.required_role = needed  # type: ignore[attr-defined]
    return dependency


page_editor = page_role(Role.EDITOR)
page_admin = page_role(Role.ADMIN)
PageEditor = Annotated[accounts.User, Depends(page_editor)]
PageAdmin = Annotated[accounts.User, Depends(page_admin)]


def stream_principal(request: Request, conn: Conn) -> Principal:
    """The caller of ``/stream/{content_id}``: a session, a token, or a signed link for
    exactly this content (``?u=&exp=&sig=``; ``LinkRefused`` when it does not verify)."""
    params = request.query_params
    if "sig" not in params:
        return principal(request, conn)
    web = context(request)
    content_id = str(request.path_params.get("content_id", ""))
    user = accounts.get_user(conn, params.get("u", ""))
    expires = params.get("exp", "")
    if (
        user is None
        or not expires.isdigit()
        or len(expires) > 12
        or not tokens.link_valid(
            web.link_key,
            content_id,
            user.id,
            user.session_version,
            int(expires),
            params.get("sig", ""),
            web.clock(),
        )
        or user.must_change_password
        or not user.may(Role.VIEWER)
    ):
        raise LinkRefused
    found = Principal(user, "link")
    request.state.principal = found
    request.state.user = user
    return found


def api_csrf(request: Request, found: Annotated[Principal, Depends(principal)]) -> accounts.User:
    """For state-changing API calls: a session whose ``X-CSRF-Token`` header matches."""
    if found.via != "session" or not csrf_ok(request, request.headers.get(CSRF_HEADER)):
        raise CsrfFailed
    return found.user


def form_csrf(request: Request, csrf: Annotated[str, Form()] = "") -> None:
    """For a page's state-changing form: its ``csrf`` field must be the session's token."""
    if not csrf_ok(request, csrf):
        raise CsrfFailed


FormCsrf = Depends(form_csrf)  # a route's ``dependencies=[FormCsrf]``, after its role's


def known_id(value: str) -> str:
    """``value`` when it can be a catalog id (``queries.valid_id``), else 404."""
    if not queries.valid_id(value):
        raise HTTPException(404, "not found")
    return value


def audit(
    request: Request,
    conn: sqlite3.Connection,
    action: str,
    *,
    target: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Record an audit event as this request's caller (actor, client address, the app clock).

    For features of other areas: ``audit(request, conn, audit_log.EXPORT, target=content_id,
    detail={"format": "edl"})`` inside the route, after the caller was checked.
    """
    user = getattr(request.state, "user", None)
    audit_log.record(
        conn,
        action,
        at=context(request).clock(),
        actor=user.username if isinstance(user, accounts.User) else None,
        actor_id=user.id if isinstance(user, accounts.User) else None,
        ip=client_ip(request),
        target=target,
        detail=detail,
    )


def editor_csrf(request: Request, user: EditorUser) -> accounts.User:
    """An editor's state-changing API call: a session whose ``X-CSRF-Token`` header matches
    (``api_csrf`` for the editor routes: marking hands, exports)."""
    found: Principal | None = getattr(request.state, "principal", None)
    if (found is not None and found.via != "session") or not csrf_ok(
        request, request.headers.get(CSRF_HEADER)
    ):
        raise CsrfFailed
    return user


editor_csrf.required_role = Role.EDITOR  # type: ignore[attr-defined]  # read by the route matrix
EditorWrite = Annotated[accounts.User, Depends(editor_csrf)]
