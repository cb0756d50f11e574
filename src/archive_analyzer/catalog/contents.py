"""Catalog model rows: catalogs, series, episode contents and their path-derived player links.

``refresh`` is the hook the scanner and the watcher call inside their batch transaction: it
classifies the given files' paths and creates or updates the catalog, series and episode rows.
It never opens or commits a transaction itself. Manual edits are protected: a column named in a
row's ``locked_fields`` is never written by classification, and only links with origin 'path'
are replaced by it. An episode is keyed by its file (``files.id``), so a moved or reclassified
file keeps its content id, clips and links; only its series may change.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from archive_analyzer.catalog import db, fields, search_index
from archive_analyzer.catalog.classify import (
    Classification,
    Rules,
    classify,
    default_rules,
    series_id,
    unique_titles,
)
from archive_analyzer.catalog.db import Clock
from archive_analyzer.catalog.pathfacts import normalise
from archive_analyzer.errors import CatalogError, NotFound

UNSORTED_CATALOG = "unsorted"
_RECLASSIFY_BATCH = 500
_CHUNK = 400


def player_key(name: str) -> str:
    """The matching key of a player name: NFC, case-folded, spaces collapsed."""
    return normalise(name)


def refresh(
    conn: sqlite3.Connection,
    file_ids: Sequence[str],
    *,
    now: Clock,
    rules: Rules | None = None,
) -> None:
    """Create or update the catalog, series and episode rows of ``file_ids``.

    In: an open connection inside the caller's transaction, ids of rows in ``files``. Media
    files that are not deleted get one top-level content (an episode, or a clip for clip files)
    in the series their path classifies into; non-media or deleted files get none (an existing
    content is soft-deleted, its clips kept). Titles of every touched series are made unique.
    Out: nothing; ``updated_at`` is set on every row that changed, and the search index is
    brought up to date. Unknown ids are ignored.
    """
    rules = rules or default_rules()
    stamp = db.timestamp(now())
    touched: set[str] = set()
    cache: dict[str, Classification] = {}
    ids = list(dict.fromkeys(file_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT id, path, status, is_media FROM files WHERE id IN ({marks})", chunk
        ).fetchall()
        for row in rows:
            _refresh_file(conn, row, rules, stamp, touched, cache)
    for sid in sorted(touched):
        _retitle_series(conn, sid, rules, stamp, cache)
    search_index.catch_up(conn)


def _refresh_file(
    conn: sqlite3.Connection,
    row: sqlite3.Row,
    rules: Rules,
    stamp: str,
    touched: set[str],
    cache: dict[str, Classification],
) -> None:
    existing = conn.execute(
        "SELECT * FROM contents WHERE file_id = ? AND parent_id IS NULL", (row["id"],)
    ).fetchone()
    if not row["is_media"] or row["status"] == "deleted":
        if existing is not None and existing["status"] == "active":
            update_row(conn, "contents", existing, {"status": "deleted"}, stamp)
            if existing["series_id"]:
                touched.add(existing["series_id"])
        return
    facts = cache.get(row["path"]) or classify(row["path"], rules)
    cache[row["path"]] = facts
    catalog_id = ensure_catalog(conn, facts, rules, stamp)
    sid = ensure_series(conn, catalog_id, facts, stamp)
    values = _classified(facts, sid, catalog_id, rules)
    if existing is None:
        content_id = db.new_id()
        cols = ["id", "file_id", "status", *values.keys(), "created_at", "updated_at"]
        params = [content_id, row["id"], "active", *values.values(), stamp, stamp]
        conn.execute(
            f"INSERT INTO contents ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            params,
        )
        touched.add(sid)
    else:
        content_id = existing["id"]
        # The title is the series' business: _retitle_series makes it unique afterwards.
        del values["title"]
        if existing["status"] == "deleted":
            values["status"] = "active"
        old_series = existing["series_id"]
        if old_series:
            touched.add(old_series)
        update_row(conn, "contents", existing, values, stamp)
        new_series = conn.execute(
            "SELECT series_id, catalog_id FROM contents WHERE id = ?", (content_id,)
        ).fetchone()
        if new_series["series_id"]:
            touched.add(new_series["series_id"])
        if new_series["series_id"] != old_series:
            # Clips of this episode follow it into its new series. (Readers take a clip's
            # series and brand from its parent anyway, content_view; these columns are kept
            # as copies, and a brand set on the clip by hand stays.)
            conn.execute(
                "UPDATE contents SET series_id = ?, updated_at = ?, catalog_id = CASE "
                "WHEN instr(locked_fields, '\"catalog_id\"') THEN catalog_id ELSE ? END "
                "WHERE parent_id = ?",
                (new_series["series_id"], stamp, new_series["catalog_id"], content_id),
            )
    _link_path_players(conn, content_id, facts.players, stamp)


def _classified(facts: Classification, sid: str, catalog_id: str, rules: Rules) -> dict[str, Any]:
    """The values of ``fields.CLASSIFIED`` for a content classified as ``facts``."""
    values: dict[str, Any] = {
        "kind": facts.kind or "episode",
        "series_id": sid,
        "catalog_id": catalog_id,
        "title": facts.title,
        "sort_key": facts.sort_key,
        "year": facts.year,
        "season": facts.season,
        "episode": facts.episode,
        "day": facts.day,
        "part": facts.part,
        "event_number": facts.event_number,
        "event_name": facts.event_name,
        "buy_in": facts.buy_in,
        "stream_date": facts.stream_date,
        "versions": json.dumps(list(facts.versions)),
        "duplicate": int(facts.duplicate),
        "rules_version": rules.version,
    }
    return {name: values[name] for name in fields.CLASSIFIED}


def ensure_catalog(
    conn: sqlite3.Connection, facts: Classification, rules: Rules, stamp: str
) -> str:
    """The id of the catalog row for ``facts`` (created or updated as needed)."""
    catalog_id = facts.catalog or UNSORTED_CATALOG
    order = rules.catalog_order(catalog_id)
    existing = conn.execute("SELECT * FROM catalogs WHERE id = ?", (catalog_id,)).fetchone()
    if existing is None:
        conn.execute(
            "INSERT INTO catalogs (id, title, sort_order, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (catalog_id, facts.catalog_title, order, stamp, stamp),
        )
    else:
        values = {"title": facts.catalog_title, "sort_order": order}
        update_row(conn, "catalogs", existing, values, stamp)
    return catalog_id


def ensure_series(
    conn: sqlite3.Connection, catalog_id: str, facts: Classification, stamp: str
) -> str:
    """The id of the series row for ``facts`` (created or updated as needed)."""
    key = f"{catalog_id}/{facts.series_key}"
    sid = facts.series if facts.catalog else series_id(catalog_id, facts.series_key)
    values: dict[str, Any] = {
        "catalog_id": catalog_id,
        "title": facts.series_title,
        "sub_brand": facts.series_sub_brand,
        "location": facts.series_location,
        "year": facts.series_year,
        "season": facts.series_season,
        "sort_key": facts.series_sort_key or key,
    }
    existing = conn.execute("SELECT * FROM series WHERE id = ?", (sid,)).fetchone()
    if existing is None:
        cols = ["id", "key", *values.keys(), "created_at", "updated_at"]
        conn.execute(
            f"INSERT INTO series ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [sid, key, *values.values(), stamp, stamp],
        )
    else:
        # Files of one series may spell its folder differently ('WSOP 2003' / 'wsop 2003': the
        # key is the same). Keep the smallest spelling seen, so the title converges instead of
        # flipping with every file refreshed.
        if values["title"] >= existing["title"]:
            del values["title"]
        update_row(conn, "series", existing, values, stamp)
    return sid


def _retitle_series(
    conn: sqlite3.Connection,
    sid: str,
    rules: Rules,
    stamp: str,
    cache: dict[str, Classification],
) -> None:
    """Make the titles of the top-level contents of series ``sid`` unique (locked ones win)."""
    rows = conn.execute(
        "SELECT c.*, f.path AS file_path FROM contents c JOIN files f ON f.id = c.file_id "
        "WHERE c.series_id = ? AND c.parent_id IS NULL AND c.status != 'deleted'",
        (sid,),
    ).fetchall()
    fixed: dict[str, str] = {}
    free: list[tuple[sqlite3.Row, Classification]] = []
    for row in rows:
        if "title" in locked(row):
            fixed[row["id"]] = row["title"]
            continue
        facts = cache.get(row["file_path"]) or classify(row["file_path"], rules)
        cache[row["file_path"]] = facts
        free.append((row, facts))
    titles = unique_titles([facts for _, facts in free], taken=fixed)
    for (row, _), title in zip(free, titles, strict=True):
        if row["title"] != title:
            conn.execute(
                "UPDATE contents SET title = ?, updated_at = ? WHERE id = ?",
                (title, stamp, row["id"]),
            )


def locked(row: sqlite3.Row) -> frozenset[str]:
    try:
        return frozenset(json.loads(row["locked_fields"] or "[]"))
    except (ValueError, TypeError):
        return frozenset()


def update_row(
    conn: sqlite3.Connection, table: str, row: sqlite3.Row, values: dict[str, Any], stamp: str
) -> bool:
    """Write the changed, unlocked ``values`` of ``row``; True when something changed."""
    fixed = locked(row)
    changes = {k: v for k, v in values.items() if k not in fixed and row[k] != v}
    return write_changes(conn, table, row["id"], changes, stamp)


def write_changes(
    conn: sqlite3.Connection, table: str, row_id: str, changes: dict[str, Any], stamp: str
) -> bool:
    """Set ``changes`` (column: value) and ``updated_at`` on row ``row_id`` of ``table``;
    False, writing nothing, when there are none."""
    if not changes:
        return False
    sets = ", ".join(f"{column} = ?" for column in changes)
    conn.execute(
        f"UPDATE {table} SET {sets}, updated_at = ? WHERE id = ?",
        [*changes.values(), stamp, row_id],
    )
    return True


def get_or_create_player(conn: sqlite3.Connection, name: str, stamp: str) -> str:
    """The id of the player called ``name`` (matched on :func:`player_key`), created if new."""
    key = player_key(name)
    found = conn.execute("SELECT id FROM players WHERE name_key = ?", (key,)).fetchone()
    if found is not None:
        return str(found["id"])
    pid = db.new_id()
    conn.execute(
        "INSERT INTO players (id, name, name_key, origin, created_at, updated_at) "
        "VALUES (?, ?, ?, 'path', ?, ?)",
        (pid, tidy_name(name), key, stamp, stamp),
    )
    return pid


def _link_path_players(
    conn: sqlite3.Connection, content_id: str, names: Iterable[str], stamp: str
) -> None:
    wanted = [get_or_create_player(conn, name, stamp) for name in names if name.strip()]
    set_links(conn, content_id, "players", [(pid, "player") for pid in wanted], "path", stamp)


_ORIGIN_RANK = {"path": 0, "import": 1, "manual": 2}
_LINK_TABLES = {"players": ("content_players", "player_id"), "tags": ("content_tags", "tag_id")}


def set_links(
    conn: sqlite3.Connection,
    content_id: str,
    what: str,
    links: Sequence[tuple[str, str]],
    origin: str,
    stamp: str,
) -> bool:
    """Make ``origin``'s links of a content to players or tags exactly ``links``.

    ``what`` is 'players' or 'tags'; ``links`` are (target id, role) pairs (role ignored for
    tags). Links of a stronger origin (manual > import > path) are never removed or demoted;
    a weaker one that is now wanted is taken over. Bumps the content's ``updated_at`` when
    something changed and returns whether it did.
    """
    table, column = _LINK_TABLES[what]
    has_role = what == "players"
    wanted = dict(links)
    current = {
        r[column]: (r["origin"], r["role"] if has_role else "")
        for r in conn.execute(
            f"SELECT {column}, origin{', role' if has_role else ''} FROM {table} "
            "WHERE content_id = ?",
            (content_id,),
        )
    }
    rank = _ORIGIN_RANK[origin]
    changed = False
    for target, (have_origin, _) in current.items():
        if have_origin == origin and target not in wanted:
            conn.execute(
                f"DELETE FROM {table} WHERE content_id = ? AND {column} = ?", (content_id, target)
            )
            changed = True
    for target, role in wanted.items():
        have = current.get(target)
        if have is None:
            if has_role:
                conn.execute(
                    f"INSERT INTO {table} (content_id, {column}, role, origin, updated_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (content_id, target, role, origin, stamp),
                )
            else:
                conn.execute(
                    f"INSERT INTO {table} (content_id, {column}, origin, updated_at) "
                    "VALUES (?, ?, ?, ?)",
                    (content_id, target, origin, stamp),
                )
            changed = True
        elif _ORIGIN_RANK[have[0]] < rank or (have[0] == origin and have[1] != role):
            sets = "origin = ?, role = ?" if has_role else "origin = ?"
            params = [origin, role] if has_role else [origin]
            conn.execute(
                f"UPDATE {table} SET {sets}, updated_at = ? WHERE content_id = ? AND {column} = ?",
                [*params, stamp, content_id, target],
            )
            changed = True
    if changed:
        conn.execute("UPDATE contents SET updated_at = ? WHERE id = ?", (stamp, content_id))
    return changed


def tidy_name(text: str) -> str:
    """A display name as stored: NFC, white space runs collapsed, ends trimmed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def set_manual(
    conn: sqlite3.Connection, table: str, row_id: str, field: str, value: Any, *, now: Clock
) -> None:
    """A manual edit: set ``table.field`` of ``row_id`` to ``value`` and lock the field.

    Classification never overwrites a locked field again (see :func:`unlock`). Raises
    ``CatalogError`` for a field that cannot be edited, ``NotFound`` for an unknown row.
    """
    if field not in fields.EDITABLE.get(table, frozenset()):
        raise CatalogError(f"{table}.{field} cannot be edited")
    row = conn.execute(f"SELECT locked_fields FROM {table} WHERE id = ?", (row_id,)).fetchone()
    if row is None:
        raise NotFound(f"no {table} row {row_id}")
    names = sorted(locked(row) | {field})
    conn.execute(
        f"UPDATE {table} SET {field} = ?, locked_fields = ?, updated_at = ? WHERE id = ?",
        (value, json.dumps(names), db.timestamp(now()), row_id),
    )
    search_index.catch_up(conn)


