"""Admin pages (admin role only; viewers get 403) and Prometheus metrics.

* ``GET /admin``: scans and polls, files by status, incoming and missing files, probe jobs and
  queue depth, sync status and lag, playback (transcodes, cache), users.
* ``GET /admin/failures``: the failure list with reasons, each file with a re-probe button.
* ``POST /admin/reprobe/{file_id}``: ask the writer to probe the file again (form with the
  CSRF token); the failure list shows the new verdict once a probe worker has read it.
* ``GET /metrics``: Prometheus text; for admins, or for loopback clients not behind a proxy
  (a Prometheus on the same host scrapes without a session).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from archive_analyzer.catalog import audit as audit_log
from archive_analyzer.errors import ArchiveError, JobError
from archive_analyzer.web import accounts, admin, admin_view, metrics, queries
from archive_analyzer.web.accounts import Role
from archive_analyzer.web.activity import StreamCounter
from archive_analyzer.web.deps import (
    Conn,
    CsrfFailed,
    audit,
    context,
    page_admin,
    principal,
)
from archive_analyzer.web.render import render
from archive_analyzer.web.security import csrf_ok
from archive_analyzer.web.transcode import Playback

QUEUE_CACHE_S = 5.0
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})  # metrics: local scrapers need no login


# The session's user when an admin; 403 for everyone else (``deps.page_admin``).
admin_user = page_admin
AdminUser = Annotated[accounts.User, Depends(admin_user)]

router = APIRouter(include_in_schema=False, dependencies=[Depends(admin_user)])
public = APIRouter(include_in_schema=False)


class QueueProbe:
    """Queue depths, read at most every ``QUEUE_CACHE_S`` (a scrape must not hammer Redis)."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._at = 0.0
        self._value: dict[str, Any] = {}

    def __call__(self) -> dict[str, Any]:
        if time.monotonic() - self._at > QUEUE_CACHE_S:
            self._value = admin.queue_depths(self._app.state.web.settings)
            self._at = time.monotonic()
        return self._value


def install(app: FastAPI) -> None:
    """Add the admin pages, ``/metrics`` and the stream counter to ``app``."""
    counts: dict[str, int] = {}
    # Run when a media response starts (routes/fixity.py adds the viewer beacon's wake-up).
    started: list[Callable[[], None]] = []
    app.add_middleware(StreamCounter, counts=counts, on_start=started)
    app.state.stream_counts = counts
    app.state.stream_started = started
    app.state.queue_probe = QueueProbe(app)
    web = app.state.web
    playback: Playback = app.state.playback
    collector = metrics.ArchiveCollector(
        web.conn_factory, web.conn_release, playback, counts, app.state.queue_probe
    )
    app.state.metrics_registry = metrics.registry(collector)
    app.include_router(router)
    app.include_router(public)


@router.get("/admin")
async def overview(request: Request, conn: Conn, user: AdminUser) -> Response:
    settings = context(request).settings
    sections = await run_in_threadpool(admin.sections, conn)
    users = await run_in_threadpool(admin.users, conn)
    sync = await run_in_threadpool(admin.sync_status, conn, settings.sync_enabled)
    queue = await run_in_threadpool(request.app.state.queue_probe)
    state: Playback = request.app.state.playback
    live = {
        "workers": settings.workers,
        "transcodes": (state.slots.active, state.slots.limit),
        "ffmpeg_running": len(state.processes.running),
        "busy_answers": state.slots.refused,
        "ffmpeg_killed": state.processes.killed,
        "hls_cache": (state.segments.total_bytes, state.segments.cap_bytes),
        "streams": dict(request.app.state.stream_counts),
    }
    return render(
        request,
        "admin/overview.html",
        {
            "sections": sections,
            "users": users,
            "queue": queue,
            "live": live,
            "sync": sync,
            "sync_setting": admin.SYNC_SETTING,
            "view": admin_view,
        },
    )


@router.get("/admin/failures")
async def failure_list(request: Request, conn: Conn, user: AdminUser) -> Response:
    items = await run_in_threadpool(admin.failures, conn)
    return render(
        request,
        "admin/failures.html",
        {"items": items, "done": request.query_params.get("done", ""), "view": admin_view},
    )


@router.post("/admin/reprobe/{file_id}")
async def reprobe(
    request: Request,
    conn: Conn,
    user: AdminUser,
    file_id: str,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    if not csrf_ok(request, csrf):
        raise CsrfFailed
    if not queries.valid_id(file_id):
        raise HTTPException(404, "not found")
    web = context(request)
    try:
        await run_in_threadpool(admin.request_reprobe, conn, web.writer, file_id)
    except JobError as exc:
        raise HTTPException(503, f"cannot re-probe now: {exc}") from exc
    except ArchiveError as exc:
        raise HTTPException(404, f"cannot re-probe: {exc}") from exc
    # the outcome arrives later (the writer ingests it); the request is what an admin did
    await run_in_threadpool(
        audit, request, conn, audit_log.REPROBE, target=file_id, detail={"state": "queued"}
    )
    return RedirectResponse("/admin/failures?done=queued", status_code=303)


@public.get("/metrics")
async def metrics_page(request: Request) -> Response:
    client = request.client.host if request.client else ""
    local = client in LOOPBACK and "x-forwarded-for" not in request.headers
    if not local:
        await run_in_threadpool(_require_admin, request)
    body = await run_in_threadpool(metrics.render, request.app.state.metrics_registry)
    return Response(body, media_type=metrics.CONTENT_TYPE)


def _require_admin(request: Request) -> None:
    """A session or token of an admin (a Prometheus elsewhere scrapes with a token)."""
    web = context(request)
    conn = web.conn_factory()
    try:
        found = principal(request, conn)
    finally:
        web.conn_release(conn)
    if not found.user.may(Role.ADMIN):
        raise HTTPException(403, "admin only")
