"""The previews task: scrubbing strips and posters made in the background, newest content first.

A Huey queue of its own (``archive_previews``) on the deployment's backend, consumed by
``settings.preview_workers`` thread(s) of ``archive-analyzer run`` only (the host with the data
folder where the strips live; probe workers on other hosts never take it). One task,
``previews``, makes up to ``BATCH`` files (``pipeline.make_previews``) and enqueues itself again
while files are left, so a shutdown's turn comes between batches. It is requested at start and
at every health check (a flag keeps one waiting at most): a file probed since gets its strip
within seconds. It writes only its own table, ``previews`` (docs/jobs.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from huey import Huey

from archive_analyzer.errors import ArchiveError
from archive_analyzer.jobs import registry
from archive_analyzer.previews.make import SweepResult

log = logging.getLogger(__name__)

PREVIEWS_QUEUE = "archive_previews"
PREVIEWS_FLAG = "previews-requested"
BATCH = 5

# Makes the previews of up to ``limit`` pending files (``pipeline.make_previews`` bound to
# the settings).
RunSweep = Callable[[int], SweepResult]


class PreviewTask:
    """The previews task of the ``run`` process, registered on the previews queue's Huey."""

    def __init__(self, huey: Huey, run_sweep: RunSweep) -> None:
        self.huey = huey
        self._run_sweep = run_sweep
        self.task = registry.task(huey, "previews", self._sweep)

    def clear_flag(self) -> None:
        """Forget a request flag left by a crash (it would block every request)."""
        self.huey.delete(PREVIEWS_FLAG)

    def request(self) -> bool:
        """Enqueue a sweep unless one is waiting; True when one was enqueued."""
        if self.huey.put_if_empty(PREVIEWS_FLAG, "1"):
            self.task()
            return True
        return False

    def _sweep(self) -> None:
        self.huey.delete(PREVIEWS_FLAG)
        try:
            result = self._run_sweep(BATCH)
        except ArchiveError as exc:  # share down, catalog gone: the next request tries again
            log.warning("previews: %s", exc)
            return
        if result.left:
            self.request()
