"""Running ffmpeg for the web app: a disk cache with LRU eviction, bounded slots, killed runs.

* ``SegmentCache``: finished files under one folder, total size kept under a cap by evicting
  the least recently used. Writers produce into a temporary name and rename, so a reader never
  sees half a segment.
* ``Slots``: at most N concurrent ffmpeg runs; a request waits briefly for a slot, then gets
  ``Busy`` (the route answers 503 with a clear message and ``Retry-After``).
* ``run``: one ffmpeg process per request, killed when the client goes away or after a
  timeout, so no process outlives the request that asked for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from archive_analyzer.config import Settings
from archive_analyzer.errors import ArchiveError, Busy

log = logging.getLogger(__name__)

_TMP_PREFIX = ".partial-"


class TranscodeFailed(ArchiveError):
    """ffmpeg ran but did not produce the output (the message carries its last error line)."""


class Cancelled(ArchiveError):
    """The client went away or the run timed out; the process was killed."""


class SegmentCache:
    """Files under ``root`` (keyed by relative name), total size at most ``cap_bytes``.

    Recency is kept in memory and seeded from file mtimes on first use; a hit refreshes it.
    Thread-safe.
    """

    def __init__(self, root: Path, cap_bytes: int) -> None:
        self.root = root
        self.cap_bytes = cap_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, int] | None = None
        self._total = 0
        self.evictions = 0

    def _load(self) -> OrderedDict[str, int]:
        if self._entries is None:
            found: list[tuple[float, str, int]] = []
            self.root.mkdir(parents=True, exist_ok=True)
            for path in self.root.rglob("*"):
                if not path.is_file():
                    continue
                if path.name.startswith(_TMP_PREFIX):
                    path.unlink(missing_ok=True)  # left by a killed server
                    continue
                st = path.stat()
                found.append((st.st_mtime, path.relative_to(self.root).as_posix(), st.st_size))
            found.sort()
            self._entries = OrderedDict((key, size) for _, key, size in found)
            self._total = sum(size for _, _, size in found)
        return self._entries

    def get(self, key: str) -> Path | None:
        """The cached file for ``key`` (marked recently used), or None."""
        with self._lock:
            entries = self._load()
            if key not in entries:
                return None
            path = self.root / key
            if not path.exists():
                self._total -= entries.pop(key)
                return None
            entries.move_to_end(key)
        with contextlib.suppress(OSError):
            os.utime(path)
        return path

    def temp_path(self, key: str) -> Path:
        """A fresh temporary path beside ``key``'s final place (for the writer)."""
        final = self.root / key
        final.parent.mkdir(parents=True, exist_ok=True)
        return final.with_name(f"{_TMP_PREFIX}{os.getpid()}-{time.monotonic_ns()}-{final.name}")

    def put(self, key: str, temp: Path) -> Path:
        """Move a finished ``temp`` into place as ``key`` and evict down to the cap."""
        final = self.root / key
        size = temp.stat().st_size
        temp.replace(final)
        with self._lock:
            entries = self._load()
            self._total -= entries.pop(key, 0)
            entries[key] = size
            self._total += size
            self._evict(keep=key)
        return final

    def _evict(self, keep: str) -> None:
        assert self._entries is not None
        while self._total > self.cap_bytes and len(self._entries) > 1:
            key, size = next(iter(self._entries.items()))
            if key == keep:
                self._entries.move_to_end(key)
                continue
            del self._entries[key]
            self._total -= size
            self.evictions += 1
            with contextlib.suppress(OSError):
                (self.root / key).unlink()

    @property
    def total_bytes(self) -> int:
        with self._lock:
            self._load()
            return self._total

    def disk_bytes(self) -> int:
        """The size of every file under the root, measured on disk (for checks and tests)."""
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())


