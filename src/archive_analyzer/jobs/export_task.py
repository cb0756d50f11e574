"""The clip export task: runs on the export threads of ``run`` (``jobs.exports``).

Registered in every process so the web app can enqueue it; only a process given
``run_export`` can run it (``run``, whose disk holds the export cache the web app serves).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from huey import Huey

from archive_analyzer.errors import JobError
from archive_analyzer.jobs import registry

# Cuts one clip: (content id, exact, cache key, cancelled) -> None (``exports.run_export``
# bound to the deployment's options, catalog and sources).
RunExport = Callable[[str, bool, str, Callable[[], bool]], None]


class ExportTask:
    """The ``export_clip`` task of one process, registered on the export queue's Huey."""

    def __init__(self, huey: Huey, run_export: RunExport | None) -> None:
        self._run_export = run_export
        self.stopping = threading.Event()  # set at shutdown: running exports kill their ffmpeg
        self.task = registry.task(huey, "export_clip", self._export)

    def enqueue(self, content_id: str, exact: bool, key: str) -> None:
        """Put a clip export on the export queue."""
        self.task(content_id, exact, key)

    def _export(self, content_id: str, exact: bool, key: str) -> None:
        if self._run_export is None:
            raise JobError("an export task ran in a process without export workers")
        self._run_export(content_id, exact, key, self.stopping.is_set)
