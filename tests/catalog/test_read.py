"""The read model's rules (docs/classification.md "Reading the catalog"), one test per rule,
on catalogs built by the real catalog code; and the field lists against the schema."""

from __future__ import annotations

import sqlite3

import pytest

from archive_analyzer.catalog import (
    contents,
    db,
    fields,
    file_facts,
    listing,
    media,
    read,
    search_index,
)
from archive_analyzer.catalog.hand_sheet import FACT_CELLS, HAND_COLUMNS
from tests.catalog.read_data import Built, build, edit, row


@pytest.fixture
def built(catalog: sqlite3.Connection) -> Built:
    return build(catalog)


def test_a_clip_whose_parent_is_in_another_series_reads_as_in_its_parents_series(
    built: Built,
) -> None:
    b = built
    series_before = row(b, b.episode).series_id
    assert row(b, b.clip).series_id == series_before  # the hand took its episode's series
    # The episode is moved by hand to the HCL series; its clip's own column still names the
    # old series (a stale copy): readers take the parent's.
    edit(b, b.episode, "series_id", b.other_series)
    own = b.conn.execute("SELECT series_id FROM contents WHERE id = ?", (b.clip,)).fetchone()
    assert own[0] == series_before != b.other_series
    clip = row(b, b.clip)
    assert clip.series_id == b.other_series
    assert clip.catalog_id == "hcl"  # the brand of that series
    assert clip.play_file_id == b.file  # and it still plays its parent's file
    # the search index followed, in the same transaction as the edit
    assert search_index.pending(b.conn) == 0
    doc = b.conn.execute("SELECT catalog_id FROM search_docs WHERE content_id = ?", (b.clip,))
    assert doc.fetchone()[0] == "hcl"


def test_a_content_with_its_own_brand_override_keeps_it_and_lends_it_to_its_clips(
    built: Built,
) -> None:
    b = built
    assert row(b, b.episode).catalog_id == "wsop"
    # Not an override: a catalog_id column that merely disagrees with the series (nobody
    # locked it) loses to the series' brand.
    with db.transaction(b.conn):
        b.conn.execute("UPDATE contents SET catalog_id = 'hcl' WHERE id = ?", (b.episode,))
    assert row(b, b.episode).catalog_id == "wsop"
    # An override (set by hand, locked): the content's own brand wins over its series', for
    # it and for its clips; its series does not change, and a rescan keeps it.
    edit(b, b.episode, "catalog_id", "hcl")
    episode = row(b, b.episode)
    assert episode.catalog_id == "hcl" and episode.series_id != b.other_series
    assert row(b, b.clip).catalog_id == "hcl"
    with db.transaction(b.conn):
        contents.refresh(b.conn, [b.file], now=b.clock)
    assert row(b, b.episode).catalog_id == "hcl"
    # A clip's own override beats its parent's.
    edit(b, b.clip, "catalog_id", "wsop")
    assert row(b, b.clip).catalog_id == "wsop"
    # Given back to the classifier: the series' brand again.
    with db.transaction(b.conn):
        contents.unlock(b.conn, "contents", b.episode, "catalog_id", now=b.clock)
        contents.refresh(b.conn, [b.file], now=b.clock)
    assert row(b, b.episode).catalog_id == "wsop"


def test_a_file_played_by_two_contents(built: Built) -> None:
    b = built
    episode, clip = row(b, b.episode), row(b, b.clip)
    # The episode owns the file; the clip plays a range of it and owns none.
    assert (episode.file_id, episode.play_file_id) == (b.file, b.file)
    assert (clip.file_id, clip.play_file_id) == (None, b.file)
    # One file, one set of media facts, whichever content asks.
    played = [file_facts.played_file(b.conn, c) for c in (b.episode, b.clip)]
    assert played[0] == played[1] and played[0] is not None
    assert played[0].media is not None and played[0].media.duration_s == 3600
    # The file's name is searchable on the content that owns it only.
    names = dict(
        b.conn.execute(
            "SELECT content_id, instr(haystack, 'day 8 (part 2).mp4') > 0 FROM search_docs"
        ).fetchall()
    )
    assert names[b.episode] == 1 and names[b.clip] == 0
    # The clip is visible while its episode is: hiding the episode hides both.
    edit(b, b.episode, "status", "hidden")
    assert not row(b, b.episode).visible and not row(b, b.clip).visible
    assert file_facts.played_file(b.conn, b.clip) is None


def test_year_is_own_else_parents_else_series(built: Built) -> None:
    b = built
    with db.transaction(b.conn):
        b.conn.execute("UPDATE contents SET year = NULL WHERE id = ?", (b.clip,))
    assert row(b, b.clip).year == 2025  # the parent's
    with db.transaction(b.conn):
        b.conn.execute("UPDATE contents SET year = NULL WHERE id IN (?, ?)", (b.clip, b.episode))
    assert row(b, b.clip).year == row(b, b.episode).year == 2025  # the series'


def test_listing_pages_by_key_and_offset_alike(built: Built) -> None:
    b = built
    everything = listing.ContentFilter()
    assert listing.count_contents(b.conn, everything) == 3
    first, key = listing.list_contents(b.conn, everything, limit=2)
    assert len(first) == 2 and key is not None
    rest, end = listing.list_contents(b.conn, everything, limit=2, after=key)
    by_offset, _ = listing.list_contents(b.conn, everything, limit=2, offset=2)
    assert [r.id for r in rest] == [r.id for r in by_offset] and end is None
    ordered = [(r.created_at, r.id) for r in [*first, *rest]]
    assert ordered == sorted(ordered, reverse=True)  # newest first
    assert {r.id for r in [*first, *rest]} == {b.episode, b.clip, b.other}
    wsop = listing.ContentFilter(catalog_id="wsop")
    assert {r.id for r in listing.list_contents(b.conn, wsop, limit=None)[0]} == {
        b.episode,
        b.clip,
    }
    series = listing.ContentFilter(series_id=row(b, b.episode).series_id)
    assert [r.id for r in listing.list_contents(b.conn, series, limit=None)[0]] == [b.episode]


# --- field lists -----------------------------------------------------------------------------


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})")}


def test_field_lists_match_the_schema(catalog: sqlite3.Connection) -> None:
    content_columns = columns(catalog, "contents")
    assert set(fields.CLASSIFIED) <= content_columns
    assert set(fields.HAND_FACTS) <= content_columns
    assert set(fields.INHERITED_BY_CLIPS) <= set(fields.CLASSIFIED)
    assert set(fields.CONTENT_FACTS) <= columns(catalog, "content_view")
    assert set(fields.DETAIL_FACTS) <= set(fields.CONTENT_FACTS)
    assert set(fields.SERIES_CLASSIFIED) <= columns(catalog, "series")
    for table, editable in fields.EDITABLE.items():
        assert editable <= columns(catalog, table), table
    assert set(fields.HAND_FACTS) <= set(HAND_COLUMNS)
    assert list(FACT_CELLS) == list(fields.HAND_FACTS)
    assert ["id", *media.MEDIA_COLUMNS] == [
        str(r[1]) for r in catalog.execute("PRAGMA table_info(media_info)")
    ]
    assert {f for f in read.ContentRow.__dataclass_fields__ if f != "facts"} <= columns(
        catalog, "content_view"
    )
