"""The pure planner: documents, Firestore limits, moves, batching and watermarks."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive_analyzer.catalog.file_facts import FileFacts
from archive_analyzer.catalog.media import AudioTrack, MediaInfo
from archive_analyzer.catalog.read import ContentRow, PlayerRef, TagRef
from archive_analyzer.errors import SyncLimitError
from archive_analyzer.sync.plan import (
    RowPlan,
    Synced,
    Target,
    batches,
    check_limits,
    content_document,
    digest,
    file_document,
    plan_row,
)
from archive_analyzer.sync.rows import ContentSnapshot
from archive_analyzer.sync.sink import DocOp

MEDIA = MediaInfo(
    status="ok",
    container="mov",
    duration_s=7200.0,
    bit_rate=None,
    video_codec="prores",
    video_profile="HQ",
    width=3840,
    height=2160,
    frame_rate=59.94,
    pix_fmt="yuv422p10le",
    field_order="progressive",
    audio=(AudioTrack("pcm_s24le", 2), AudioTrack("aac")),
    subtitle_count=0,
    browser_playable=False,
)
FILE = FileFacts(
    id="f1",
    source="smb://nas/archive",
    path="WSOP/2024/Main Event Day 1.mov",
    name="Main Event Day 1.mov",
    ext="mov",
    size=80_000_000_000,
    mtime=1.5,
    status="active",
    is_media=True,
    probe_state="done",
    first_seen="2026-01-01T00:00:00.000000Z",
    media=MEDIA,
)
EPISODE_ROW = ContentRow(
    id="c1",
    kind="episode",
    status="active",
    visible=True,
    title="Main Event Day 1",
    sort_key="k",
    catalog_id="wsop",
    series_id="s1",
    file_id="f1",
    play_file_id="f1",
    parent_id=None,
    start_sec=None,
    end_sec=None,
    created_at="2026-01-01T00:00:00.000000Z",
    updated_at="2026-01-01T00:00:00.000000Z",
    facts=(("year", 2024), ("versions", ["clean"])),
)
EPISODE = ContentSnapshot(
    content=EPISODE_ROW,
    players=(PlayerRef("p1", "Daniel Negreanu", None, "다니엘", "featured"),),
    tags=(TagRef("cooler", "cooler", "play"),),
    play_file=FILE,
)


def content(**changes: object) -> ContentSnapshot:
    """EPISODE with ``changes`` to its content row."""
    return replace(EPISODE, content=replace(EPISODE_ROW, **changes))  # type: ignore[arg-type]


def test_file_document_publishes_media_and_nothing_server_side() -> None:
    path, doc = file_document(FILE) or ("", {})
    assert path == "files/f1"
    assert doc["media"]["resolution"] == "3840x2160"
    assert doc["media"]["audio_codecs"] == ["aac", "pcm_s24le"]
    assert doc["media"]["browser_playable"] is False
    assert not {"source", "file_id", "last_seen"} & set(doc)


@pytest.mark.parametrize(
    ("change", "published"),
    [
        ({}, True),
        ({"status": "missing"}, True),
        ({"status": "deleted"}, False),
        ({"status": "incoming"}, False),
        ({"is_media": False}, False),
    ],
)
def test_which_files_have_documents(change: dict[str, object], published: bool) -> None:
    assert (file_document(replace(FILE, **change)) is not None) is published  # type: ignore[arg-type]


def test_content_document_layout_and_embedded_facts() -> None:
    path, doc = content_document(EPISODE) or ("", {})
    assert path == "catalogs/wsop/series/s1/contents/c1"
    assert doc["players"][0]["name_kr"] == "다니엘" and doc["player_ids"] == ["p1"]
    assert doc["tag_ids"] == ["cooler"] and doc["year"] == 2024 and doc["versions"] == ["clean"]
    assert doc["duration_s"] == 7200.0 and doc["resolution"] == "3840x2160"
    assert doc["clip"] is None


def test_clip_range_and_visibility() -> None:
    range_ = {"id": "k1", "kind": "clip", "parent_id": "c1", "start_sec": 10.0, "end_sec": 70.5}
    _, doc = content_document(content(**range_)) or ("", {})
    assert doc["clip"] == {"start_sec": 10.0, "end_sec": 70.5} and doc["duration_s"] == 60.5
    # not visible: hidden, or its parent episode is not active (content_view decides)
    assert content_document(content(**range_, visible=False)) is None
    gone = replace(FILE, status="deleted")
    assert content_document(replace(EPISODE, play_file=gone)) is None
    unsorted = content_document(content(series_id=None, catalog_id=None))
    assert unsorted is not None and unsorted[0] == "catalogs/unsorted/series/_unsorted/contents/c1"


def test_move_deletes_old_path_and_sets_new_in_one_plan() -> None:
    before = content_document(EPISODE)
    assert before is not None
    previous = Synced(before[0], digest(*before))
    moved = content(series_id="s2")
    result = plan_row(Target("content", "c1", moved, 7), previous)
    assert [op.kind for op in result.ops] == ["delete", "set"]
    assert result.ops[0].path.endswith("/series/s1/contents/c1")
    assert result.ops[1].path.endswith("/series/s2/contents/c1")


def test_unchanged_row_plans_nothing_unless_forced_and_gone_row_deletes() -> None:
    path, doc = content_document(EPISODE) or ("", {})
    previous = Synced(path, digest(path, doc))
    assert plan_row(Target("content", "c1", EPISODE, 1), previous).ops == ()
    assert len(plan_row(Target("content", "c1", EPISODE, 1), previous, force=True).ops) == 1
    gone = plan_row(Target("content", "c1", None, 1), previous)
    assert gone.ops == (DocOp("delete", path),) and gone.synced is None
    assert plan_row(Target("content", "c1", None, 1), None).ops == ()


def test_limits_name_the_row() -> None:
    with pytest.raises(SyncLimitError, match="content c9"):
        check_limits("content", "c9", "catalogs/a/series/b/contents/c9", {"t": "x" * 1_100_000})
    with pytest.raises(SyncLimitError, match="field name"):
        check_limits("player", "p1", "players/p1", {"n" * 1501: 1})
    with pytest.raises(SyncLimitError, match="array"):
        check_limits("player", "p1", "players/p1", {"a": [[1]]})
    with pytest.raises(SyncLimitError, match="segment"):
        check_limits("player", "__x__", "players/__x__", {})
    check_limits("player", "p1", "players/p1", {"t": "x" * 1_000_000})  # big but allowed


def test_oversized_title_stops_planning_with_the_row_named() -> None:
    huge = content(title="x" * 1_048_576)
    with pytest.raises(SyncLimitError, match="content c1"):
        plan_row(Target("content", "c1", huge, 1), None)


def _row(seq: int, n_ops: int, name: str) -> RowPlan:
    ops = tuple(DocOp("set", f"players/{name}-{i}", {}) for i in range(n_ops))
    return RowPlan("player", name, seq, ops, None)


@given(st.lists(st.tuples(st.integers(1, 6), st.integers(0, 7)), max_size=40), st.integers(2, 9))
def test_batches_respect_size_and_watermark_never_passes_unwritten_rows(
    shape: list[tuple[int, int]], max_ops: int
) -> None:
    seq = 0
    rows = []
    for i, (step, n_ops) in enumerate(shape):
        seq += step % 3  # several rows may share a seq (a change and its dependents)
        rows.append(_row(seq, n_ops, f"r{i}"))
    cut = batches(rows, max_ops)
    assert all(len(b.ops) <= max_ops for b in cut)
    assert [op for b in cut for op in b.ops] == [op for r in rows for op in r.ops]
    assert [r for b in cut for r in b.rows] == rows
    done: list[RowPlan] = []
    last = None
    for batch in cut:
        done.extend(batch.rows)
        if batch.watermark is not None:
            assert last is None or batch.watermark >= last
            last = batch.watermark
            # every row at or below the watermark is already written
            assert all(r in done for r in rows if r.seq <= batch.watermark)
    if rows:
        assert cut[-1].watermark == rows[-1].seq


def test_a_row_larger_than_a_batch_is_split_and_completes_in_the_last_piece() -> None:
    big = _row(5, 12, "big")
    cut = batches([_row(4, 1, "a"), big, _row(6, 1, "b")], 5)
    assert sum(len(b.ops) for b in cut) == 14
    holder = next(i for i, b in enumerate(cut) if big in b.rows)
    assert all(b.watermark is None or b.watermark < 5 for b in cut[:holder])
