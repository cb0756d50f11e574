"""Every reader sees the read model's answer: the web (cards, listings, playback), the search
index and the sync agree with ``catalog.read`` on each decided rule."""

from __future__ import annotations

import sqlite3

import pytest

from archive_analyzer.catalog import read
from archive_analyzer.sync import load, plan
from archive_analyzer.sync.rows import ContentSnapshot
from archive_analyzer.web import playable, queries, search
from tests.catalog.read_data import Built, build, edit, row


def agree(b: Built, content_id: str) -> read.ContentRow:
    """Check every reader against the read model for one content; returns its row."""
    model = row(b, content_id)
    # web: the card and the played file
    card = queries.card(b.conn, content_id)
    assert card is not None
    assert (card.catalog_id, card.series_id, card.year) == (
        model.catalog_id,
        model.series_id,
        model.year,
    )
    target = playable.target(b.conn, content_id)
    assert target is not None and target.file.id == model.play_file_id
    # search: the document's brand and year, and the brand filter finds it
    doc = b.conn.execute(
        "SELECT catalog_id, year FROM search_docs WHERE content_id = ?", (content_id,)
    ).fetchone()
    assert tuple(doc) == (model.catalog_id, model.year)
    found = search.search(b.conn, search.SearchQuery(catalog_id=model.catalog_id, per_page=100))
    assert content_id in found.content_ids
    # sync: the document sits under the effective brand and series and names the played file
    snapshot = load.load_rows(b.conn, [("content", content_id)])[("content", content_id)]
    assert isinstance(snapshot, ContentSnapshot)
    document = plan.content_document(snapshot)
    assert document is not None
    path, data = document
    assert path == f"catalogs/{model.catalog_id}/series/{model.series_id}/contents/{content_id}"
    assert (data["catalog_id"], data["series_id"], data["file_id"]) == (
        model.catalog_id,
        model.series_id,
        model.play_file_id,
    )
    return model


@pytest.fixture
def built(catalog: sqlite3.Connection) -> Built:
    return build(catalog)


def test_readers_agree_on_a_clip_whose_parent_moved_to_another_series(built: Built) -> None:
    b = built
    edit(b, b.episode, "series_id", b.other_series)
    clip = agree(b, b.clip)
    assert (clip.series_id, clip.catalog_id) == (b.other_series, "hcl")
    agree(b, b.episode)


def test_readers_agree_on_a_brand_override(built: Built) -> None:
    b = built
    edit(b, b.episode, "catalog_id", "hcl")
    assert agree(b, b.episode).catalog_id == "hcl"
    assert agree(b, b.clip).catalog_id == "hcl"
    # the brand page lists it under its override, the series page under its own series
    assert b.episode in [c.id for c in queries.brand_rows(b.conn)["hcl"]]
    series = queries.series_contents(b.conn, row(b, b.episode).series_id or "")
    assert [c.id for c in series] == [b.episode]


def test_readers_agree_on_a_file_played_by_two_contents(built: Built) -> None:
    b = built
    episode, clip = agree(b, b.episode), agree(b, b.clip)
    assert episode.play_file_id == clip.play_file_id == b.file
    detail = queries.detail(b.conn, b.clip)
    assert detail is not None and detail.file is not None and detail.file.id == b.file
    # the clip plays its range, the episode the whole file
    cards = {c.id: c for c in queries.cards(b.conn, [b.episode, b.clip])}
    assert cards[b.clip].play_seconds == 10.0 and cards[b.episode].play_seconds == 3600
    edit(b, b.episode, "status", "hidden")
    assert queries.card(b.conn, b.clip) is None and playable.target(b.conn, b.clip) is None
    snapshot = load.load_rows(b.conn, [("content", b.clip)])[("content", b.clip)]
    assert isinstance(snapshot, ContentSnapshot) and plan.content_document(snapshot) is None
