"""How ffmpeg reaches a catalogued file: a local path, or a one-time loopback URL.

A source that has the file on this machine (``Source.local_path``: a local folder) gives
ffmpeg the file's path (it seeks natively). Any other source (SMB) is
served to ffmpeg over HTTP on the app's own loopback port at ``/internal/source/{token}``,
with byte ranges read through the Source, so ffmpeg's input seeks become SMB range reads and
nothing is copied to disk. A token is random, names one file, is accepted only from a
loopback address and is revoked when the ffmpeg run ends.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from archive_analyzer.errors import SourceError
from archive_analyzer.sources.base import Source

INTERNAL_PREFIX = "/internal/source/"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass(frozen=True, slots=True)
class Grant:
    """What a token lets ffmpeg read."""

    source: Source
    path: str


class SourceTokens:
    """Tokens for the loopback endpoint (in memory, thread-safe), with bytes served per token."""

    def __init__(self) -> None:
        self._grants: dict[str, Grant] = {}
        self._served: dict[str, int] = {}
        self._lock = threading.Lock()

    def grant(self, source: Source, path: str) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[token] = Grant(source, path)
            self._served[token] = 0
        return token

    def lookup(self, token: str) -> Grant | None:
        with self._lock:
            return self._grants.get(token)

    def count(self, token: str, size: int) -> None:
        with self._lock:
            if token in self._served:
                self._served[token] += size

    def revoke(self, token: str) -> int:
        """Forget ``token``; returns the bytes served under it."""
        with self._lock:
            self._grants.pop(token, None)
            return self._served.pop(token, 0)


@contextlib.contextmanager
def ffmpeg_input(
    tokens: SourceTokens, source: Source, path: str, server: tuple[str, int] | None
) -> Iterator[str]:
    """What to pass to ``ffmpeg -i`` for ``path`` during the block.

    ``server`` is the (host, port) this app listens on (the request's ``scope["server"]``);
    it is needed only for non-local sources.
    """
    disk = source.local_path(path)
    if disk is not None:
        yield f"file:{disk}"
        return
    if server is None:
        raise SourceError("no loopback address to serve this source to ffmpeg")
    host, port = server
    host = host if host in LOOPBACK else "127.0.0.1"
    token = tokens.grant(source, path)
    try:
        yield f"http://{host}:{port}{INTERNAL_PREFIX}{token}"
    finally:
        tokens.revoke(token)
