"""Typo tolerance: the search index's vocabulary and the words a mistyped word may have meant.

The vocabulary is every word of the contents' titles, series titles and player names (Latin
and Hangul alike), with how many documents hold it: the ``search_terms`` table, an ``fts5vocab``
view of the ``search_words`` index that the index's owner keeps (migration 0072,
``catalog/search_index.py``), so it is always exact and costs nothing to maintain. Reading it
whole costs tens of milliseconds at 100,000 contents, so :class:`Vocabulary` keeps a copy per
process: every ``ttl_s`` it checks whether the index changed (its highest document rowid moved)
and reads it again if so, and at the latest after ``max_age_s`` in any case (a re-rendered last
document can get its old rowid back). A word added to the catalog is forgiven its typos within
that time; it is found as typed at once.

A word of ``MIN_LENGTH`` (5) or more characters may be one edit away from a vocabulary word, a
word of ``TWO_EDITS_FROM`` (9) or more two edits (an insertion, deletion, substitution or a
swap of two neighbouring letters each: the optimal string alignment distance, computed by
rapidfuzz over the words of a similar length only). Hangul
is compared syllable by syllable (``네그레아노`` is one edit from ``네그레아누``); 초성 queries
are never corrected.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import OSA

MIN_LENGTH = 5
TWO_EDITS_FROM = 9
# words looser than the automatic correction, offered as "did you mean" only
SUGGEST_MIN_LENGTH = 3
MAX_CANDIDATES = 5


def allowed_edits(word: str, *, loose: bool = False) -> int:
    """How many edits a word of this length may be from what was meant (0: taken as typed)."""
    n = len(word)
    if n >= TWO_EDITS_FROM:
        return 2
    if n >= MIN_LENGTH:
        return 1
    if loose and n >= SUGGEST_MIN_LENGTH:
        return 1
    return 0


@dataclass(frozen=True)
class Terms:
    """A vocabulary: words by length, and how many documents hold each."""

    by_length: dict[int, list[str]] = field(default_factory=dict)
    docs: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Sequence[tuple[str, int]]) -> Terms:
        by_length: dict[int, list[str]] = {}
        docs: dict[str, int] = {}
        for term, count in rows:
            if not term or term.isdigit():
                continue
            by_length.setdefault(len(term), []).append(term)
            docs[term] = int(count)
        return cls(by_length, docs)

    def __len__(self) -> int:
        return len(self.docs)

    def near(self, word: str, edits: int) -> list[str]:
        """Vocabulary words within ``edits`` of ``word``, closest first, then the most used
        (pure). ``word`` itself is never among them."""
        if edits <= 0:
            return []
        pool = [
            t
            for n in range(len(word) - edits, len(word) + edits + 1)
            for t in self.by_length.get(n, ())
        ]
        found = process.extract(word, pool, scorer=OSA.distance, score_cutoff=edits, limit=None)
        ranked = sorted(
            (
                (int(score), -self.docs.get(term, 0), term)
                for term, score, _ in found
                if term != word
            )
        )
        return [term for _, _, term in ranked[:MAX_CANDIDATES]]


def load_terms(conn: sqlite3.Connection) -> Terms:
    """The vocabulary as the index holds it now (one read of ``search_terms``)."""
    rows = conn.execute("SELECT term, doc FROM search_terms").fetchall()
    return Terms.of([(str(r[0]), int(r[1])) for r in rows])


def index_version(conn: sqlite3.Connection) -> int:
    """Moves when documents are added or re-rendered (their highest rowid)."""
    row = conn.execute("SELECT max(rowid) FROM search_docs").fetchone()
    return int(row[0] or 0)


class Vocabulary:
    """The vocabulary of one catalog, cached for ``ttl_s`` and while the index is unchanged.
    Safe to share between request threads."""

    def __init__(
        self,
        *,
        ttl_s: float = 10.0,
        max_age_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        loader: Callable[[sqlite3.Connection], Terms] = load_terms,
    ) -> None:
        self._ttl_s = ttl_s
        self._max_age_s = max_age_s
        self._loaded = float("-inf")
        self._clock = clock
        self._loader = loader
        self._lock = threading.Lock()
        self._terms: Terms | None = None
        self._version = -1
        self._checked = float("-inf")

    def terms(self, conn: sqlite3.Connection) -> Terms:
        with self._lock:
            now = self._clock()
            if self._terms is not None and now - self._checked < self._ttl_s:
                return self._terms
            version = index_version(conn)
            stale = now - self._loaded >= self._max_age_s
            if self._terms is None or version != self._version or stale:
                self._terms = self._loader(conn)
                self._version = version
                self._loaded = now
            self._checked = now
            return self._terms