class Slots:
    """At most ``limit`` holders at once; ``acquire`` waits ``wait_s`` then raises ``Busy``."""

    def __init__(self, limit: int, wait_s: float, what: str = "transcodes") -> None:
        self.limit = max(1, limit)
        self.wait_s = wait_s
        self.what = what
        self._semaphore: asyncio.Semaphore | None = None
        self.active = 0
        self.refused = 0

    def _sem(self) -> asyncio.Semaphore:
        # Made on first use, inside the server's event loop (nothing built at import time).
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.limit)
        return self._semaphore

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """Hold one slot for the block; ``Busy`` when none frees up within ``wait_s``."""
        sem = self._sem()
        try:
            await asyncio.wait_for(sem.acquire(), timeout=self.wait_s)
        except TimeoutError:
            self.refused += 1
            raise Busy(
                f"busy: {self.active} {self.what} running (limit {self.limit}); "
                "try again in a few seconds"
            ) from None
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1
            sem.release()


@dataclass
class Processes:
    """The ffmpeg processes running now (pid -> what), for metrics, admin and tests."""

    running: dict[int, str]
    killed: int = 0
    finished: int = 0
    failed: int = 0

    @classmethod
    def empty(cls) -> Processes:
        return cls({})


async def run(
    args: list[str],
    *,
    gone: Callable[[], Awaitable[bool]],
    timeout_s: float,
    processes: Processes,
    label: str,
    poll_s: float = 0.2,
) -> str:
    """Run ``args`` (an ffmpeg command) to completion; returns its stderr text.

    ``gone()`` is polled while it runs: when it says the client left, or after ``timeout_s``,
    the process is killed and ``Cancelled`` raised. A non-zero exit raises ``TranscodeFailed``.
    """
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    processes.running[proc.pid] = label
    assert proc.stderr is not None
    stderr_task = asyncio.ensure_future(proc.stderr.read())
    deadline = time.monotonic() + timeout_s
    reason = ""
    try:
        while True:
            try:
                await asyncio.wait_for(asyncio.shield(proc.wait()), timeout=poll_s)
                break
            except TimeoutError:
                pass
            if await gone():
                reason = "client went away"
            elif time.monotonic() > deadline:
                reason = f"timed out after {timeout_s:.0f} s"
            if reason:
                break
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            processes.killed += 1
            reason = reason or "request ended"
        processes.running.pop(proc.pid, None)
    stderr = (await stderr_task).decode("utf-8", "replace")
    if reason:
        log.info("ffmpeg %s killed: %s", label, reason)
        raise Cancelled(f"{label}: {reason}")
    if proc.returncode != 0:
        processes.failed += 1
        last = next((line for line in reversed(stderr.splitlines()) if line.strip()), "")
        raise TranscodeFailed(f"ffmpeg exited with {proc.returncode}: {last[:300]}")
    processes.finished += 1
    return stderr


@dataclass
class Playback:
    """The playback resources of one app (``app.state.playback``), built by ``from_settings``."""

    segments: SegmentCache
    slots: Slots
    processes: Processes
    thumbs_dir: Path
    thumb_slots: Slots
    hls_sessions: dict[str, float]  # content id -> last segment request (monotonic), for metrics

    @classmethod
    def from_settings(cls, settings: Settings) -> Playback:
        data = Path(settings.data_dir)
        return cls(
            segments=SegmentCache(settings.hls_cache_dir or data / "hls", settings.hls_cache_bytes),
            slots=Slots(settings.max_transcodes, settings.transcode_wait_s),
            processes=Processes.empty(),
            thumbs_dir=data / "thumbs",
            # short wait: a page of new tiles must not hold the browser's few connections
            thumb_slots=Slots(2, 5.0, what="thumbnails"),
            hls_sessions={},
        )

    def active_hls(self, window_s: float = 30.0) -> int:
        """Contents whose segments were asked for within ``window_s``."""
        cutoff = time.monotonic() - window_s
        return sum(1 for at in self.hls_sessions.values() if at >= cutoff)
