"""Files stored twice: identical bytes, or the same programme in another encoding.

Three kinds of evidence, weakest to strongest (docs/fixity.md):

- *candidates*: the same size and the same sampled hash (first, middle and last MiB), known
  minutes after a copy lands, long before its full hash: reported as ``identical`` with
  ``"confirmed": false``;
- *identical*: the same whole-file xxh128 (``"confirmed": true``);
- *same programme*: media files whose durations agree within ``DURATION_SLACK_S`` and whose
  frames at the same times have close perceptual hashes (``fixity.frames.compare``): a ProRes
  master and its H.264 copy. Reported as ``same_programme`` with the evidence.

``groups`` is pure (values in, groups out); ``load`` reads the values from the catalog.
Nothing here deletes anything: the report says what could be reclaimed, people decide.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from archive_analyzer.fixity.frames import Match, compare
from archive_analyzer.fixity.hasher import same_version_sql

DURATION_SLACK_S = 0.5
IDENTICAL, SAME_PROGRAMME = "identical", "same_programme"


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What the grouping needs of one present file (its current version)."""

    id: str
    path: str
    size: int
    sample: str | None = None
    xxh128: str | None = None
    duration_s: float | None = None
    frames: dict[float, str] = field(default_factory=dict)
    copy_marked: bool = False  # the classifier's name-based duplicate flag (copy folder/suffix)
    content_id: str | None = None


@dataclass(frozen=True, slots=True)
class Group:
    kind: str
    files: tuple[FileFacts, ...]
    confirmed: bool
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def bytes_reclaimable(self) -> int:
        """Identical: every copy but one. Same programme: every file but the largest (the
        master is kept)."""
        sizes = [f.size for f in self.files]
        return sum(sizes) - max(sizes)

    def as_json(self) -> dict[str, Any]:
        """One line of ``archive-analyzer duplicates --json``."""
        record: dict[str, Any] = {
            "kind": self.kind,
            "files": [f.path for f in self.files],
            "bytes_reclaimable": self.bytes_reclaimable,
            "confirmed": self.confirmed,
            "sizes": [f.size for f in self.files],
            "copy_marked": [f.copy_marked for f in self.files],
        }
        record.update(self.evidence)
        return record


def groups(facts: Sequence[FileFacts]) -> list[Group]:
    """Every duplicate group among ``facts``, most reclaimable bytes first."""
    found = identical(facts) + candidates(facts) + same_programme(facts)
    return sorted(found, key=lambda g: (-g.bytes_reclaimable, g.kind, g.files[0].path))


def identical(facts: Sequence[FileFacts]) -> list[Group]:
    by_hash: dict[str, list[FileFacts]] = defaultdict(list)
    for item in facts:
        if item.xxh128 is not None:
            by_hash[item.xxh128].append(item)
    return [
        Group(IDENTICAL, _ordered(members), True, {"xxh128": key, "evidence": "xxh128"})
        for key, members in by_hash.items()
        if len(members) > 1
    ]


def candidates(facts: Sequence[FileFacts]) -> list[Group]:
    """Same size and sample where not every member has its full hash yet."""
    by_sample: dict[tuple[int, str], list[FileFacts]] = defaultdict(list)
    for item in facts:
        if item.sample is not None and item.size > 0:
            by_sample[(item.size, item.sample)].append(item)
    found: list[Group] = []
    for (size, sample), members in by_sample.items():
        if len(members) < 2 or all(m.xxh128 is not None for m in members):
            continue  # all hashed: the identical groups say it with certainty
        hashed = {m.xxh128 for m in members if m.xxh128 is not None}
        if len(hashed) > 1:
            continue  # hashed members already differ: the sample collided, nothing to say
        found.append(
            Group(
                IDENTICAL,
                _ordered(members),
                False,
                {"evidence": "size+sample", "sample": sample, "size": size},
            )
        )
    return found


