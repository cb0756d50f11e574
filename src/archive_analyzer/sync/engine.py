"""The sync entry point for commands and jobs: settings in, a finished run out.

Composes the pieces at the edge: opens the catalog, builds the Firestore sink from the settings
and runs the replicator. Sync is off until a Firestore project is configured.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from archive_analyzer.catalog import db as catalog_db
from archive_analyzer.config import Settings
from archive_analyzer.errors import SyncError
from archive_analyzer.sync import state
from archive_analyzer.sync.firestore import FirestoreSink, RetryPolicy
from archive_analyzer.sync.replicator import Progress, Replicator, SyncReport
from archive_analyzer.sync.sink import MemorySink, Sink

NOT_CONFIGURED = (
    "sync is off: set ARCHIVE_FIRESTORE_PROJECT (or GOOGLE_CLOUD_PROJECT) to publish to Firestore"
)


def open_sink(settings: Settings) -> Sink:
    """The Firestore sink the settings describe (project, credentials or emulator host)."""
    assert settings.firestore_project  # callers check settings.sync_enabled
    credentials = settings.google_application_credentials
    return FirestoreSink(
        settings.firestore_project,
        emulator_host=settings.firestore_emulator_host,
        credentials_file=str(credentials) if credentials else None,
        retry=RetryPolicy(
            deadline_s=settings.sync_retry_s,
            rpc_timeout_s=min(20.0, max(1.0, settings.sync_retry_s / 3)),
        ),
    )


def run_sync(
    settings: Settings,
    *,
    full: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    allow_mass_delete: bool = False,
) -> SyncReport | None:
    """Run one sync of ``settings.db``; None when sync is not configured.

    A dry run plans against the catalog's record of what was synced and writes nothing (it
    needs no Firestore connection for an incremental plan). ``allow_mass_delete`` lets a full
    run prune past the replicator's mass-delete guard. Raises ``SyncError``, and
    ``CatalogError`` when ``settings.db`` does not exist (it is never created: a mistyped path
    must not read as an empty archive, whose ``--full`` run would prune everything).
    """
    catalog_db.require_existing(settings.db)
    if not settings.sync_enabled and not dry_run:
        return None
    with _exclusive(settings.db):
        return _run(
            settings,
            full=full,
            dry_run=dry_run,
            progress=progress,
            allow_mass_delete=allow_mass_delete,
        )


@contextmanager
def _exclusive(db: Path) -> Iterator[None]:
    """One sync per catalog at a time (a CLI run and a queued job must not interleave: an
    older plan committed after a newer one would leave a stale document). An OS file lock, so
    a crashed run never leaves it held."""
    lock_path = Path(f"{db}.sync.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise SyncError(f"another sync of {db} is running") from exc
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _run(
    settings: Settings,
    *,
    full: bool,
    dry_run: bool,
    progress: Progress | None,
    allow_mass_delete: bool,
) -> SyncReport:
    conn = catalog_db.connect(settings.db)
    sink: Sink | None = None
    try:
        if not dry_run:
            state.close_abandoned_runs(conn, catalog_db.timestamp(catalog_db.utc_now()))
        sink = open_sink(settings) if settings.sync_enabled and (full or not dry_run) else None
        replicator = Replicator(
            conn,
            sink if sink is not None else MemorySink(),
            batch_size=settings.sync_batch_size,
            progress=progress,
            allow_mass_delete=allow_mass_delete,
            prune_max_share=settings.sync_prune_max_share,
            prune_min_docs=settings.sync_prune_min_docs,
        )
        return replicator.run(full=full, dry_run=dry_run)
    finally:
        if sink is not None:
            sink.close()
        conn.close()
