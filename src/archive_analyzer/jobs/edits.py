"""Catalog edits asked for by the web app, made by the single writer.

The web app does not write catalog tables (docs/jobs.md). Marking, editing or deleting a hand,
splitting a joined version off its content, or choosing a series' or brand's poster, puts an
``Edit`` on the writer queue (the ``edit`` task, see ``jobs.tasks``); the writer applies it in
one transaction (:func:`apply`) and leaves an ``EditReply`` in the queue backend's key-value
store under ``edit-reply:<request id>``, which :class:`EditClient` (the web side) polls for, up
to a time limit. A new hand's id is chosen by the client, so a request retried after a time-out
updates the same hand instead of marking it twice.
"""

from __future__ import annotations

import logging
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from archive_analyzer.catalog import artwork, db, hands, versions
from archive_analyzer.errors import CatalogError, JobError, NotFound

log = logging.getLogger(__name__)

REPLY_PREFIX = "edit-reply:"


@dataclass(frozen=True, slots=True)
class SaveHand:
    """Create (``create``) or update hand ``hand_id`` of episode ``episode_id``."""

    episode_id: str
    hand_id: str
    hand: hands.Hand
    create: bool
    user: str


@dataclass(frozen=True, slots=True)
class DeleteHand:
    """Soft-delete hand ``hand_id``."""

    hand_id: str
    user: str


@dataclass(frozen=True, slots=True)
class SplitVersion:
    """Split joined version ``content_id`` off its content for good (issue 18,
    ``catalog.versions.split``); the reply's ``content_id`` is the content it left."""

    content_id: str
    user: str


# an editor's series or brand poster (issue 16) is an edit too
Edit = SaveHand | DeleteHand | SplitVersion | artwork.Change


@dataclass(frozen=True, slots=True)
class EditReply:
    """What the writer did: the hand's id, or why not (``missing``: no such row)."""

    content_id: str | None = None
    error: str | None = None
    missing: bool = False
    changed: bool = False


def apply(conn: sqlite3.Connection, edit: Edit, now: db.Clock) -> EditReply:
    """Make one edit in its own transaction; a refused edit is a reply, not an exception."""
    stamp = db.timestamp(now())
    try:
        with db.transaction(conn):
            if isinstance(edit, SplitVersion):
                primary = versions.split(conn, edit.content_id, user=edit.user, now=now())
                log.info("%s split version %s off %s", edit.user, edit.content_id, primary)
                return EditReply(primary, changed=True)
            if isinstance(edit, artwork.Change):
                changed = artwork.apply(conn, edit, stamp)
                log.info("%s set the poster of %s %s", edit.user, edit.owner_kind, edit.owner_id)
                return EditReply(changed=changed)
            if isinstance(edit, DeleteHand):
                changed = hands.delete(conn, edit.hand_id, stamp)
                log.info("%s deleted hand %s", edit.user, edit.hand_id)
                return EditReply(edit.hand_id, changed=changed)
            return _save(conn, edit, stamp)
    except NotFound as exc:
        return EditReply(error=str(exc), missing=True)
    except CatalogError as exc:
        return EditReply(error=str(exc))


def _save(conn: sqlite3.Connection, edit: SaveHand, stamp: str) -> EditReply:
    parent = hands.episode(conn, edit.episode_id)
    clock = hands.file_clock(conn, parent["file_id"])
    hands.check(edit.hand, clock)
    existing = None
    if not edit.create:
        existing = hands.hand_row(conn, edit.hand_id)
        if existing["parent_id"] != parent["id"]:
            raise NotFound(f"hand {edit.hand_id} is not a hand of {parent['id']}")
    external = existing["external_id"] if existing is not None else None
    if external is None:
        external = f"{hands.EXTERNAL_PREFIX}{edit.hand_id}"
        if existing is None:
            taken = conn.execute(
                "SELECT 1 FROM contents WHERE id = ? OR external_id = ?", (edit.hand_id, external)
            ).fetchone()
            if taken is not None:  # a retried create: the first one went through
                existing = hands.hand_row(conn, edit.hand_id)
    names = hands.player_names(conn, edit.hand.players)
    base = edit.hand.title or default_title(clock, edit.hand.start, names)
    title = hands.unique_title(conn, parent["id"], base, external, edit.hand_id[:8])
    content_id, created, changed = hands.upsert(
        conn,
        parent=parent,
        hand=edit.hand,
        title=title,
        external_id=external,
        origin="manual",
        stamp=stamp,
        existing=existing,
    )
    log.info("%s %s hand %s", edit.user, "marked" if created else "edited", content_id)
    return EditReply(content_id, changed=changed)


def default_title(clock: hands.FileClock, start: float, names: list[str]) -> str:
    """``01:00:02:00 – A vs B``: where the hand starts (source timecode when known)."""
    label = clock.label_at(start)
    if label is None:
        whole = int(start)
        label = f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
    return f"Hand {label}" + (f" – {' vs '.join(names)}" if names else "")


class EditClient:
    """The web side: enqueue an edit and wait for the writer's reply.

    ``enqueue(request_id, edit)`` is the registered ``edit`` task; ``take(key)`` reads and
    removes a value from the queue backend's key-value store (``Huey.get``).
    """

    def __init__(
        self,
        enqueue: Callable[[str, Edit], object],
        take: Callable[[str], object],
        *,
        timeout_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._enqueue = enqueue
        self._take = take
        self._timeout_s = timeout_s
        self._sleep = sleep

    def submit(self, edit: Edit) -> EditReply:
        """The writer's reply. Raises ``JobError`` when none comes in time (the writer is not
        running, or busy with a long scan; the edit stays queued and is made later)."""
        request_id = uuid.uuid4().hex
        self._enqueue(request_id, edit)
        deadline = time.monotonic() + self._timeout_s
        delay = 0.01
        while True:
            reply = self._take(f"{REPLY_PREFIX}{request_id}")
            if isinstance(reply, EditReply):
                return reply
            if time.monotonic() >= deadline:
                raise JobError(
                    f"the catalog writer did not answer within {self._timeout_s:.0f} s "
                    "(is 'archive-analyzer run' running?); the edit is queued"
                )
            self._sleep(delay)
            delay = min(delay * 2, 0.2)