def same_programme(facts: Sequence[FileFacts]) -> list[Group]:
    """Media of (nearly) equal duration whose frames match, not already byte-identical."""
    # One node per distinct content: identical copies collapse into their first member.
    nodes: dict[str, list[FileFacts]] = {}
    for item in facts:
        if item.duration_s is None or not item.frames:
            continue
        key = item.xxh128 or item.id
        nodes.setdefault(key, []).append(item)
    ordered = sorted(nodes.items(), key=lambda kv: kv[1][0].duration_s or 0.0)
    parent = {key: key for key, _ in ordered}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    pairs: list[tuple[str, str, Match]] = []
    for i, (key_a, members_a) in enumerate(ordered):
        a = members_a[0]
        for key_b, members_b in ordered[i + 1 :]:
            b = members_b[0]
            if (b.duration_s or 0.0) - (a.duration_s or 0.0) > DURATION_SLACK_S:
                break
            match = compare(a.frames, b.frames)
            if match.same:
                pairs.append((key_a, key_b, match))
                parent[root(key_b)] = root(key_a)
    clusters: dict[str, list[str]] = defaultdict(list)
    for key, _ in ordered:
        clusters[root(key)].append(key)
    found: list[Group] = []
    for keys in clusters.values():
        if len(keys) < 2:
            continue
        members = [m for key in keys for m in nodes[key]]
        inside = set(keys)
        evidence = {
            "evidence": "duration+frames",
            "durations": [m.duration_s for m in _ordered(members)],
            "frames": [
                {
                    "files": [nodes[a][0].path, nodes[b][0].path],
                    "compared": match.compared,
                    "matched": match.matched,
                    "distances": list(match.distances),
                }
                for a, b, match in pairs
                if a in inside and b in inside
            ],
        }
        found.append(Group(SAME_PROGRAMME, _ordered(members), True, evidence))
    return found


def _ordered(members: Iterable[FileFacts]) -> tuple[FileFacts, ...]:
    """Originals (not in a copy folder) first, then by path."""
    return tuple(sorted(members, key=lambda m: (m.copy_marked, m.path)))


def load(conn: sqlite3.Connection, source: str | None = None) -> list[FileFacts]:
    """The grouping facts of every active file (of ``source``, or all): hashes of its current
    version only, frames of its current version, the classifier's copy flag."""
    where = "f.status = 'active'" + (" AND f.source = ?" if source is not None else "")
    params: tuple[Any, ...] = (source,) if source is not None else ()
    rows = conn.execute(
        "SELECT f.id, f.path, f.size, "
        f"CASE WHEN {same_version_sql('h')} THEN h.sample END AS sample, "
        f"CASE WHEN {same_version_sql('h')} THEN h.xxh128 END AS xxh, "
        "m.duration_s, "
        f"CASE WHEN {same_version_sql('g')} THEN g.frames END AS frames, "
        "c.id AS content_id, coalesce(c.duplicate, 0) AS copy_marked "
        "FROM files f LEFT JOIN file_hashes h ON h.file = f.id "
        "LEFT JOIN media_info m ON m.id = f.id LEFT JOIN frame_hashes g ON g.file = f.id "
        "LEFT JOIN contents c ON c.file_id = f.id AND c.parent_id IS NULL "
        f"WHERE {where} ORDER BY f.path",
        params,
    )
    found: list[FileFacts] = []
    for row in rows:
        frames = (
            {float(k): v for k, v in json.loads(row["frames"]).items()} if row["frames"] else {}
        )
        found.append(
            FileFacts(
                id=row["id"],
                path=row["path"],
                size=int(row["size"]),
                sample=row["sample"],
                xxh128=row["xxh"],
                duration_s=row["duration_s"],
                frames=frames,
                copy_marked=bool(row["copy_marked"]),
                content_id=row["content_id"],
            )
        )
    return found


def report(conn: sqlite3.Connection, source: str | None = None) -> list[Group]:
    """The duplicate groups of the catalog, most reclaimable bytes first."""
    return groups(load(conn, source))
