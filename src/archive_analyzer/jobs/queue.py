"""Where the job queues live: SQLite next to the catalog by default, Redis when configured.

Four queues share one storage backend:

- ``writer``: poll, ingest, sync and reconcile tasks, consumed by exactly one thread of one
  process (the single writer of the catalog);
- ``probe``: probe jobs, consumed by any number of workers on any host that reaches the share;
- ``results``: a plain FIFO (no tasks) of probe outcomes that workers push and the writer drains
  in batches;
- ``export``: clip exports (``jobs.exports``), consumed by the export threads of ``run``, the
  process whose disk holds the export cache the web app serves.

``QueueStorage`` is the backend contract; ``open_queue_storage(settings)`` picks one. Both build
ordinary Huey instances, so every task and consumer runs the same code on either backend.
Nothing here is built at import time.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from huey import Huey, RedisHuey
from huey.storage import BaseStorage, RedisStorage, SqliteStorage

from archive_analyzer.config import Settings
from archive_analyzer.errors import JobError

WRITER_QUEUE = "archive_writer"
PROBE_QUEUE = "archive_probe"
RESULTS_QUEUE = "archive_results"
EXPORT_QUEUE = "archive_export"


class QueueStorage(Protocol):
    """A backend that holds Huey queues: builds Huey instances and plain FIFO storages."""

    @property
    def kind(self) -> str:
        """``sqlite`` or ``redis``."""
        ...

    @property
    def location(self) -> str:
        """A display-safe description (a file path, or a URL without its password)."""
        ...

    def huey(self, name: str) -> Huey:
        """A Huey instance for the queue ``name`` (tasks are registered on it by the caller)."""
        ...

    def fifo(self, name: str) -> BaseStorage:
        """A raw Huey storage for the queue ``name``, used as a non-blocking FIFO."""
        ...

    def ping(self) -> None:
        """Raise ``JobError`` when the backend cannot be reached."""
        ...


class _SqliteStorage(SqliteStorage):  # type: ignore[misc]  # huey is untyped
    """Huey's SQLite storage with ``synchronous=NORMAL`` (the catalog's setting too).

    Huey leaves SQLite's default FULL, an fsync per enqueue and per dequeue: about 4.5 ms per
    job on the development machine, against about 0.3 ms with NORMAL. In WAL mode NORMAL is
    safe against a crash of the process; a power cut may lose the last jobs, which the
    writer's leases dispatch again.
    """

    def _create_connection(self) -> Any:
        conn = super()._create_connection()
        conn.execute("pragma synchronous=1")
        return conn


class SqliteQueueStorage:
    """Queues in one SQLite file (embedded: nothing to install or run)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def kind(self) -> str:
        return "sqlite"

    @property
    def location(self) -> str:
        return str(self.path)

    def _prepare(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def huey(self, name: str) -> Huey:
        self._prepare()
        # Results are pushed to the results queue explicitly; Huey's result store stays unused.
        return Huey(
            name, storage_class=_SqliteStorage, filename=str(self.path), results=False, timeout=30
        )

    def fifo(self, name: str) -> BaseStorage:
        self._prepare()
        return _SqliteStorage(name, filename=str(self.path), timeout=30)

    def ping(self) -> None:
        try:
            self.fifo(RESULTS_QUEUE).queue_size()
        except Exception as exc:  # sqlite3 errors from inside huey
            raise JobError(f"cannot open the job queue {self.path}: {exc}") from exc


class RedisQueueStorage:
    """Queues in Redis: shared by the writer and probe workers on every host."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._pool: Any = None

    @property
    def kind(self) -> str:
        return "redis"

    @property
    def location(self) -> str:
        return redact_url(self._url)

    def _connection_pool(self) -> Any:
        if self._pool is None:
            from redis import ConnectionPool

            # Short socket timeouts so a restarted or vanished server is noticed and the
            # next command reconnects, instead of a worker hanging on a dead socket.
            self._pool = ConnectionPool.from_url(
                self._url, socket_timeout=10, socket_connect_timeout=5, health_check_interval=15
            )
        return self._pool

    def huey(self, name: str) -> Huey:
        return RedisHuey(
            name, results=False, connection_pool=self._connection_pool(), read_timeout=1
        )

    def fifo(self, name: str) -> BaseStorage:
        return RedisStorage(name, connection_pool=self._connection_pool(), blocking=False)

    def ping(self) -> None:
        from redis import Redis, RedisError

        try:
            Redis(connection_pool=self._connection_pool()).ping()
        except RedisError as exc:
            raise JobError(f"cannot reach Redis at {self.location}: {exc}") from exc


def redact_url(url: str) -> str:
    """``url`` without its password (safe to log)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def queue_db_path(settings: Settings) -> Path:
    """The embedded queue file: ``data_dir/queue.db``."""
    return settings.data_dir / "queue.db"


def open_queue_storage(settings: Settings) -> QueueStorage:
    """Redis when ``settings.redis_url`` is set, else SQLite at ``data_dir/queue.db``."""
    if settings.redis_url is not None:
        url = settings.redis_url.get_secret_value()
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise JobError("the Redis URL must start with redis://, rediss:// or unix://")
        return RedisQueueStorage(url)
    return SqliteQueueStorage(queue_db_path(settings))


class ResultsQueue:
    """A FIFO of pickled messages on a Huey storage (pickled like Huey's own task messages)."""

    def __init__(self, storage: BaseStorage) -> None:
        self._storage = storage

    def put(self, message: object) -> None:
        """Append one message."""
        self._storage.enqueue(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def take(self, limit: int) -> list[Any]:
        """Remove and return up to ``limit`` messages, oldest first, without waiting."""
        taken: list[Any] = []
        while len(taken) < limit:
            data = self._storage.dequeue()
            if data is None:
                break
            taken.append(pickle.loads(data))
        return taken

    def size(self) -> int:
        """Messages waiting."""
        return int(self._storage.queue_size())


@dataclass(frozen=True)
class Queues:
    """The three queues of one deployment, on one backend."""

    storage: QueueStorage
    writer: Huey
    probe: Huey
    results: ResultsQueue
    export: Huey  # clip exports (issue 17), consumed by the export threads of ``run``


def build_huey(storage: QueueStorage, name: str) -> Huey:
    """A fresh Huey instance for queue ``name`` on ``storage`` (no tasks registered yet)."""
    return storage.huey(name)


def build_queues(settings: Settings, storage: QueueStorage | None = None) -> Queues:
    """The writer, probe and results queues on the configured backend (see module doc)."""
    backend = storage or open_queue_storage(settings)
    return Queues(
        storage=backend,
        writer=build_huey(backend, WRITER_QUEUE),
        probe=build_huey(backend, PROBE_QUEUE),
        results=ResultsQueue(backend.fifo(RESULTS_QUEUE)),
        export=build_huey(backend, EXPORT_QUEUE),
    )
