"""Counts media responses in flight (``/stream`` and ``/hls`` segments) for the metrics.

A pure ASGI middleware: a request counts from its start until its last body chunk is sent or
it fails, so long range streams are counted for as long as they stream. ``on_start`` hooks
run when one starts (cheap and non-blocking: the hash workers' viewer beacon is woken).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

KINDS = {"/stream/": "direct", "/hls/": "hls"}


class StreamCounter:
    """``counts[kind]`` is the number of media responses of that kind in flight."""

    def __init__(
        self,
        app: ASGIApp,
        counts: dict[str, int],
        on_start: Sequence[Callable[[], None]] = (),
    ) -> None:
        self.app = app
        self.counts = counts
        self.on_start = on_start
        for kind in KINDS.values():
            counts.setdefault(kind, 0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = None
        if scope["type"] == "http":
            path: str = scope["path"]
            kind = next((k for prefix, k in KINDS.items() if path.startswith(prefix)), None)
            if kind == "hls" and path.endswith(".m3u8"):
                kind = None
        if kind is None:
            await self.app(scope, receive, send)
            return
        self.counts[kind] += 1
        for hook in self.on_start:
            hook()
        done = False

        async def counted_send(message: Message) -> None:
            nonlocal done
            await send(message)
            last = message["type"] == "http.response.body" and not message.get("more_body")
            if last and not done:
                done = True
                self.counts[kind] -= 1

        try:
            await self.app(scope, receive, counted_send)
        finally:
            if not done:
                done = True
                self.counts[kind] -= 1
