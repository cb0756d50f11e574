"""Per-user state: watched (played past the setting's share, or marked), progress that only
counts once started, "My list", viewing preferences."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from archive_analyzer.catalog import db
from archive_analyzer.web import accounts, my_list, progress, viewer_prefs, watching
from tests.web.catalog_data import Seeded, seed


@pytest.fixture
def seeded(tmp_path: Path, web_media: Path) -> tuple[sqlite3.Connection, Seeded, str]:
    conn = db.connect(tmp_path / "w.db")
    ids = seed(conn, web_media, "src")
    user = accounts.add_user(conn, "viewer", "correct horse battery")
    return conn, ids, user.id


def test_progress_started_finished_and_watched(
    seeded: tuple[sqlite3.Connection, Seeded, str],
) -> None:
    conn, ids, user = seeded
    assert progress.is_finished(27.0, 0.0, 30.0, 0.9) and not progress.is_finished(26.9, 0, 30, 0.9)
    assert progress.is_started(1.6, 0.0, 30.0)  # 5 % of a short content
    assert not progress.is_started(0.4, 0.0, 30.0)
    assert progress.is_started(10.0, 0.0, 3600.0) and not progress.is_started(9.0, 0.0, 3600.0)
    # opened and left at once: nothing to resume
    saved = progress.save(conn, user, ids.ep1, 0.5, end_s=30.0)
    assert not saved.finished and progress.of_user(conn, user) == []
    progress.save(conn, user, ids.ep1, 12.0, end_s=30.0)
    assert watching.in_progress(conn, user, 10) == [ids.ep1]
    assert watching.states(conn, user, [ids.ep1])[ids.ep1] == watching.State(False, 12.0)
    # past 90 %: finished, watched, out of "continue watching"
    done = progress.save(conn, user, ids.ep1, 27.5, end_s=30.0, watched_fraction=0.9)
    assert done.finished and done.watched
    assert watching.in_progress(conn, user, 10) == []
    assert watching.states(conn, user, [ids.ep1])[ids.ep1] == watching.State(True, None)
    # watched again from the start: watched and in progress at once
    progress.save(conn, user, ids.ep1, 8.0, end_s=30.0)
    assert watching.states(conn, user, [ids.ep1])[ids.ep1] == watching.State(True, 8.0)
    # a clip's range: 10..15 s of its parent's file
    clip = progress.save(conn, user, ids.clip, 14.6, start_s=10.0, end_s=15.0)
    assert clip.finished and watching.is_watched(conn, user, ids.clip)


def test_mark_and_series_progress(seeded: tuple[sqlite3.Connection, Seeded, str]) -> None:
    conn, ids, user = seeded
    progress.save(conn, user, ids.ep2, 6.0, end_s=12.0)
    assert watching.series_progress(conn, user, ["s-wsop-2024-me"])["s-wsop-2024-me"] == (
        watching.SeriesProgress(2, 0)
    )
    watching.mark(conn, user, [ids.ep2], True)
    assert watching.in_progress(conn, user, 10) == []  # marked watched: progress forgotten
    wsop = watching.series_progress(conn, user, ["s-wsop-2024-me"])["s-wsop-2024-me"]
    assert (wsop.total, wsop.watched, wsop.left) == (2, 1, 1)
    watching.mark(conn, user, [ids.ep1, ids.ep2], True)
    assert watching.series_progress(conn, user, ["s-wsop-2024-me"])["s-wsop-2024-me"].left == 0
    watching.mark(conn, user, [ids.ep2], False)
    assert not watching.is_watched(conn, user, ids.ep2) and watching.is_watched(conn, user, ids.ep1)
    assert set(watching.last_played(conn, user, [ids.ep1, ids.ep2, ids.hcl1])) == {ids.ep1}
    # marking an id that is not a content does nothing
    watching.mark(conn, user, ["nope"], True)
    assert not watching.is_watched(conn, user, "nope")


def test_my_list_and_prefs(seeded: tuple[sqlite3.Connection, Seeded, str]) -> None:
    conn, ids, user = seeded
    my_list.put(conn, user, "content", ids.ep1, True)
    my_list.put(conn, user, "series", "s-hcl-2025", True)
    my_list.put(conn, user, "content", ids.ep1, True)  # twice: one entry
    my_list.put(conn, user, "content", "nope", True)  # not a content: ignored
    entries = my_list.entries(conn, user)
    assert [(e.content_id, e.series_id) for e in entries] == [
        (None, "s-hcl-2025"),
        (ids.ep1, None),
    ]
    assert my_list.holding(conn, user, "content", [ids.ep1, ids.ep2]) == {ids.ep1}
    my_list.put(conn, user, "content", ids.ep1, False)
    assert my_list.holding(conn, user, "content", [ids.ep1]) == set()
    with pytest.raises(ValueError):
        my_list.put(conn, user, "players", "x", True)
    assert viewer_prefs.load(conn, user).autoplay is True
    viewer_prefs.save(conn, user, viewer_prefs.ViewerPrefs(autoplay=False))
    assert viewer_prefs.load(conn, user).autoplay is False
