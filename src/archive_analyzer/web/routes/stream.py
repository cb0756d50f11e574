"""``GET /stream/{content_id}``: the bytes of a content's catalogued file, with HTTP ranges.

Only ids reach this route: the file comes from the catalog row of a visible content (a clip's
parent's file for clips), never from a path in the request.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from archive_analyzer import byteranges
from archive_analyzer.catalog.file_facts import FileFacts
from archive_analyzer.errors import FileVanished, PermissionDenied, SourceError
from archive_analyzer.sources.base import FileInfo, FileReader
from archive_analyzer.web import queries, ranges, streaming, visibility
from archive_analyzer.web.deps import Conn, CurrentUser, context, require_viewer, stream_principal

log = logging.getLogger(__name__)

# A signed link (?u=&exp=&sig=) is accepted here and nowhere else.
router = APIRouter(
    tags=["stream"], dependencies=[Depends(stream_principal), Depends(require_viewer)]
)


@router.head("/stream/{content_id}", include_in_schema=False)
@router.get(
    "/stream/{content_id}",
    summary="Stream a content's file (HTTP range requests supported)",
    response_class=Response,
    responses={206: {"description": "Partial content"}, 416: {"description": "Bad range"}},
)
async def stream(request: Request, content_id: str, conn: Conn, user: CurrentUser) -> Response:
    if not queries.valid_id(content_id):
        raise HTTPException(404, "not found")
    if not await run_in_threadpool(visibility.content_visible, conn, user, content_id):
        raise HTTPException(404, "not found")
    target, reader = await open_played(request, conn, content_id)
    return await streaming.answer_closing(reader, _respond(request, reader, target, content_id))


async def open_played(
    request: Request, conn: Conn, content_id: str
) -> tuple[FileFacts, FileReader]:
    """The file a content plays and a reader open on it (the caller closes it): 404 when
    there is none or it is gone, 503 when its source cannot be reached. The caller has checked
    that the user may see the content."""
    target = await run_in_threadpool(queries.playback_file, conn, content_id)
    if target is None:
        raise HTTPException(404, "not found")
    try:
        source = await run_in_threadpool(context(request).source_factory, target.source)
        reader = await run_in_threadpool(source.open_reader, target.path)
    except (FileVanished, PermissionDenied) as exc:
        log.info("stream %s: %s", content_id, exc)
        raise HTTPException(404, "file not available") from exc
    except SourceError as exc:
        log.warning("stream %s: source unavailable: %s", content_id, exc)
        raise HTTPException(503, "source unavailable") from exc
    return target, reader


async def file_info(reader: FileReader, content_id: str) -> FileInfo:
    """The size and version of the file ``reader`` opened (opening gives them: one round trip,
    no separate stat); 404 when it is gone, 503 when its source cannot be reached."""
    try:
        return await run_in_threadpool(lambda: reader.info)
    except (FileVanished, PermissionDenied) as exc:
        log.info("stream %s: %s", content_id, exc)
        raise HTTPException(404, "file not available") from exc
    except SourceError as exc:
        log.warning("stream %s: source unavailable: %s", content_id, exc)
        raise HTTPException(503, "source unavailable") from exc


async def _respond(
    request: Request, reader: FileReader, target: FileFacts, content_id: str
) -> Response:
    info = await file_info(reader, content_id)
    if info.is_dir:
        raise HTTPException(404, "file not available")
    total = info.size
    tag = ranges.etag(target.id, info.size, info.mtime)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": tag,
        "Last-Modified": ranges.http_date(info.mtime),
        "Cache-Control": "private, no-transform",
        "X-Content-Type-Options": "nosniff",
    }
    media_type = streaming.content_type(target.ext)
    range_header = request.headers.get("range")
    if range_header is None and ranges.none_match(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    span: byteranges.ByteSpan | None = None
    if range_header is not None and ranges.if_range_allows(
        request.headers.get("if-range"), tag, info.mtime
    ):
        try:
            span = byteranges.parse_range(range_header, total)
        except byteranges.Unsatisfiable:
            return Response(
                status_code=416, headers={**headers, "Content-Range": f"bytes */{total}"}
            )
    if span is None:
        first, length, status = 0, total, 200
    else:
        first, length, status = span.first, span.length, 206
        headers["Content-Range"] = span.content_range
    headers["Content-Length"] = str(length)
    if request.method == "HEAD" or length == 0:
        return Response(status_code=status, headers=headers, media_type=media_type)
    return StreamingResponse(
        streaming.body(reader, target.path, first, length),
        status_code=status,
        headers=headers,
        media_type=media_type,
    )
