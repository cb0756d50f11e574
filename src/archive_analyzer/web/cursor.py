"""Opaque page cursors for the JSON API (``cursor`` in, ``next_cursor`` out).

A cursor is URL-safe base64 of a small JSON object: which listing it continues, a digest of
that listing's filters (a cursor used with other filters is refused, never misread) and the
position to continue from (the sort key of the last item for a listing, the offset into the
ranked results for a search). Clients treat it as an opaque string; it carries nothing secret
and the server keeps no state for it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from typing import Any

_VERSION = 1
_MAX_CHARS = 1000
Scalar = str | int | float | None


class BadCursor(ValueError):
    """A cursor that this server did not issue for this listing and these filters."""


def _scope(kind: str, filters: Sequence[Any]) -> str:
    text = json.dumps([kind, *filters], separators=(",", ":"), ensure_ascii=False)
    return hashlib.blake2s(text.encode(), digest_size=6).hexdigest()


def encode(kind: str, filters: Sequence[Any], position: Sequence[Scalar]) -> str:
    """The cursor continuing listing ``kind`` under ``filters`` after ``position``."""
    payload = {"v": _VERSION, "k": kind, "s": _scope(kind, filters), "p": list(position)}
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, kind: str, filters: Sequence[Any]) -> tuple[Scalar, ...]:
    """The position a cursor continues from; ``BadCursor`` when it is malformed or was
    issued for another listing or other filters."""
    if not token or len(token) > _MAX_CHARS:
        raise BadCursor("bad cursor")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError):
        raise BadCursor("bad cursor") from None
    if not isinstance(payload, dict) or payload.get("v") != _VERSION:
        raise BadCursor("bad cursor")
    if payload.get("k") != kind or payload.get("s") != _scope(kind, filters):
        raise BadCursor("cursor belongs to another listing or other filters")
    position = payload.get("p")
    if not isinstance(position, list) or not all(
        v is None or (isinstance(v, str | int | float) and not isinstance(v, bool))
        for v in position
    ):
        raise BadCursor("bad cursor")
    return tuple(position)
