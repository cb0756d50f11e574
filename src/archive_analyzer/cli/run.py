"""``archive-analyzer run`` (the whole system on one machine) and ``worker`` (more probe hosts).

Thin: build the settings, fall back to the demo archive when no source is configured, then hand
over to ``jobs.host``. See docs/jobs.md for the process model.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import typer

from archive_analyzer.cli.app import ConfigOption, DbOption, NotifyOption, app, settings
from archive_analyzer.config import Settings

log = logging.getLogger(__name__)

RedisOption = Annotated[
    str | None,
    typer.Option(
        "--redis",
        help="Redis URL for the job queues [env ARCHIVE_REDIS_URL; default: an SQLite queue "
        "in the data dir].",
    ),
]
WorkersOption = Annotated[
    int | None,
    typer.Option("--workers", min=0, help="Probe worker threads [env ARCHIVE_WORKERS; 2]."),
]


@app.command()
def run(
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="Folder or smb://[user@]host[:port]/share/path [env ARCHIVE_SOURCE; default: "
            "a generated demo archive of real media files].",
        ),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    redis: RedisOption = None,
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="Web port [8000].")
    ] = None,
    workers: WorkersOption = None,
    interval: Annotated[
        float | None,
        typer.Option("--interval", min=0.1, help="Seconds between polls [default 60]."),
    ] = None,
    notify: NotifyOption = None,
    web: Annotated[bool, typer.Option("--web/--no-web", help="Serve the web app.")] = True,
    once: Annotated[
        bool, typer.Option("--once", help="Scan and probe in this process, then stop.")
    ] = False,
) -> None:
    """Start the whole system: a first full scan, the watcher, the single catalog writer, probe
    workers and the web app. Stop with Ctrl-C or SIGTERM: jobs in flight finish first."""
    cfg = settings(
        db,
        config,
        source=source,
        redis_url=redis,
        port=port,
        workers=workers,
        poll_interval_s=interval,
        notify=notify,
    )
    if not cfg.source:
        cfg = _with_demo_archive(cfg)
    if once:
        from archive_analyzer import pipeline

        summary = pipeline.scan(cfg)
        typer.echo(
            f"scan {summary.scan.status}: {summary.scan.files_seen} files, "
            f"probed {summary.probed}, catalog {cfg.db}",
            err=True,
        )
        return
    from archive_analyzer.jobs.host import run_system

    run_system(cfg, app_factory=_build_web_app if web else None)


@app.command()
def worker(
    redis: RedisOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
    workers: WorkersOption = None,
) -> None:
    """Add probe workers on this host. They take probe jobs from the shared queue (Redis) and
    send the results to the writer of ``run``; they never write the catalog."""
    from archive_analyzer.jobs.host import run_worker

    cfg = settings(db, config, redis_url=redis, workers=workers)
    if cfg.redis_url is None:
        log.warning("no --redis given: taking jobs from the local queue in %s", cfg.data_dir)
    run_worker(cfg)


def _with_demo_archive(cfg: Settings) -> Settings:
    """Settings pointing at the demo archive (generated into the data dir on first use)."""
    from archive_analyzer.demo import ensure_demo_archive

    root = ensure_demo_archive(cfg.data_dir.resolve() / "demo")
    typer.echo(f"no source configured: using the demo archive in {root}", err=True)
    return cfg.model_copy(update={"source": str(root)})


def _build_web_app(cfg: Settings) -> Any:
    """The web app (``web.server.build``), after creating the first admin when none exists."""
    from archive_analyzer.catalog import db
    from archive_analyzer.cli.serve import announce_first_admin
    from archive_analyzer.web import accounts, server

    conn = db.connect(cfg.db)
    try:
        announce_first_admin(accounts.ensure_first_admin(conn))
    finally:
        conn.close()
    app, _registry = server.build(cfg)
    return app
