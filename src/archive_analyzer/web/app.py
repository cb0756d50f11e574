"""The app factory: ``create_app(settings, *, conn_factory, source_factory, clock, writer)``.

One router per area (``routes/auth.py``, ``pages.py``, ``api.py``, ``stream.py``); a later
area (HLS, thumbnails, admin) adds its router in ``create_app`` and reuses ``deps`` for the
session user, the catalog connection and CSRF. Nothing is built at import time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from archive_analyzer.catalog.db import Clock, utc_now
from archive_analyzer.config import Settings
from archive_analyzer.jobs.client import JobClient
from archive_analyzer.sources.base import Source
from archive_analyzer.web.deps import (
    CsrfFailed,
    ExportRequests,
    LinkRefused,
    LoginRequired,
    PasswordChangeRequired,
    WebContext,
    WriterRequests,
)
from archive_analyzer.web.render import environment, render
from archive_analyzer.web.security import HttpsOnlyCookies, session_secret
from archive_analyzer.web.spelling import Vocabulary

SESSION_COOKIE = "archive_session"
_MACHINE_PREFIXES = (
    "/api",
    "/stream",
    "/hls",
    "/thumb",
    "/subtitles",
    "/previews",
    "/poster",
    "/internal",
    "/metrics",
    "/download",
    "/exports",
)
_PAGES_UNDER_API = frozenset({"/api/docs"})


def create_app(
    settings: Settings,
    *,
    conn_factory: Callable[[], sqlite3.Connection],
    source_factory: Callable[[str], Source],
    clock: Clock = utc_now,
    conn_release: Callable[[sqlite3.Connection], None] | None = None,
    writer: WriterRequests | None = None,
    exports: ExportRequests | None = None,
) -> FastAPI:
    """Build the viewer app.

    ``conn_factory`` gives a catalog connection for one request and ``conn_release`` takes it
    back afterwards (default: closes it; ``server.ConnectionPool`` keeps warm ones);
    ``source_factory`` maps a ``files.source`` name to an open Source; ``clock`` stamps
    progress and login attempts; ``writer`` takes the app's requests to the catalog's writer
    (re-probes, hands marked in the player) and ``exports`` runs clip exports (default for
    both: the job queues of ``settings``, opened on first use). The catalog must be migrated
    already.
    """
    from archive_analyzer.web.routes import (
        account,
        admin,
        admin_users,
        api,
        auth,
        editing,
        fixity,
        links,
        pages,
        playback,
        posters,
        stream,
        tracks,
        viewer,
    )
    from archive_analyzer.web.routes import versions as version_routes

    app = FastAPI(
        title="Archive Analyzer",
        summary="Browse, search and stream the archive catalog (login required).",
        version="1",
        # The default docs load Swagger UI from a CDN; /api/docs is served locally instead.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    secret = session_secret(settings)
    default_jobs = JobClient(settings)  # lazy: opens the queues on its first request
    app.state.web = WebContext(
        settings,
        conn_factory,
        source_factory,
        clock,
        environment(),
        conn_release or (lambda conn: conn.close()),
        writer or default_jobs,
        exports or default_jobs,
        secret,
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie=SESSION_COOKIE,
        # the server-side session ends earlier when idle (deps / web/sessions.py)
        max_age=int(settings.session_lifetime_s),
        same_site="lax",
        https_only=False,  # Secure is added per request over https (HttpsOnlyCookies)
    )
    app.add_middleware(HttpsOnlyCookies)
    # Client address and scheme from X-Forwarded-For/-Proto, only when the peer is one of
    # settings.trusted_proxies (none by default). uvicorn's own proxy handling is off (serve).
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    app.state.vocabulary = Vocabulary()  # the search index's words, for typo tolerance
    app.mount("/static", StaticFiles(packages=[("archive_analyzer.web", "static")]), name="static")
    app.include_router(auth.router)
    app.include_router(account.router)
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(viewer.pages)
    app.include_router(viewer.api)
    app.include_router(posters.router)
    app.include_router(stream.router)
    app.include_router(links.router)
    app.include_router(version_routes.router)
    editing.install(app)
    playback.install(app)
    app.include_router(tracks.router)
    admin.install(app)
    fixity.install(app)
    app.include_router(admin_users.router)
    _handlers(app)
    return app


def _machine(request: Request) -> bool:
    path = request.url.path
    if path in _PAGES_UNDER_API:
        return False
    return any(path == p or path.startswith(p + "/") for p in _MACHINE_PREFIXES)


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if _machine(request):
            headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if exc.bearer else {}
            return JSONResponse({"detail": exc.detail}, status_code=401, headers=headers)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def password_change(request: Request, exc: PasswordChangeRequired) -> Response:
        if _machine(request):
            return JSONResponse({"detail": "password change required"}, status_code=403)
        return RedirectResponse("/account/password", status_code=303)

    @app.exception_handler(LinkRefused)
    async def link_refused(request: Request, exc: LinkRefused) -> Response:
        return JSONResponse({"detail": "invalid or expired stream link"}, status_code=403)

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        if _machine(request):
            return JSONResponse({"detail": "missing or wrong CSRF token"}, status_code=403)
        return render(request, "error.html", {"message_key": "csrf_failed"}, status_code=403)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = getattr(exc, "headers", None)
        if _machine(request) or exc.status_code not in (404, 400):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=headers
            )
        return render(request, "error.html", {"message_key": "not_found"}, status_code=404)
