"""Versions: contents of one programme joined, the played file chosen, copies checked.

``reconcile`` turns the duplicate groups (``catalog.duplicates``) into ``content_versions``
rows: in each group of identical files or of the same programme, one content is the primary
(outside any copy folder first, then the oldest) and the others become its versions, hidden
from listings. Pairs an editor split (``split``) are never joined again. What a content plays
and whether it is listed stay the read model's rules (``content_view``, which migration 0061
taught versions: a present file, one the browser plays directly, the content's own, the
largest; a joined version is not visible).

``copy_checks`` reconciles the classifier's name-based ``duplicate`` flag (``복사본``,
``copy``) with the hashes: a file in a copy folder is an identical copy, the same programme,
a *differing* copy, or not verified yet.

Only the writer calls the write functions, inside its transactions.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from archive_analyzer.catalog import db, search_index
from archive_analyzer.catalog.classify import Rules, classify
from archive_analyzer.catalog.duplicates import IDENTICAL, SAME_PROGRAMME, Group
from archive_analyzer.catalog.pathfacts import normalise
from archive_analyzer.errors import NotFound
from archive_analyzer.fixity.hasher import same_version_sql

_HASHED = same_version_sql("h")  # a hash counts only for the version it was taken of


def played_file(conn: sqlite3.Connection, content_id: str) -> str | None:
    """The id of the file ``content_id`` plays (the read model's ``play_file_id``), or None."""
    row = conn.execute(
        "SELECT play_file_id FROM content_view WHERE id = ?", (content_id,)
    ).fetchone()
    return None if row is None else row[0]


def primary_of(conn: sqlite3.Connection, content_id: str) -> str | None:
    """The content ``content_id`` is a version of (None when it stands alone)."""
    row = conn.execute(
        "SELECT primary_id FROM content_versions WHERE content_id = ?", (content_id,)
    ).fetchone()
    return None if row is None else row[0]


@dataclass(frozen=True, slots=True)
class Version:
    """One file of a content's versions, as its page lists it."""

    content_id: str  # the content that brought the file (the primary's own for member 0)
    file_id: str
    path: str
    name: str
    ext: str
    size: int
    status: str
    container: str | None
    video_codec: str | None
    width: int | None
    height: int | None
    duration_s: float | None
    browser_playable: bool
    xxh128: str | None
    fixity: str | None  # 'ok', 'mismatch', 'sampled' or None (not hashed)
    member: bool  # a joined version (not the content's own file)
    kind: str | None  # 'identical' / 'same_programme' for members
    played: bool
    copy_marked: bool


def versions_of(conn: sqlite3.Connection, content_id: str) -> list[Version]:
    """The files of a content's versions (its own first); a single entry when it has none."""
    played = played_file(conn, content_id)
    rows = conn.execute(
        "SELECT vf.version_id, vf.file_id, vf.member, f.path, f.name, f.ext, f.size, f.status, "
        "m.container, m.video_codec, m.width, m.height, m.duration_s, "
        "coalesce(m.browser_playable, 0) AS playable, "
        f"CASE WHEN {_HASHED} THEN h.xxh128 END AS xxh, "
        f"CASE WHEN {_HASHED} THEN h.status END AS fx, "
        "v.kind, coalesce(c.duplicate, 0) AS copy_marked "
        "FROM version_files vf JOIN files f ON f.id = vf.file_id "
        "JOIN contents c ON c.id = vf.version_id "
        "LEFT JOIN media_info m ON m.id = f.id LEFT JOIN file_hashes h ON h.file = f.id "
        "LEFT JOIN content_versions v ON v.content_id = vf.version_id AND vf.member = 1 "
        "WHERE vf.content_id = ? AND f.status != 'deleted' ORDER BY vf.member, f.path",
        (content_id,),
    )
    return [
        Version(
            content_id=r["version_id"],
            file_id=r["file_id"],
            path=r["path"],
            name=r["name"],
            ext=r["ext"],
            size=int(r["size"]),
            status=r["status"],
            container=r["container"],
            video_codec=r["video_codec"],
            width=r["width"],
            height=r["height"],
            duration_s=r["duration_s"],
            browser_playable=bool(r["playable"]),
            xxh128=r["xxh"],
            fixity=r["fx"],
            member=bool(r["member"]),
            kind=r["kind"],
            played=r["file_id"] == played,
            copy_marked=bool(r["copy_marked"]),
        )
        for r in rows
    ]


# --- joining ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Join:
    content_id: str
    primary_id: str
    kind: str
    evidence: dict[str, Any]


def plan_joins(
    groups: Iterable[Group],
    contents: dict[str, tuple[bool, str, str]],
    splits: set[tuple[str, str]],
    current_primary: dict[str, str],
) -> dict[str, Join]:
    """Which content joins which (pure). ``contents`` maps active top-level content ids to
    (copy marked, created_at, file path); ``splits`` holds split pairs (both orders);
    ``current_primary`` keeps an existing primary in place. Returns joins keyed by the joined
    content."""
    parent: dict[str, str] = {}
    kind_of: dict[str, str] = {}
    evidence_of: dict[str, dict[str, Any]] = defaultdict(dict)

    def root(key: str) -> str:
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for group in groups:
        if group.kind == IDENTICAL and not group.confirmed:
            continue  # a sampled candidate is not proof
        ids = list(dict.fromkeys(f.content_id for f in group.files if f.content_id in contents))
        ids = [cid for cid in ids if cid is not None]
        if len(ids) < 2:
            continue
        first = root(ids[0])
        for other in ids[1:]:
            parent[root(other)] = first
        for cid in ids:
            if group.kind == SAME_PROGRAMME or cid not in kind_of:
                kind_of[cid] = group.kind
            evidence_of[cid] = {"kind": group.kind, **group.evidence}
    clusters: dict[str, list[str]] = defaultdict(list)
    for cid in list(parent):
        clusters[root(cid)].append(cid)
    joins: dict[str, Join] = {}
    for members in clusters.values():
        split_off = {a for a in members for b in members if (a, b) in splits}
        members = [m for m in members if m not in split_off]
        if len(members) < 2:
            continue
        kept = [current_primary[m] for m in members if current_primary.get(m) in members]
        primary = kept[0] if kept else min(members, key=lambda cid: (*contents[cid], cid))
        for cid in members:
            if cid != primary:
                joins[cid] = Join(cid, primary, kind_of.get(cid, IDENTICAL), evidence_of[cid])
    return joins


def reconcile(conn: sqlite3.Connection, groups: Sequence[Group], now: datetime) -> int:
    """Make ``content_versions`` match ``groups``; returns the number of rows changed (the
    sync triggers publish both contents of each change)."""
    contents = {
        r[0]: (bool(r[1]), r[2], r[3])
        for r in conn.execute(
            "SELECT c.id, c.duplicate, c.created_at, f.path FROM contents c "
            "JOIN files f ON f.id = c.file_id "
            "WHERE c.parent_id IS NULL AND c.status = 'active'"
        )
    }
    splits = {(r[0], r[1]) for r in conn.execute("SELECT content_id, other_id FROM version_splits")}
    existing = {
        r[0]: (r[1], r[2], r[3])
        for r in conn.execute("SELECT content_id, primary_id, kind, evidence FROM content_versions")
    }
    primaries = {cid: primary for cid, (primary, _, _) in existing.items()}
    primaries.update({primary: primary for primary in primaries.values()})
    wanted = plan_joins(groups, contents, splits, primaries)
    stamp = db.timestamp(now)
    changed = 0
    for cid in set(existing) - set(wanted):
        conn.execute("DELETE FROM content_versions WHERE content_id = ?", (cid,))
        changed += 1
    for cid, join in wanted.items():
        evidence = json.dumps(join.evidence, ensure_ascii=False, sort_keys=True)
        if existing.get(cid) == (join.primary_id, join.kind, evidence):
            continue
        conn.execute(
            "INSERT INTO content_versions (content_id, primary_id, kind, evidence, joined_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (content_id) DO UPDATE SET "
            "primary_id = excluded.primary_id, kind = excluded.kind, "
            "evidence = excluded.evidence, updated_at = excluded.updated_at",
            (cid, join.primary_id, join.kind, evidence, stamp, stamp),
        )
        changed += 1
    if changed:
        search_index.catch_up(conn)  # joined versions leave the index, in this transaction
    return changed


def split(conn: sqlite3.Connection, content_id: str, *, user: str, now: datetime) -> str:
    """Split the joined version ``content_id`` off its primary for good; returns the primary.
    ``NotFound`` when it is not a joined version."""
    primary = primary_of(conn, content_id)
    if primary is None:
        raise NotFound(f"content {content_id} is not a joined version")
    stamp = db.timestamp(now)
    conn.executemany(
        "INSERT OR IGNORE INTO version_splits (content_id, other_id, split_by, split_at) "
        "VALUES (?, ?, ?, ?)",
        [(content_id, primary, user, stamp), (primary, content_id, user, stamp)],
    )
    conn.execute("DELETE FROM content_versions WHERE content_id = ?", (content_id,))
    search_index.catch_up(conn)
    return primary


# --- copies (the classifier's duplicate flag) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class CopyCheck:
    """A content in a copy folder and what its bytes say about it."""

    content_id: str
    path: str
    original_id: str | None
    original_path: str | None
    state: str  # 'identical', 'same_programme', 'differs', 'unverified', 'no_original'


def copy_checks(
    conn: sqlite3.Connection, rules: Rules, content_id: str | None = None
) -> list[CopyCheck]:
    """Every active copy-marked content (or just ``content_id``) checked against its original:
    the content of the same series and title (as classified, copy markers stripped) outside
    any copy folder."""
    where = "AND c.id = ?" if content_id is not None else ""
    params: tuple[Any, ...] = (content_id,) if content_id is not None else ()
    copies = conn.execute(
        "SELECT c.id, c.series_id, f.path, f.id AS file FROM contents c "
        "JOIN files f ON f.id = c.file_id WHERE c.duplicate = 1 AND c.status = 'active' "
        f"AND c.parent_id IS NULL {where} ORDER BY f.path",
        params,
    ).fetchall()
    found: list[CopyCheck] = []
    for row in copies:
        mine = classify(row["path"], rules)
        key = (normalise(mine.title), tuple(mine.versions))
        candidates = conn.execute(
            "SELECT c.id, f.path, f.id AS file FROM contents c JOIN files f ON f.id = c.file_id "
            "WHERE c.series_id IS ? AND c.duplicate = 0 AND c.status = 'active' "
            "AND c.parent_id IS NULL ORDER BY f.path",
            (row["series_id"],),
        ).fetchall()
        original = next(
            (
                c
                for c in candidates
                if (normalise(classify(c["path"], rules).title),
                    tuple(classify(c["path"], rules).versions)) == key
            ),
            None,
        )  # fmt: skip
        if original is None:
            found.append(CopyCheck(row["id"], row["path"], None, None, "no_original"))
            continue
        state = _compare(conn, row["file"], original["file"], row["id"], original["id"])
        found.append(CopyCheck(row["id"], row["path"], original["id"], original["path"], state))
    return found


def _compare(conn: sqlite3.Connection, a: str, b: str, content_a: str, content_b: str) -> str:
    hashes = dict(
        conn.execute(
            "SELECT h.file, h.xxh128 FROM file_hashes h JOIN files f ON f.id = h.file "
            f"WHERE h.file IN (?, ?) AND {_HASHED}",
            (a, b),
        ).fetchall()
    )
    if hashes.get(a) and hashes.get(a) == hashes.get(b):
        return "identical"
    joined = conn.execute(
        "SELECT kind FROM content_versions WHERE (content_id = ? AND primary_id = ?) "
        "OR (content_id = ? AND primary_id = ?) OR (content_id = ? AND primary_id IN "
        "(SELECT primary_id FROM content_versions WHERE content_id = ?))",
        (content_a, content_b, content_b, content_a, content_a, content_b),
    ).fetchone()
    if joined is not None and joined[0] == SAME_PROGRAMME:
        return "same_programme"
    if hashes.get(a) and hashes.get(b):
        return "differs"
    return "unverified"
