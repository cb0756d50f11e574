"""How ffmpeg and libavformat reach a file of a Source: a local path, or a one-file loopback URL.

A source that has the file on this machine (``Source.local_path``: a local folder) gives its
path (ffmpeg seeks natively). Any other source (SMB) is served for the duration of the block by
a one-file HTTP server on 127.0.0.1 (a free port, a random path), answering byte ranges through
the source's ``FileReader`` (``open_reader``: pipelined read-ahead over SMB), so ffmpeg's seeks
become range reads on the NAS, nothing is copied to disk and no password is on a command
line. The one way for every ffmpeg run: the web app's HLS segments, poster frames and
subtitles, and clip export (CLI and jobs).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
from collections.abc import Callable, Generator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from archive_analyzer.byteranges import Unsatisfiable, parse_range
from archive_analyzer.errors import ArchiveError, SourceError
from archive_analyzer.sources.base import FileInfo, FileReader, Source

log = logging.getLogger(__name__)

# Reads ahead per request at most (as the web app's /stream): ffmpeg's socket buffer absorbs
# bursts, and a seek drops the connection, so more would only be read and thrown away.
WINDOW = 4


@contextlib.contextmanager
def ffmpeg_input(source: Source, path: str, *, expect: FileInfo | None = None) -> Iterator[str]:
    """What to give ``ffmpeg -i`` (or ``av.open``) for ``path`` of ``source`` in the block.

    ``expect`` is the version meant (``Source.open_reader``): a changed file is not served.
    """
    disk = source.local_path(path)
    if disk is not None:
        yield f"file:{disk}"
        return
    route = f"/{secrets.token_urlsafe(24)}"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(source, path, expect, route))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="ffmpeg-input", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}{route}"
    finally:
        # shutdown() waits for the serving loop's next poll (up to 0.5 s); the web app leaves
        # this block on its event loop, so the server is stopped without waiting for that.
        stop = threading.Thread(target=_stop, args=(server,), name="ffmpeg-input-stop", daemon=True)
        stop.start()


def _stop(server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()


def _handler(
    source: Source, path: str, expect: FileInfo | None, route: str
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            log.debug("ffmpeg input: " + format, *args)

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, *, body: bool) -> None:
            if self.path != route:
                self.send_error(404)
                return
            try:
                reader = source.open_reader(path, expect=expect)
            except SourceError as exc:
                log.warning("ffmpeg input %s: %s", path, exc)
                self.send_error(404)
                return
            try:
                self._respond(reader, body=body)
            finally:
                _quietly(reader.close)

        def _respond(self, reader: FileReader, *, body: bool) -> None:
            try:
                total = reader.info.size
            except SourceError as exc:
                log.warning("ffmpeg input %s: %s", path, exc)
                self.send_error(404)
                return
            try:
                span = parse_range(self.headers.get("Range"), total)
            except Unsatisfiable:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{total}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            first, length = (span.first, span.length) if span is not None else (0, total)
            self.send_response(200 if span is None else 206)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(length))
            if span is not None:
                self.send_header("Content-Range", span.content_range)
            self.end_headers()
            if body and length:
                self._send(reader, first, length)

        def _send(self, reader: FileReader, first: int, length: int) -> None:
            chunks = reader.chunks(first, length, window=WINDOW)
            remaining = length
            try:
                for chunk in chunks:
                    self.wfile.write(chunk)
                    remaining -= len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # ffmpeg seeks by dropping the connection
                return
            except (ArchiveError, OSError) as exc:  # a short body: ffmpeg must not wait for more
                self.close_connection = True
                log.warning("ffmpeg input %s stopped: %s", path, exc)
                return
            finally:
                if isinstance(chunks, Generator):
                    _quietly(chunks.close)
            if remaining > 0:
                self.close_connection = True
                log.warning("ffmpeg input of %s ended %d bytes short", path, remaining)

    return Handler


def _quietly(close: Callable[[], object]) -> None:
    """Close something after the response: nothing is left to tell ffmpeg if that fails."""
    try:
        close()
    except (ArchiveError, OSError) as exc:
        log.debug("ffmpeg input: closing failed: %s", exc)
