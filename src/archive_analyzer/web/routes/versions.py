"""Editors' version edits: ``POST /content/{id}/split`` splits a joined version off.

The edit goes to the catalog writer through the queue (``jobs.edits.SplitVersion``); the
page then shows the outcome. Editors and admins; the split is recorded in the audit log.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from archive_analyzer.catalog import audit as audit_log
from archive_analyzer.catalog import versions
from archive_analyzer.errors import JobError
from archive_analyzer.jobs import edits
from archive_analyzer.web import queries, visibility
from archive_analyzer.web.deps import Conn, FormCsrf, PageEditor, audit, context, page_editor

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_editor)])


@router.post("/content/{content_id}/split", dependencies=[FormCsrf])
async def split_version(
    request: Request,
    conn: Conn,
    user: PageEditor,
    content_id: str,
) -> Response:
    if not queries.valid_id(content_id):
        raise HTTPException(404)
    primary = await run_in_threadpool(versions.primary_of, conn, content_id)
    shown = await run_in_threadpool(queries.detail, conn, primary) if primary else None
    if (
        primary is None
        or shown is None
        or not visibility.brand_visible(user, shown.card.catalog_id)
    ):
        raise HTTPException(404)
    await run_in_threadpool(
        audit, request, conn, audit_log.VERSION_SPLIT, target=content_id,
        detail={"primary": primary},
    )  # fmt: skip
    writer = context(request).writer
    try:
        edit = edits.SplitVersion(content_id, user.username)
        reply = await run_in_threadpool(writer.submit_edit, edit)
    except JobError as exc:
        return RedirectResponse(f"/content/{primary}?split={quote(str(exc))}", status_code=303)
    if reply.error is not None:
        return RedirectResponse(f"/content/{primary}?split={quote(reply.error)}", status_code=303)
    return RedirectResponse(f"/content/{primary}?split=done", status_code=303)
