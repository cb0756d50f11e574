"""The previews job: scrubbing strips and posters made in the background, newest content first.

A Huey queue of its own (``archive_previews``) on the deployment's backend, consumed by
``settings.preview_workers`` thread(s) of ``archive-analyzer run`` (the host with the data
folder where the strips live; probe workers on other hosts never take it). One task,
``previews``, makes up to ``BATCH`` files (``previews.make.sweep``) and enqueues itself again
while files are left, so a poll's or a shutdown's turn comes between batches. It is requested
at start and at every poll tick (a flag keeps one waiting at most): a file probed since gets
its strip within a poll interval. It writes only its own table, ``previews``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from huey import Huey
from huey.api import TaskWrapper

from archive_analyzer.catalog import db
from archive_analyzer.config import Settings
from archive_analyzer.errors import ArchiveError
from archive_analyzer.jobs.queue import QueueStorage, build_huey
from archive_analyzer.previews import make, options
from archive_analyzer.sources import open_source

log = logging.getLogger(__name__)

PREVIEWS_QUEUE = "archive_previews"
PREVIEWS_FLAG = "previews-requested"
BATCH = 5


@dataclass(frozen=True)
class PreviewJobs:
    huey: Huey
    sweep: TaskWrapper
    request: Callable[[], bool]


def register(
    storage: QueueStorage, settings: Settings, *, clock: db.Clock = db.utc_now
) -> PreviewJobs:
    """Build the previews queue on ``storage`` and register its task."""
    huey = build_huey(storage, PREVIEWS_QUEUE)
    made_options = options.from_settings(settings)

    def sweep_fn() -> None:
        huey.delete(PREVIEWS_FLAG)
        if not settings.source:
            return
        conn = db.connect(settings.db, migrate=False)
        source = open_source(settings.source, settings)
        try:
            source.connect()
            result = make.sweep(conn, source, made_options, now=clock, limit=BATCH)
        except ArchiveError as exc:
            log.warning("previews: %s", exc)
            return
        finally:
            source.close()
            conn.close()
        if result.left:
            request()

    sweep: TaskWrapper = huey.task(name="previews")(sweep_fn)

    def request() -> bool:
        """Enqueue a sweep unless one is waiting; True when one was enqueued."""
        if huey.put_if_empty(PREVIEWS_FLAG, "1"):
            sweep()
            return True
        return False

    return PreviewJobs(huey, sweep, request)
