"""The archive team's routes over HTTP: marking hands (through the real catalog writer), clip
exports (through the real export queue and ffmpeg), original downloads and edit lists; and the
role checks: viewers see none of it and get 403."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest
from fastapi.testclient import TestClient

from archive_analyzer.catalog import db, search_index
from archive_analyzer.web import accounts, search
from tests.web.conftest import PASSWORD, WebEnv, login, make_env
from tests.web.job_system import job_system


@dataclass
class Editing:
    env: WebEnv
    editor: TestClient
    viewer: TestClient
    foxen: str


@pytest.fixture
def editing(tmp_path: Path, web_media: Path) -> Iterator[Editing]:
    env = make_env(tmp_path, web_media)
    conn = env.conn()
    accounts.add_user(conn, "eddie", PASSWORD, role="editor")
    stamp = db.timestamp(db.utc_now())
    foxen = db.new_id()
    with db.transaction(conn):
        conn.execute(
            "INSERT INTO players (id, name, name_key, name_kr, created_at, updated_at) "
            "VALUES (?, 'Alex Foxen', 'alex foxen', '알렉스 폭슨', ?, ?)",
            (foxen, stamp, stamp),
        )
        # the source timecode of episode 2's file (the seeded media carry none)
        conn.execute(
            "UPDATE media_info SET timecode = '01:00:00:00' WHERE id = "
            "(SELECT file_id FROM contents WHERE id = ?)",
            (env.ids.ep2,),
        )
    conn.close()
    with job_system(env.settings):
        app = env.app
        env.app = app
        with (
            TestClient(app, base_url="http://testserver", follow_redirects=False) as editor,
            TestClient(app, base_url="http://testserver", follow_redirects=False) as viewer,
        ):
            editor.headers["X-CSRF-Token"] = login(editor, "eddie")
            viewer.headers["X-CSRF-Token"] = login(viewer, "viewer")
            yield Editing(env, editor, viewer, foxen)


def _mark(client: TestClient, episode: str, **body: Any) -> Any:
    response = client.post(f"/api/contents/{episode}/hands", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_an_editor_marks_edits_and_deletes_a_hand(editing: Editing) -> None:
    ids = editing.env.ids
    client = editing.editor
    hand = _mark(
        client,
        ids.ep2,
        start="01:00:02:00",  # the source timecode: 2 s into the file
        end="5.5",
        players=[editing.foxen, ids.ivey],
        winner=editing.foxen,
        pot_size_bb=42.5,
        is_all_in=True,
        is_showdown=False,
        board="Ah Kd 7c",
        highlight_score=3,
        tags=["Hero Call", "Cooler"],
    )
    assert (hand["start"], hand["end"]) == (2.0, 5.5)
    assert (hand["start_tc"], hand["end_tc"]) == ("01:00:02:00", "01:00:05:13")
    assert hand["title"] == "Hand 01:00:02:00 – Alex Foxen vs Phil Ivey"
    assert {p["name"] for p in hand["players"]} == {"Alex Foxen", "Phil Ivey"}
    assert hand["winner"] == editing.foxen and hand["pot_size_bb"] == 42.5
    assert (hand["is_all_in"], hand["is_showdown"], hand["highlight_score"]) == (True, False, 3)
    assert hand["tags"] == ["Cooler", "hero_call"]  # the seeded tag of that id is reused

    # a clip like imported ones: same table, a search finds it by a player's 초성
    conn = editing.env.conn()
    row = conn.execute("SELECT * FROM contents WHERE id = ?", (hand["id"],)).fetchone()
    assert (row["kind"], row["parent_id"], row["external_id"]) == (
        "clip",
        ids.ep2,
        f"hand:{hand['id']}",
    )
    assert search_index.pending(conn) == 0  # the writer indexed it with the edit
    found = search.search(conn, search.SearchQuery(text="ㅇㄹㅅ ㅍㅅ"))
    assert hand["id"] in found.content_ids
    conn.close()
    listed = client.get(f"/api/contents/{ids.ep2}/hands").json()
    assert listed["timecode"] == "01:00:00:00" and [h["id"] for h in listed["hands"]] == [
        hand["id"]
    ]

    edited = client.put(
        f"/api/hands/{hand['id']}",
        json={"start": "1", "end": "01:00:06:00", "title": "Foxen's cooler", "players": []},
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["start"], body["end"], body["title"], body["players"]) == (
        1.0,
        6.0,
        "Foxen's cooler",
        [],
    )
    assert client.delete(f"/api/hands/{hand['id']}").status_code == 204
    assert client.get(f"/api/contents/{ids.ep2}/hands").json()["hands"] == []
    assert client.delete(f"/api/hands/{hand['id']}").status_code == 404


def test_bad_hands_are_refused_with_a_reason(editing: Editing) -> None:
    ep2 = editing.env.ids.ep2
    cases = [
        ({"start": "5", "end": "2"}, "not before end"),
        ({"start": "0", "end": "99"}, "past the episode's duration"),
        ({"start": "00:59:00:00", "end": "3"}, "before the file's start"),
        ({"start": "1:99", "end": "3"}, "unparseable"),
    ]
    for body, reason in cases:
        response = editing.editor.post(f"/api/contents/{ep2}/hands", json=body)
        assert response.status_code == 422, body
        assert reason in response.text
    unknown = editing.editor.post(
        f"/api/contents/{ep2}/hands", json={"start": "1", "end": "2", "players": ["f" * 32]}
    )
    assert unknown.status_code == 404
    clip = editing.editor.post(
        f"/api/contents/{editing.env.ids.clip}/hands", json={"start": "1", "end": "2"}
    )
    assert clip.status_code == 404  # hands are marked on episodes, not on other hands


def test_player_type_ahead(editing: Editing) -> None:
    client = editing.viewer  # open to everyone: the search page can use it too

    def names(q: str) -> list[str]:
        return [p["name"] for p in client.get("/api/players", params={"q": q}).json()]

    assert names("fox") == ["Alex Foxen"]
    assert names("폭슨") == ["Alex Foxen"]
    assert names("ㅍㅅ") == ["Alex Foxen"]
    assert names("ㄴㄱㄹ") == ["Daniel Negreanu"]
    assert names("") == []


def test_a_viewer_sees_no_marking_or_download_controls_and_gets_403(editing: Editing) -> None:
    ids = editing.env.ids
    viewer, editor = editing.viewer, editing.editor
    page = viewer.get(f"/content/{ids.ep1}").text
    for control in ("hand-form", "mark-in", "export-clip", "/download/", "/exports/edit-list"):
        assert control not in page
    assert 'id="markers"' in page and 'id="hand-list"' in page  # hands show for everyone
    editor_page = editor.get(f"/content/{ids.ep1}").text
    for control in ("hand-form", "mark-in", "/download/", "/exports/edit-list"):
        assert control in editor_page
    assert "export-clip" in editor.get(f"/content/{ids.clip}").text
    assert "export-clip" not in viewer.get(f"/watch/{ids.clip}").text
    body = {"start": "1", "end": "2"}
    refused = [
        viewer.post(f"/api/contents/{ids.ep1}/hands", json=body),
        viewer.put(f"/api/hands/{ids.clip}", json=body),
        viewer.delete(f"/api/hands/{ids.clip}"),
        viewer.post(f"/api/contents/{ids.clip}/export", json={"exact": False}),
        viewer.get(f"/api/exports/{'0' * 24}"),
        viewer.get(f"/exports/clips/{'0' * 24}"),
        viewer.get(f"/download/{ids.ep1}"),
        viewer.get("/exports/edit-list", params={"format": "edl", "content": ids.ep1}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    # an editor's write without the CSRF header is refused too
    no_csrf = editor.post(
        f"/api/contents/{ids.ep1}/hands", json=body, headers={"X-CSRF-Token": "x"}
    )
    assert no_csrf.status_code == 403


def _export(client: TestClient, content_id: str, exact: bool) -> dict[str, Any]:
    state = client.post(f"/api/contents/{content_id}/export", json={"exact": exact}).json()
    deadline = time.monotonic() + 120
    while state["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
        state = client.get(f"/api/exports/{state['key']}").json()
    return state


def _ffprobe_duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout)


def test_clip_export_jobs_and_downloads(editing: Editing, tmp_path: Path) -> None:
    ids = editing.env.ids
    client = editing.editor
    fast = _export(client, ids.clip, exact=False)  # hand 10-15 s; a key frame every second
    assert fast["state"] == "done", fast
    assert (fast["real_in"], fast["real_out"]) == (10.0, 15.0)
    assert fast["name"] == "Hand 12 - Negreanu vs Ivey.mp4"
    got = client.get(fast["url"])
    assert got.status_code == 200
    assert "attachment" in got.headers["content-disposition"]
    clip = tmp_path / "fast.mp4"
    clip.write_bytes(got.content)
    assert abs(_ffprobe_duration(clip) - 5.0) <= 1.0
    # asked again: the cache answers at once
    again = client.post(f"/api/contents/{ids.clip}/export", json={"exact": False}).json()
    assert again["state"] == "done" and again["key"] == fast["key"]

    exact = _export(client, ids.clip, exact=True)
    assert exact["state"] == "done", exact
    clip = tmp_path / "exact.mp4"
    clip.write_bytes(client.get(exact["url"]).content)
    assert abs(_ffprobe_duration(clip) - 5.0) <= 1 / 25 + 1e-3

    original = client.get(f"/download/{ids.ep1}")
    assert original.status_code == 200
    assert original.content == (editing.env.root / _path_of(editing, ids.ep1)).read_bytes()
    assert "attachment" in original.headers["content-disposition"]
    # every export is in the audit log, with who asked
    conn = editing.env.conn()
    rows = conn.execute(
        "SELECT actor, target, detail FROM audit_log WHERE action = 'export' ORDER BY id"
    ).fetchall()
    conn.close()
    assert [(r[0], r[1]) for r in rows] == [
        ("eddie", ids.clip),
        ("eddie", ids.clip),
        ("eddie", ids.clip),
        ("eddie", ids.ep1),
    ]
    assert '"original"' in rows[-1][2] and '"exact"' in rows[2][2]


def _path_of(editing: Editing, content_id: str) -> str:
    conn = editing.env.conn()
    row = conn.execute(
        "SELECT f.path FROM contents c JOIN files f ON f.id = c.file_id WHERE c.id = ?",
        (content_id,),
    ).fetchone()
    conn.close()
    return str(row["path"])


def test_edit_lists_from_the_web(editing: Editing) -> None:
    ids = editing.env.ids
    client = editing.editor
    edl = client.get("/exports/edit-list", params={"format": "edl", "content": ids.ep1})
    assert edl.status_code == 200 and "attachment" in edl.headers["content-disposition"]
    events = [line for line in edl.text.splitlines() if line[:3].isdigit()]
    assert len(events) == 1  # the seeded hand, 10-15 s at 25 fps from 00:00:00:00
    assert events[0].split()[4:6] == ["00:00:10:00", "00:00:15:00"]
    series = client.get("/exports/edit-list", params={"format": "otio", "series": "s-wsop-2024-me"})
    timeline = otio.adapters.read_from_string(series.text, "otio_json")
    assert len(list(timeline.find_clips())) == 2  # episode 1's hand, episode 2 whole
    found = client.get("/exports/edit-list", params={"format": "csv", "q": "Negreanu vs Ivey"})
    assert found.status_code == 200 and "hand-12" in found.text
    assert client.get("/exports/edit-list", params={"format": "edl"}).status_code == 422
    missing = client.get("/exports/edit-list", params={"format": "edl", "series": "nope"})
    assert missing.status_code == 404
