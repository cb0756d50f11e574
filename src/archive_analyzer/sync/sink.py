"""Where replicated documents go: the ``Sink`` protocol, document operations, a memory sink.

A sink applies a batch of document operations atomically (all or none) and can list and read
documents back. The Firestore implementation lives in ``sync/firestore.py``; ``MemorySink`` here
serves unit tests and dry runs. Paths are slash-separated document paths relative to the
database root (``catalogs/wsop/series/s1/contents/c1``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

MAX_BATCH_OPS = 500  # Firestore's limit on writes in one commit


@dataclass(frozen=True)
class DocOp:
    """One document write: ``set`` replaces the whole document, ``delete`` removes it.

    ``data`` is the document for a ``set`` (plain JSON-like values) and empty for a delete.
    """

    kind: Literal["set", "delete"]
    path: str
    data: Mapping[str, Any] = field(default_factory=dict)


class Sink(Protocol):
    """A document store that applies batches atomically."""

    def commit(self, ops: Sequence[DocOp]) -> None:
        """Apply ``ops`` (at most ``MAX_BATCH_OPS``) atomically; raise ``SyncError`` if not."""
        ...

    def get(self, path: str) -> dict[str, Any] | None:
        """The document at ``path``, or None when it does not exist."""
        ...

    def list_ids(self, collection: str) -> list[str]:
        """Ids of the documents directly in ``collection`` (e.g. ``catalogs/wsop/series``)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class MemorySink:
    """An in-memory sink: a dict of path -> document. Counts commits and writes."""

    def __init__(self) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.commits = 0
        self.writes = 0

    def commit(self, ops: Sequence[DocOp]) -> None:
        from archive_analyzer.errors import SyncError

        if len(ops) > MAX_BATCH_OPS:
            raise SyncError(f"batch of {len(ops)} operations exceeds {MAX_BATCH_OPS}")
        # Copy the values first: once validated, applying in place cannot fail half way.
        staged = [(op, copy.deepcopy(dict(op.data)) if op.kind == "set" else None) for op in ops]
        for op, data in staged:
            if data is not None:
                self.documents[op.path] = data
            else:
                self.documents.pop(op.path, None)
        self.commits += 1
        self.writes += len(ops)

    def get(self, path: str) -> dict[str, Any] | None:
        found = self.documents.get(path)
        return copy.deepcopy(found) if found is not None else None

    def list_ids(self, collection: str) -> list[str]:
        prefix = collection.rstrip("/") + "/"
        depth = prefix.count("/")
        return sorted(
            p[len(prefix) :]
            for p in self.documents
            if p.startswith(prefix) and p.count("/") == depth
        )

    def close(self) -> None:
        return None
