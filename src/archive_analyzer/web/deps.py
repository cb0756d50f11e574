"""Request-scoped dependencies: the app's context, a catalog connection, the logged-in user."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import Depends, HTTPException, Request
from jinja2 import Environment

from archive_analyzer.catalog import artwork
from archive_analyzer.catalog.db import Clock
from archive_analyzer.config import Settings
from archive_analyzer.sources.base import Source
from archive_analyzer.web import accounts
from archive_analyzer.web.security import CSRF_HEADER, csrf_ok

SESSION_USER = "uid"
SESSION_VERSION = "v"


class WriterRequests(Protocol):
    """What the web app may ask of the catalog's writer, through its queue (production:
    ``jobs.client.JobClient``). The web app writes no catalog table the writer owns."""

    def request_reprobe(self, file_id: str) -> None:
        """Queue a re-probe of catalogued file ``file_id`` (``JobError``: queue down)."""
        ...

    def set_artwork(self, change: artwork.Change) -> artwork.Outcome:
        """Have the writer store a series' or brand's poster and answer (``JobError``: queue
        down or no answer in time)."""
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


class LoginRequired(Exception):
    """No valid session: pages redirect to /login, /api and /stream answer 401."""


class PasswordChangeRequired(Exception):
    """The account must choose a new password before using the pages."""


class CsrfFailed(Exception):
    """A state-changing request without this session's CSRF token (403)."""


def context(request: Request) -> WebContext:
    web: WebContext = request.app.state.web
    return web


def connection(request: Request) -> Iterator[sqlite3.Connection]:
    """A catalog connection for this request, released (closed or pooled) afterwards."""
    web = context(request)
    conn = web.conn_factory()
    try:
        yield conn
    finally:
        web.conn_release(conn)


Conn = Annotated[sqlite3.Connection, Depends(connection)]


def current_user(request: Request, conn: Conn) -> accounts.User:
    """The session's user; ``LoginRequired`` when absent, unknown or signed out elsewhere."""
    user_id = request.session.get(SESSION_USER)
    if not isinstance(user_id, str):
        raise LoginRequired
    user = accounts.get_user(conn, user_id)
    if user is None or request.session.get(SESSION_VERSION) != user.session_version:
        request.session.clear()
        raise LoginRequired
    request.state.user = user
    return user


CurrentUser = Annotated[accounts.User, Depends(current_user)]


def page_user(user: CurrentUser) -> accounts.User:
    """Like ``current_user`` for HTML pages: also sends first-login admins to change passwords."""
    if user.must_change_password:
        raise PasswordChangeRequired
    return user


PageUser = Annotated[accounts.User, Depends(page_user)]


def page_editor(user: PageUser) -> accounts.User:
    """Like ``page_user`` for an editor's forms: 403 for viewers."""
    if not user.is_editor:
        raise HTTPException(403, "editors only")
    return user


PageEditor = Annotated[accounts.User, Depends(page_editor)]


def api_csrf(request: Request, user: CurrentUser) -> accounts.User:
    """For state-changing API calls: the ``X-CSRF-Token`` header must match the session."""
    if not csrf_ok(request, request.headers.get(CSRF_HEADER)):
        raise CsrfFailed
    return user
