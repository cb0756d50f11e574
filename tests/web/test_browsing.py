"""Browsing over HTTP: the viewer's toggles (forms and JSON), next/previous and watched in the
API, sorting and clips rows, posters (upload, frame pick, reset, refusals, roles) through the
catalog writer, playback settings, per-brand visibility of all of it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from archive_analyzer.catalog import artwork, db
from archive_analyzer.errors import InvalidUpload
from archive_analyzer.web import accounts, my_list, posters
from tests.web import browsing_data
from tests.web.conftest import PASSWORD, WebEnv, login, make_env
from tests.web.job_system import job_system


@pytest.fixture
def world(tmp_path: Path, web_media: Path) -> Iterator[tuple[WebEnv, browsing_data.More]]:
    env = make_env(tmp_path, web_media)
    conn = env.conn()
    more = browsing_data.add(conn, env.ids.source)
    accounts.add_user(conn, "eddie", PASSWORD, role="editor")
    accounts.add_user(conn, "lim", PASSWORD)
    accounts.set_brands(conn, "lim", ["hcl"])
    conn.close()
    yield env, more


def _client(env: WebEnv, user: str) -> TestClient:
    client = TestClient(env.app, follow_redirects=False)
    client.headers["X-Test-CSRF"] = login(client, user)
    return client


def _form(client: TestClient, path: str, **data: Any) -> Any:
    return client.post(path, data={"csrf": client.headers["X-Test-CSRF"], **data})


def _json(client: TestClient, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json=body, headers={"X-CSRF-Token": client.headers["X-Test-CSRF"]})


def _png(width: int, height: int, fmt: str = "PNG") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 30)).save(out, fmt)
    return out.getvalue()


def test_toggles_through_forms_and_the_api(world: tuple[WebEnv, browsing_data.More]) -> None:
    env, more = world
    viewer = _client(env, "viewer")
    ep1 = env.ids.ep1
    # a plain form goes back where it came from; with Accept: JSON it answers the state
    back = _form(viewer, f"/watched/{ep1}", on="1", next="/series/s-wsop-2024-me")
    assert back.status_code == 303 and back.headers["location"] == "/series/s-wsop-2024-me"
    assert viewer.get(f"/api/contents/{ep1}").json()["watched"] is True
    state = viewer.post(
        f"/watched/{ep1}",
        data={"csrf": viewer.headers["X-Test-CSRF"], "on": "0"},
        headers={"Accept": "application/json"},
    )
    assert state.json() == {"id": ep1, "watched": False}
    assert (
        _form(viewer, f"/watched/{ep1}", on="1", next="https://evil.example/").headers["location"]
        == "/"
    )  # never sent elsewhere
    assert viewer.post(f"/watched/{ep1}", data={"on": "1"}).status_code == 403  # no CSRF token
    # the series, all at once
    _form(viewer, "/watched/series/s-wsop-2024-me", on="1")
    series = viewer.get("/api/series/s-wsop-2024-me").json()
    assert series["episodes_left"] == 0 and all(c["watched"] for c in series["contents"])
    assert [c["id"] for c in series["contents"]] == [ep1, env.ids.ep2, more.final_table]
    # JSON API
    assert _json(viewer, "/api/watched", {"content_id": ep1, "watched": False}).json() == {
        "content_id": ep1,
        "watched": False,
    }
    assert viewer.get("/api/series/s-wsop-2024-me").json()["episodes_left"] == 1
    assert _json(viewer, "/api/my-list", {"series_id": "s-zeta"}).status_code == 200
    assert _json(viewer, "/api/my-list", {"content_id": ep1}).status_code == 200
    assert [(e["content_id"], e["series_id"]) for e in viewer.get("/api/my-list").json()] == [
        (ep1, None),
        (None, "s-zeta"),
    ]
    _form(viewer, f"/my-list/content/{ep1}", on="0")
    assert len(viewer.get("/api/my-list").json()) == 1
    assert _json(viewer, "/api/my-list", {}).status_code == 422
    assert _json(viewer, "/api/my-list", {"content_id": "nope"}).status_code == 404
    assert viewer.get("/api/prefs").json() == {"autoplay": True}
    assert _json(viewer, "/api/prefs", {"autoplay": False}).json() == {"autoplay": False}
    assert 'id="autoplay"' in viewer.get("/settings").text
    assert "checked" not in viewer.get("/settings").text.split('id="autoplay"')[0][-80:]
    # another user's state is their own
    boss = _client(env, "boss")
    assert boss.get(f"/api/contents/{ep1}").json()["watched"] is False
    assert boss.get("/api/my-list").json() == []


def test_next_and_previous(world: tuple[WebEnv, browsing_data.More]) -> None:
    env, more = world
    viewer = _client(env, "viewer")

    def around(content_id: str) -> tuple[str | None, str | None]:
        found = viewer.get(f"/api/contents/{content_id}").json()
        return found["previous"], found["next"]

    assert around(env.ids.ep1) == (None, env.ids.ep2)
    assert around(env.ids.ep2) == (env.ids.ep1, more.final_table)
    assert around(more.final_table) == (env.ids.ep2, None)
    assert around(env.ids.clip) == (None, None)
    assert around(more.alpha) == (None, None)  # the clip cut as a file is not an episode
    page = viewer.get(f"/content/{env.ids.ep2}").text
    assert 'id="previous-link"' in page and 'id="next-link"' in page
    watch = viewer.get(f"/watch/{env.ids.ep2}?autoplay=1").text
    assert f'data-url="/watch/{more.final_table}?autoplay=1"' in watch and "data-autoplay" in watch


def test_pages_and_clips_rows(world: tuple[WebEnv, browsing_data.More]) -> None:
    env, more = world
    viewer = _client(env, "viewer")
    home = viewer.get("/").text
    assert 'id="clips"' in home and more.own_clip in home and env.ids.clip in home
    brand = viewer.get("/brand/wsop?sort=title").text
    order = [brand.index(f'data-item="{s}"') for s in ("s-wsop-2024-me", "s-alpha", "s-zeta")]
    assert order == sorted(order)
    assert viewer.get("/brand/wsop?sort=bogus").status_code == 200  # unknown: the default
    series = viewer.get("/series/s-alpha").text
    assert 'id="clips"' in series and more.own_clip in series
    # tiles: the title under the picture, not the brand printed over it
    assert "poster-title" not in home


def test_posters(world: tuple[WebEnv, browsing_data.More], tmp_path: Path) -> None:
    env, _more = world
    viewer, editor = _client(env, "viewer"), _client(env, "eddie")
    # default: the first episode's frame (placeholder here until a frame is made)
    assert viewer.get("/poster/series/s-wsop-2024-me").status_code == 200
    assert viewer.get("/poster/brand/wsop").status_code == 200
    assert viewer.get("/poster/series/nope").status_code == 404
    image = _png(2000, 1000)
    upload = {"image": ("p.png", image, "image/png")}
    refused = viewer.post(
        "/poster/series/s-wsop-2024-me", data={"csrf": viewer.headers["X-Test-CSRF"]}, files=upload
    )
    assert refused.status_code == 403  # viewers cannot
    with job_system(env.settings):
        done = editor.post(
            "/poster/series/s-wsop-2024-me",
            data={"csrf": editor.headers["X-Test-CSRF"], "next": "/series/s-wsop-2024-me"},
            files=upload,
        )
        assert done.headers["location"] == "/series/s-wsop-2024-me?poster=saved"
        shown = viewer.get("/poster/series/s-wsop-2024-me")
        assert shown.headers["content-type"] == "image/jpeg" and "etag" in shown.headers
        from PIL import Image

        assert Image.open(io.BytesIO(shown.content)).size == (1280, 640)  # scaled to fit
        again = viewer.get(
            "/poster/series/s-wsop-2024-me", headers={"If-None-Match": shown.headers["etag"]}
        )
        assert again.status_code == 304
        page = viewer.get("/series/s-wsop-2024-me").text
        assert "/poster/series/s-wsop-2024-me?v=" in page
        # a frame of one of its episodes for the brand
        frame = editor.post(
            "/poster/brand/wsop",
            data={
                "csrf": editor.headers["X-Test-CSRF"],
                "content_id": env.ids.ep1,
                "position_s": "20",
            },
            headers={"Accept": "application/json"},
        )
        assert frame.json() == {"poster": "saved"}
        conn = env.conn()
        chosen = artwork.get(conn, "catalog", "wsop")
        assert chosen is not None and (chosen.source, chosen.position_s) == ("frame", 20.0)
        assert chosen.set_by == "eddie"
        conn.close()
        brand = viewer.get("/poster/brand/wsop")
        assert brand.status_code == 200 and brand.headers["content-type"] == "image/jpeg"
        # a frame of another brand's content is refused by the writer
        wrong = editor.post(
            "/poster/brand/wsop",
            data={
                "csrf": editor.headers["X-Test-CSRF"],
                "content_id": env.ids.hcl1,
                "position_s": "1",
            },
            headers={"Accept": "application/json"},
        )
        assert wrong.status_code == 400 and wrong.json() == {"poster": "refused"}
        # not an image
        junk = editor.post(
            "/poster/series/s-wsop-2024-me",
            data={"csrf": editor.headers["X-Test-CSRF"]},
            files={"image": ("x.png", b"GIF89a nope", "image/png")},
            headers={"Accept": "application/json"},
        )
        assert junk.json() == {"poster": "invalid"}
        # back to the default
        reset = _form(editor, "/poster/series/s-wsop-2024-me", reset="1", next="/")
        assert reset.headers["location"] == "/?poster=saved"
        conn = env.conn()
        assert artwork.get(conn, "series", "s-wsop-2024-me") is None
        conn.close()
    # no writer running: the change waits in the queue and the page says so
    slow = make_env(tmp_path / "slow", env.root, edit_timeout_s=0.5)
    conn = slow.conn()
    accounts.add_user(conn, "eddie", PASSWORD, role="editor")
    conn.close()
    quiet = _client(slow, "eddie")
    queued = quiet.post(
        "/poster/series/s-wsop-2024-me",
        data={"csrf": quiet.headers["X-Test-CSRF"], "next": "/"},
        files=upload,
    )
    assert queued.headers["location"] == "/?poster=queued"


def test_prepare_upload() -> None:
    jpeg, width, height = posters.prepare_upload(_png(640, 360, "WEBP"), 10_000_000)
    assert jpeg[:3] == b"\xff\xd8\xff" and (width, height) == (640, 360)
    with pytest.raises(InvalidUpload):
        posters.prepare_upload(b"", 1000)
    with pytest.raises(InvalidUpload):
        posters.prepare_upload(_png(100, 100), 10)  # too large
    with pytest.raises(InvalidUpload):
        posters.prepare_upload(b"<svg xmlns='http://www.w3.org/2000/svg'/>", 10_000)


def test_limited_viewers_see_only_their_brands(world: tuple[WebEnv, browsing_data.More]) -> None:
    env, more = world
    lim = _client(env, "lim")
    assert lim.get("/poster/series/s-wsop-2024-me").status_code == 404
    assert lim.get("/poster/brand/wsop").status_code == 404
    assert _form(lim, f"/watched/{env.ids.ep1}", on="1").status_code == 404
    assert _form(lim, "/my-list/series/s-wsop-2024-me", on="1").status_code == 404
    assert _json(lim, "/api/watched", {"content_id": env.ids.ep1}).status_code == 404
    assert _json(lim, "/api/my-list", {"content_id": env.ids.ep1}).status_code == 404
    assert _json(lim, "/api/my-list", {"series_id": "s-wsop-2024-me"}).status_code == 404
    home = lim.get("/").text
    assert more.own_clip not in home and env.ids.clip not in home
    # an entry made before the limit stays out of sight
    conn = env.conn()
    lim_id = conn.execute("SELECT id FROM users WHERE username = 'lim'").fetchone()[0]
    my_list.put(conn, lim_id, "content", env.ids.ep1, True)
    conn.close()
    assert env.ids.ep1 not in lim.get("/").text
    assert lim.get("/api/my-list").json() == []


def test_artwork_apply_rules(tmp_path: Path, web_media: Path) -> None:
    from tests.web.catalog_data import seed

    conn = db.connect(tmp_path / "a.db")
    ids = seed(conn, web_media, "src")
    stamp = db.timestamp(db.utc_now())
    from archive_analyzer.errors import CatalogError, NotFound

    with db.transaction(conn):
        assert artwork.apply(
            conn,
            artwork.Change("series", "s-hcl-2025", "e", content_id=ids.hcl1, position_s=2),
            stamp,
        )
        with pytest.raises(NotFound):
            artwork.apply(conn, artwork.Change("series", "nope", "e"), stamp)
        with pytest.raises(CatalogError):
            artwork.apply(
                conn,
                artwork.Change("series", "s-hcl-2025", "e", content_id=ids.ep1, position_s=1),
                stamp,
            )
        # a hand belongs to its episode's series
        assert artwork.apply(
            conn,
            artwork.Change("series", "s-wsop-2024-me", "e", content_id=ids.clip, position_s=11),
            stamp,
        )
        assert artwork.apply(conn, artwork.Change("series", "s-hcl-2025", "e"), stamp)  # reset
        assert not artwork.apply(conn, artwork.Change("series", "s-hcl-2025", "e"), stamp)
    assert artwork.get(conn, "series", "s-hcl-2025") is None
    assert artwork.get(conn, "series", "s-wsop-2024-me") is not None
