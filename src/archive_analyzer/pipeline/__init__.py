"""The stages composed: scan -> probe -> store, and the watcher's poll -> probe jobs -> ingest.

One module per stage, each small enough to read whole:

- ``options``: where ``Settings`` becomes each stage's own frozen options value; the stages
  below never see the settings.
- ``probing``: ``ProbeJob``, ``run_probe`` (any host), ``ingest`` (the single writer),
  ``probe_inline``.
- ``scanning``: the full ``scan`` and ``probe_pending``.
- ``polling``: one watcher poll (``poll_once``).
- ``changes``: change-notification rounds (``start_watch``, ``apply_changes``...).
- ``watching``: the ``watch`` loop that polls, runs rounds and probes in this process.
- ``previews``: the scrubbing-previews sweep (``make_previews``).

The jobs layer, the CLI, the web app and the benches call these through the names below
(``pipeline.scan``, ``pipeline.ingest``...), so they need not know which stage owns what.
"""

from archive_analyzer.pipeline.changes import (
    apply_changes,
    record_watch_off,
    start_watch,
    stop_watch,
)
from archive_analyzer.pipeline.options import (
    contents_hook,
    export_options,
    preview_options,
    probe_options,
    smb_options,
    source_opener,
)
from archive_analyzer.pipeline.polling import PollSummary, poll_once
from archive_analyzer.pipeline.previews import make_previews
from archive_analyzer.pipeline.probing import ProbeJob, ingest, jobs_for, run_probe
from archive_analyzer.pipeline.scanning import scan
from archive_analyzer.pipeline.watching import watch

__all__ = [
    "PollSummary",
    "ProbeJob",
    "apply_changes",
    "contents_hook",
    "export_options",
    "ingest",
    "jobs_for",
    "make_previews",
    "poll_once",
    "preview_options",
    "probe_options",
    "record_watch_off",
    "run_probe",
    "scan",
    "smb_options",
    "source_opener",
    "start_watch",
    "stop_watch",
    "watch",
]
