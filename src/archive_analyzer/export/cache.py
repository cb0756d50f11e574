"""Finished clip exports on disk, under a size cap (least recently used go first).

A clip's file name is its key (the file version, the range, fast or exact and the encoding
settings hashed) plus its extension, so the same request is served from the cache until the
original changes. A clip being made is written to ``.partial-<name>`` and renamed when done,
so a half-made clip is never served. Eviction runs after each new clip; a clip being
downloaded may go (the open file stays readable until closed on POSIX).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)


def clip_key(
    file_id: str, size: int, mtime: float, start: float, end: float, exact: bool, encoding: str
) -> str:
    """The cache key of a clip of one file version (24 hex characters)."""
    data = json.dumps([file_id, size, mtime, round(start, 3), round(end, 3), exact, encoding])
    return hashlib.sha1(data.encode()).hexdigest()[:24]


class ExportCache:
    """``folder`` holding at most ``cap_bytes`` of finished clips."""

    def __init__(self, folder: Path, cap_bytes: int) -> None:
        self.folder = folder
        self.cap_bytes = cap_bytes
        self._lock = threading.Lock()

    def find(self, key: str) -> Path | None:
        """The finished clip of ``key`` (marked as just used), or None."""
        if not self.folder.is_dir():
            return None
        for path in self.folder.glob(f"{key}.*"):
            try:
                os.utime(path)  # recently used: evicted last
            except OSError:
                continue
            return path
        return None

    def partial(self, key: str, ext: str) -> Path:
        """Where a clip of ``key`` is written while it is made."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f".partial-{key}.{ext}"

    def finish(self, partial: Path) -> Path:
        """Move a made clip into place and evict old clips above the cap."""
        final = partial.with_name(partial.name.removeprefix(".partial-"))
        partial.replace(final)
        self.evict(keep=final)
        return final

    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self._finished())

    def evict(self, keep: Path | None = None) -> int:
        """Remove least recently used clips until the total is under the cap; bytes freed."""
        with self._lock:
            files = sorted(self._finished(), key=lambda p: p.stat().st_mtime)
            total = sum(p.stat().st_size for p in files)
            freed = 0
            for path in files:
                if total <= self.cap_bytes:
                    break
                if keep is not None and path == keep:
                    continue
                size = path.stat().st_size
                path.unlink(missing_ok=True)
                total -= size
                freed += size
            if freed:
                log.info("export cache: %d bytes of old clips removed", freed)
            return freed

    def _finished(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return [p for p in self.folder.iterdir() if p.is_file() and not p.name.startswith(".")]