def unlock(conn: sqlite3.Connection, table: str, row_id: str, field: str, *, now: Clock) -> None:
    """Give ``table.field`` of ``row_id`` back to classification (the next refresh sets it)."""
    if table not in fields.EDITABLE:
        raise CatalogError(f"{table} has no manual fields")
    row = conn.execute(f"SELECT locked_fields FROM {table} WHERE id = ?", (row_id,)).fetchone()
    if row is None:
        raise NotFound(f"no {table} row {row_id}")
    names = sorted(locked(row) - {field})
    conn.execute(
        f"UPDATE {table} SET locked_fields = ?, updated_at = ? WHERE id = ?",
        (json.dumps(names), db.timestamp(now()), row_id),
    )
    search_index.catch_up(conn)


@dataclass(frozen=True)
class ReclassifyReport:
    """What a reclassify changed."""

    files: int
    contents: int
    moved: int  # top-level contents whose series changed
    retitled: int
    clips: int  # clips kept (they follow their episode)
    rules_version: str

    def summary(self) -> str:
        return (
            f"reclassified {self.files} files: {self.contents} contents, {self.moved} moved to "
            f"another series, {self.retitled} retitled, {self.clips} clips kept "
            f"(rules {self.rules_version})"
        )


def reclassify(
    conn: sqlite3.Connection,
    *,
    now: Clock,
    rules: Rules | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ReclassifyReport:
    """Re-apply ``rules`` to every catalogued file, inside the caller's transaction.

    Contents keep their ids, clips and import/manual links; locked fields stay as edited.
    Series may change (a content moves, its clips follow). ``on_progress(n)`` is called after
    each batch with the number of files it held.
    """
    rules = rules or default_rules()
    before = {
        r["id"]: (r["series_id"], r["title"])
        for r in conn.execute("SELECT id, series_id, title FROM contents WHERE parent_id IS NULL")
    }
    ids = [
        str(r[0])
        for r in conn.execute(
            "SELECT id FROM files WHERE is_media = 1 AND status != 'deleted' "
            "UNION SELECT file_id FROM contents WHERE file_id IS NOT NULL ORDER BY 1"
        )
    ]
    for start in range(0, len(ids), _RECLASSIFY_BATCH):
        batch = ids[start : start + _RECLASSIFY_BATCH]
        refresh(conn, batch, now=now, rules=rules)
        if on_progress is not None:
            on_progress(len(batch))
    moved = retitled = 0
    total = 0
    for r in conn.execute("SELECT id, series_id, title FROM contents WHERE parent_id IS NULL"):
        total += 1
        old = before.get(r["id"])
        if old is None:
            continue
        moved += old[0] != r["series_id"]
        retitled += old[1] != r["title"]
    clips = int(
        conn.execute("SELECT count(*) FROM contents WHERE parent_id IS NOT NULL").fetchone()[0]
    )
    return ReclassifyReport(len(ids), total, moved, retitled, clips, rules.version)
