"""``GET /admin/fixity`` (admin only): fixity failures, duplicates with the space they take,
copies that differ from their original. Also installs the viewer beacon that lets hash workers
give way to viewers (``jobs/hashing.py``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from archive_analyzer.catalog import duplicates, versions
from archive_analyzer.catalog import fixity as store
from archive_analyzer.catalog.rules import Rules
from archive_analyzer.jobs.hashing import ViewerBeacon
from archive_analyzer.web.deps import Conn
from archive_analyzer.web.render import render
from archive_analyzer.web.routes.admin import AdminUser, admin_user
from archive_analyzer.web.routes.pages import rules_of
from archive_analyzer.web.transcode import Playback

router = APIRouter(include_in_schema=False, dependencies=[Depends(admin_user)])


@dataclass(frozen=True, slots=True)
class FixityPage:
    summary: dict[str, Any]
    failures: list[dict[str, Any]]
    groups: list[duplicates.Group]
    reclaimable: int
    differing: list[versions.CopyCheck]
    unverified_copies: int


def page_values(conn: sqlite3.Connection, rules: Rules) -> FixityPage:
    groups = duplicates.report(conn)
    checks = versions.copy_checks(conn, rules)
    return FixityPage(
        summary=store.summary(conn),
        failures=store.open_failures(conn),
        groups=groups,
        reclaimable=sum(g.bytes_reclaimable for g in groups if g.confirmed),
        differing=[c for c in checks if c.state == "differs"],
        unverified_copies=sum(1 for c in checks if c.state == "unverified"),
    )


@router.get("/admin/fixity")
async def fixity_page(request: Request, conn: Conn, user: AdminUser) -> Response:
    values = await run_in_threadpool(page_values, conn, rules_of(request))
    return render(request, "admin/fixity.html", {"p": values})


def install(app: FastAPI) -> None:
    """Add the page and start the viewer beacon (a daemon thread, idle unless streaming)."""
    app.include_router(router)
    playback: Playback = app.state.playback
    counts: dict[str, int] = app.state.stream_counts
    web = app.state.web
    writer_queue: list[Any] = []

    def streaming() -> bool:
        return sum(counts.values()) > 0 or playback.active_hls() > 0

    def put(key: str, value: float) -> None:
        if not writer_queue:
            from archive_analyzer.jobs.queue import WRITER_QUEUE, open_queue_storage

            writer_queue.append(open_queue_storage(web.settings).huey(WRITER_QUEUE))
        writer_queue[0].put(key, value)

    beacon = ViewerBeacon(streaming, put)
    beacon.start()
    app.state.viewer_beacon = beacon
    app.state.stream_started.append(beacon.poke)
