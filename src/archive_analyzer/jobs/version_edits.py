"""Editors' version edits, asked for by the web app and made by the single writer.

The web app does not write catalog tables (docs/jobs.md): splitting a wrongly joined version
off its content puts a ``SplitVersion`` on the writer queue (the ``split_version`` task, see
``jobs.tasks``); the writer applies it in one transaction and leaves a ``VersionReply`` in the
queue backend's key-value store under ``version-reply:<request id>``, which
``VersionClient`` (the web side) waits for, up to a time limit.
"""

from __future__ import annotations

import logging
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from archive_analyzer.catalog import db, versions
from archive_analyzer.errors import CatalogError, JobError

log = logging.getLogger(__name__)

REPLY_PREFIX = "version-reply:"


@dataclass(frozen=True, slots=True)
class SplitVersion:
    """Split joined version ``content_id`` off its primary for good."""

    content_id: str
    user: str


@dataclass(frozen=True, slots=True)
class VersionReply:
    primary_id: str | None = None
    error: str | None = None


def apply(conn: sqlite3.Connection, edit: SplitVersion, now: db.Clock) -> VersionReply:
    """Make the edit in its own transaction; a refused edit is a reply, not an exception."""
    try:
        with db.transaction(conn):
            primary = versions.split(conn, edit.content_id, user=edit.user, now=now())
    except CatalogError as exc:
        return VersionReply(error=str(exc))
    log.info("%s split version %s off %s", edit.user, edit.content_id, primary)
    return VersionReply(primary_id=primary)


class VersionClient:
    """The web side: enqueue an edit, wait for the writer's reply (``take`` reads and removes
    a key of the queue store: ``Huey.get``)."""

    def __init__(
        self,
        enqueue: Callable[[str, SplitVersion], object],
        take: Callable[[str], object],
        *,
        timeout_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._enqueue = enqueue
        self._take = take
        self._timeout_s = timeout_s
        self._sleep = sleep

    def submit(self, edit: SplitVersion) -> VersionReply:
        """The writer's reply; ``JobError`` when none comes in time (the edit stays queued)."""
        request_id = uuid.uuid4().hex
        self._enqueue(request_id, edit)
        deadline = time.monotonic() + self._timeout_s
        delay = 0.01
        while True:
            reply = self._take(f"{REPLY_PREFIX}{request_id}")
            if isinstance(reply, VersionReply):
                return reply
            if time.monotonic() >= deadline:
                raise JobError(
                    f"the catalog writer did not answer within {self._timeout_s:.0f} s "
                    "(is 'archive-analyzer run' running?); the edit is queued"
                )
            self._sleep(delay)
            delay = min(delay * 2, 0.2)
