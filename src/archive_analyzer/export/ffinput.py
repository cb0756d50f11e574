"""How ffmpeg and libavformat reach a catalogued file outside the web app (CLI, export jobs).

A local folder's file is passed by path. Any other source (SMB) is served for the duration of
the block by a one-file HTTP server on 127.0.0.1 (a random port and a random path), answering
byte ranges through the Source's file object, so ffmpeg's seeks become range reads on the NAS
and nothing is copied to disk. The web app's ``/internal/source`` endpoint does the same for
HLS inside the app; this one needs no app.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from archive_analyzer.errors import SourceError
from archive_analyzer.sources.base import Source

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@contextlib.contextmanager
def ffmpeg_input(source: Source, path: str) -> Iterator[str]:
    """What to give ``ffmpeg -i`` (or ``av.open``) for ``path`` of ``source`` in the block."""
    disk = source.local_path(path)
    if disk is not None:
        yield f"file:{disk}"
        return
    size = source.stat(path).size
    token = secrets.token_urlsafe(18)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(source, path, size, token))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="ffmpeg-input", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}/{token}"
    finally:
        server.shutdown()
        server.server_close()


def _handler(source: Source, path: str, size: int, token: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            log.debug("ffmpeg input: " + format, *args)

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, *, body: bool) -> None:
            if self.path != f"/{token}":
                self.send_error(404)
                return
            first, last = 0, size - 1
            status = 200
            wanted = self.headers.get("Range")
            match = _RANGE.match(wanted.strip()) if wanted else None
            if match and (match.group(1) or match.group(2)):
                if match.group(1):
                    first = int(match.group(1))
                    last = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
                else:
                    first = max(0, size - int(match.group(2)))
                if first >= size or first > last:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 206
            length = last - first + 1 if size else 0
            self.send_response(status)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(length))
            if status == 206:
                self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
            self.end_headers()
            if body and length:
                self._send(first, length)

        def _send(self, first: int, length: int) -> None:
            try:
                with source.open(path) as handle:
                    handle.seek(first)
                    remaining = length
                    while remaining > 0:
                        data = handle.read(min(CHUNK, remaining))
                        if not data:
                            break
                        self.wfile.write(data)
                        remaining -= len(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # ffmpeg seeks by dropping the connection
            except (SourceError, OSError) as exc:
                log.warning("ffmpeg input %s: %s", path, exc)

    return Handler
