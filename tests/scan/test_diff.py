"""The pure poll diff: rows + listing + now -> plan."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from archive_analyzer.catalog.db import timestamp
from archive_analyzer.catalog.files import FileRow
from archive_analyzer.scan.diff import DiffRules, fingerprint_candidates, plan
from archive_analyzer.sources.base import FileInfo

NOW = datetime(2026, 1, 1, tzinfo=UTC)
RULES = DiffRules(missing_grace_s=3600, vanish_threshold=0.2, vanish_min_files=3)


def row(
    path: str,
    size: int = 10,
    mtime: float = 1.0,
    file_id: str | None = None,
    status: str = "active",
    **kw: object,
) -> FileRow:
    return FileRow(
        id=f"id-{path}",
        source="s",
        path=path,
        size=size,
        mtime=mtime,
        file_id=file_id if file_id is not None else f"fid-{path}",
        status=status,
        is_media=1,
        probe_state="done",
        **kw,  # type: ignore[arg-type]
    )


def info(path: str, size: int = 10, mtime: float = 1.0, file_id: str | None = "") -> FileInfo:
    return FileInfo(path, size, mtime, f"fid-{path}" if file_id == "" else file_id, False)


def known(*rows: FileRow) -> dict[str, FileRow]:
    return {r.path: r for r in rows}


def filler(n: int) -> list[FileRow]:
    return [row(f"z/{i}.mp4") for i in range(n)]


def test_new_file_starts_incoming_and_settles_next_poll() -> None:
    p = plan({}, [info("a.mp4")], NOW, RULES)
    assert [(i.path, s) for i, s in p.new] == [("a.mp4", "incoming")]
    p2 = plan(known(row("a.mp4", status="incoming")), [info("a.mp4")], NOW, RULES)
    assert [r.path for r in p2.stable] == ["a.mp4"]


def test_growing_file_stays_changed_until_it_stops() -> None:
    prev = known(row("a.mp4", size=10, status="incoming"))
    p = plan(prev, [info("a.mp4", size=20, mtime=2.0)], NOW, RULES)
    assert [(r.path, i.size, s) for r, i, s in p.changed] == [("a.mp4", 20, "incoming")]
    assert not p.stable


def test_part_file_never_settles() -> None:
    prev = known(row("a.mp4.part", status="incoming"))
    p = plan(prev, [info("a.mp4.part")], NOW, RULES)
    assert not p.stable and p.unchanged == 1


def test_move_by_file_id_and_size_keeps_the_row() -> None:
    prev = known(row("old/a.mp4", file_id="42"), *filler(20))
    listing = [info("new/a.mp4", file_id="42")] + [info(f"z/{i}.mp4") for i in range(20)]
    p = plan(prev, listing, NOW, RULES)
    assert [(r.id, i.path, s) for r, i, s in p.moved] == [("id-old/a.mp4", "new/a.mp4", "active")]
    assert not p.new and not p.missing


def test_same_id_other_size_is_not_a_move() -> None:
    prev = known(row("old/a.mp4", file_id="42"), *filler(20))
    listing = [info("new/a.mp4", size=11, file_id="42")] + [info(f"z/{i}.mp4") for i in range(20)]
    p = plan(prev, listing, NOW, RULES)
    assert len(p.new) == 1 and [r.path for r in p.missing] == ["old/a.mp4"]


def test_move_by_fingerprint_without_server_ids() -> None:
    old = replace(row("old/a.mp4", fingerprint="fp"), file_id=None)
    prev = known(old, *filler(20))
    listing = {i.path: i for i in [info("new/a.mp4", file_id=None)]}
    listing.update({f"z/{i}.mp4": info(f"z/{i}.mp4") for i in range(20)})
    assert [c.path for c in fingerprint_candidates(prev, listing)] == ["new/a.mp4"]
    p = plan(prev, listing, NOW, RULES, fingerprints={"new/a.mp4": "fp"})
    assert [(r.id, i.path) for r, i, _ in p.moved] == [("id-old/a.mp4", "new/a.mp4")]


def test_missing_then_deleted_after_grace_then_restored() -> None:
    rows = filler(20)
    p = plan(known(row("a.mp4"), *rows), [info(r.path) for r in rows], NOW, RULES)
    assert [r.path for r in p.missing] == ["a.mp4"]
    gone = row("a.mp4", status="missing", missing_since=timestamp(NOW - timedelta(hours=2)))
    p = plan(known(gone, *rows), [info(r.path) for r in rows], NOW, RULES)
    assert [r.path for r in p.deleted] == ["a.mp4"] and not p.missing
    recent = row("a.mp4", status="missing", missing_since=timestamp(NOW - timedelta(minutes=5)))
    p = plan(known(recent, *rows), [info(r.path) for r in rows], NOW, RULES)
    assert not p.deleted
    back = row("a.mp4", status="deleted", missing_since=timestamp(NOW - timedelta(hours=2)))
    p = plan(known(back), [info("a.mp4")], NOW, RULES)
    assert [(r.path, s) for r, s in p.restored] == [("a.mp4", "active")]


def test_empty_listing_is_suspect() -> None:
    p = plan(known(*filler(5)), [], NOW, RULES)
    assert p.suspect and not p.missing


def test_mass_vanish_is_suspect_but_small_deletions_are_not() -> None:
    rows = filler(100)
    p = plan(known(*rows), [info(r.path) for r in rows[:50]], NOW, RULES)
    assert p.suspect and not p.missing
    p = plan(known(*rows), [info(r.path) for r in rows[:90]], NOW, RULES)
    assert p.suspect is None and len(p.missing) == 10
    small = filler(5)
    p = plan(known(*small), [info(r.path) for r in small[:3]], NOW, RULES)
    assert p.suspect is None and len(p.missing) == 2


def test_nfd_listing_is_the_nfc_row() -> None:
    import unicodedata

    nfc = "WSOP 2003 - 복사본/a.mp4"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    p = plan(known(row(nfc, file_id="7")), [FileInfo(nfd, 10, 1.0, "7", False)], NOW, RULES)
    assert p.is_empty and p.unchanged == 1


def test_swapped_paths_are_two_moves() -> None:
    prev = known(row("a.mp4", file_id="1", size=1), row("b.mp4", file_id="2", size=2))
    listing = [info("a.mp4", size=2, file_id="2"), info("b.mp4", size=1, file_id="1")]
    p = plan(prev, listing, NOW, RULES)
    # Same paths, different content: reported as changes (the path wins), never lost.
    assert len(p.changed) == 2 and not p.missing


def test_reused_inode_is_not_a_move() -> None:
    # An empty file says nothing about identity; a long-deleted row needs the same mtime too.
    prev = known(row("old/empty.mp4", size=0, file_id="5"), *filler(20))
    listing = [info("new/empty.mp4", size=0, file_id="5")] + [info(f"z/{i}.mp4") for i in range(20)]
    p = plan(prev, listing, NOW, RULES)
    assert not p.moved and len(p.new) == 1
    dead = row("old/a.mp4", file_id="6", status="deleted", mtime=1.0)
    p = plan(known(dead), [info("new/a.mp4", file_id="6", mtime=2.0)], NOW, RULES)
    assert not p.moved and len(p.new) == 1
    p = plan(known(dead), [info("new/a.mp4", file_id="6", mtime=1.0)], NOW, RULES)
    assert [(r.id, s) for r, _, s in p.moved] == [("id-old/a.mp4", "active")]


def test_mass_vanish_is_confirmed_only_after_the_window() -> None:
    rows = filler(100)
    prev = known(*rows)
    kept = [info(r.path) for r in rows[:50]]
    first = plan(prev, kept, NOW, RULES)
    assert first.suspect and not first.missing and first.pending is not None
    assert first.pending.since == NOW and len(first.pending.ids) == 50
    assert "3600 s" in first.suspect
    later = NOW + timedelta(seconds=3599)
    waiting = plan(prev, kept, later, RULES, pending=first.pending)
    assert waiting.suspect and not waiting.missing and waiting.pending == first.pending
    done = plan(prev, kept, NOW + timedelta(seconds=3600), RULES, pending=waiting.pending)
    assert done.suspect is None and len(done.missing) == 50 and done.pending is None
    assert done.confirmed and "accepted as deleted" in done.confirmed


def test_a_different_vanished_set_starts_the_wait_again() -> None:
    rows = filler(100)
    prev = known(*rows)
    first = plan(prev, [info(r.path) for r in rows[:50]], NOW, RULES)
    # Some came back, the rest is still away (still a mass vanish): a new wait from now.
    later = NOW + timedelta(hours=2)
    other = plan(prev, [info(r.path) for r in rows[:60]], later, RULES, pending=first.pending)
    assert other.suspect and not other.missing
    assert other.pending is not None and other.pending.since == later
    # Everything back: nothing pending any more.
    back = plan(prev, [info(r.path) for r in rows], later, RULES, pending=other.pending)
    assert back.suspect is None and back.pending is None and not back.missing


def test_empty_listing_or_nothing_known_left_is_never_confirmed() -> None:
    rows = filler(20)
    prev = known(*rows)
    first = plan(prev, [info(r.path) for r in rows[:5]], NOW, RULES)
    assert first.pending is not None
    empty = plan(prev, [], NOW + timedelta(hours=5), RULES, pending=first.pending)
    assert empty.suspect and empty.pending is None and not empty.missing
    # Only unknown files listed (another share mounted in its place): never accepted.
    strangers = [info(f"other/{i}.mp4") for i in range(3)]
    for hours in (0, 2, 4):
        p = plan(prev, strangers, NOW + timedelta(hours=hours), RULES, pending=first.pending)
        assert p.suspect and p.pending is None and not p.missing


# --- partial plans: a round of change notifications (issue 19) -------------------------------


def test_a_partial_plan_never_marks_missing_and_needs_a_check_to_settle() -> None:
    prev = known(row("a/x.mp4"), row("a/y.mp4"), row("a/up.mp4", status="incoming"))
    listed = [info("a/x.mp4"), info("a/up.mp4"), info("a/new.mp4")]
    p = plan(prev, listed, NOW, RULES, partial=True)
    assert p.missing == () and p.deleted == () and p.suspect is None and p.vanished == 1
    assert p.stable == ()  # rounds are seconds apart: no two-poll rule
    assert [(i.path, s) for i, s in p.new] == [("a/new.mp4", "incoming")]
    done = frozenset({"a/up.mp4", "a/new.mp4"})
    p2 = plan(prev, listed, NOW, RULES, partial=True, complete=done)
    assert [r.path for r in p2.stable] == ["a/up.mp4"]
    assert [(i.path, s) for i, s in p2.new] == [("a/new.mp4", "active")]


def test_complete_files_are_active_at_once_unless_temporary() -> None:
    prev = known(row("a.mp4", size=5))
    listed = [info("a.mp4", size=9, mtime=2.0), info("b.mp4.part")]
    p = plan(prev, listed, NOW, RULES, partial=True, complete=frozenset({"a.mp4", "b.mp4.part"}))
    assert [(r.path, s) for r, _, s in p.changed] == [("a.mp4", "active")]
    assert [(i.path, s) for i, s in p.new] == [("b.mp4.part", "incoming")]


def test_a_partial_plan_keeps_ids_on_moves_and_settles_moved_uploads_only_when_complete() -> None:
    prev = known(row("in/a.mp4", file_id="7"), row("in/b.mp4", file_id="8", status="incoming"))
    listed = [info("out/a.mp4", file_id="7"), info("out/b.mp4", file_id="8")]
    p = plan(prev, listed, NOW, RULES, partial=True)
    assert [(r.id, i.path, s) for r, i, s in p.moved] == [
        ("id-in/a.mp4", "out/a.mp4", "active"),
        ("id-in/b.mp4", "out/b.mp4", "incoming"),
    ]
    assert p.vanished == 0
    p2 = plan(prev, listed, NOW, RULES, partial=True, complete=frozenset({"out/b.mp4"}))
    assert [s for _, _, s in p2.moved] == ["active", "active"]
