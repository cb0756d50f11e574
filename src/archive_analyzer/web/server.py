"""Running the app for real: catalog connections, the configured source, uvicorn.

``serve(settings)`` is what ``archive-analyzer serve`` (and ``run``) call. The Source named by
``settings.source`` is opened once, lazily, and shared by every stream (each stream opens its
own file handle on it).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from archive_analyzer.catalog import db
from archive_analyzer.config import Settings
from archive_analyzer.errors import ConfigError, FileVanished, SourceUnavailable
from archive_analyzer.pipeline import source_opener
from archive_analyzer.sources import Source, SourceOpener

log = logging.getLogger(__name__)


class SourceRegistry:
    """Maps a ``files.source`` name to the configured, connected Source.

    A file whose source is not the configured one cannot be streamed (``FileVanished``):
    the app never opens anything it was not configured with.
    """

    def __init__(self, settings: Settings, opener: SourceOpener | None = None):
        self._settings = settings
        self._opener = opener or source_opener(settings)
        self._source: Source | None = None
        self._lock = threading.Lock()

    def __call__(self, name: str) -> Source:
        with self._lock:
            if self._source is None:
                spec = self._settings.source
                if not spec:
                    raise SourceUnavailable("no source configured (settings.source)")
                source = self._opener(spec)
                source.connect()
                self._source = source
            if self._source.name != name:
                raise FileVanished(f"file is on a source that is not configured: {name}")
            return self._source

    def close(self) -> None:
        with self._lock:
            if self._source is not None:
                self._source.close()
                self._source = None


class ConnectionPool:
    """Catalog connections reused across requests, each owned by one request at a time.

    Reuse keeps SQLite's page cache warm (search verifies candidates row by row: a cold cache
    makes that several times slower); ``CACHE_KIB`` per connection, ``max_idle`` kept.
    """

    CACHE_KIB = 32 * 1024

    def __init__(self, path: Path, max_idle: int = 8) -> None:
        self._path = path
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._max_idle = max_idle

    def acquire(self) -> sqlite3.Connection:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            conn = db.connect(self._path, migrate=False)
            conn.execute(f"PRAGMA cache_size = -{self.CACHE_KIB}")
            return conn

    def release(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if self._idle.qsize() < self._max_idle:
            self._idle.put(conn)
        else:
            conn.close()

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


def build(settings: Settings) -> tuple[FastAPI, SourceRegistry]:
    """The production app on ``settings.db``: migrates the catalog, pools connections and
    opens the source lazily. (The search index is the catalog writers' to keep current: the
    app only reads it, docs/jobs.md.)"""
    from archive_analyzer.web.app import create_app

    options = uvicorn_options(settings)  # bad TLS files: one clear error before anything runs
    conn = db.connect(settings.db)  # migrations
    try:
        from archive_analyzer.web import accounts, sessions

        accounts.housekeeping(
            conn,
            db.utc_now(),
            audit_keep=timedelta(days=settings.audit_retention_days),
            lifetimes=sessions.Lifetimes(
                timedelta(seconds=settings.session_idle_s),
                timedelta(seconds=settings.session_lifetime_s),
            ),
        )
    finally:
        conn.close()
    pool = ConnectionPool(settings.db)
    registry = SourceRegistry(settings)
    app = create_app(
        settings,
        conn_factory=pool.acquire,
        conn_release=pool.release,
        source_factory=registry,
    )
    # read by whoever runs uvicorn (serve below, jobs.host for `run`)
    app.state.uvicorn_options = options
    return app, registry


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How every server of this app runs uvicorn: TLS when configured, and uvicorn's own
    forwarded-header handling off (it trusts 127.0.0.1 by default, so a proxy on the same host,
    or anyone there, could claim any address). The app reads ``X-Forwarded-*`` itself, only
    from ``settings.trusted_proxies`` (``create_app``). Raises ``ConfigError`` for unreadable
    TLS files."""
    options: dict[str, Any] = {"proxy_headers": False, "server_header": False}
    if settings.tls_cert_file is not None and settings.tls_key_file is not None:
        for path in (settings.tls_cert_file, settings.tls_key_file):
            if not path.is_file():
                raise ConfigError(f"TLS file not found: {path}")
        _check_tls(settings.tls_cert_file, settings.tls_key_file)
        options["ssl_certfile"] = str(settings.tls_cert_file)
        options["ssl_keyfile"] = str(settings.tls_key_file)
    return options


def _check_tls(cert: Path, key: Path) -> None:
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(str(cert), str(key))
    except (ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc.__class__.__name__
        raise ConfigError(f"cannot use TLS certificate {cert} with key {key}: {reason}") from None


def serve(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    """Serve the app with uvicorn until interrupted (blocking)."""
    import uvicorn

    app, registry = build(settings)
    options: dict[str, Any] = app.state.uvicorn_options
    bind_host = host or settings.host
    bind_port = port or settings.port
    scheme = "https" if "ssl_certfile" in options else "http"
    log.info("serving on %s://%s:%d", scheme, bind_host, bind_port)
    try:
        uvicorn.run(
            app, host=bind_host, port=bind_port, log_level="info", access_log=False, **options
        )
    finally:
        registry.close()
