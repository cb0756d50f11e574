"""The app's routes over HTTP (httpx via Starlette's TestClient): access control, pages, API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from archive_analyzer.catalog import db, search_index
from tests.web.conftest import PASSWORD, WebEnv, csrf_from, login

PUBLIC = {"/login", "/lang/{code}"}


def _concrete(path: str, web: WebEnv) -> str:
    known = (
        path.replace("{content_id}", web.ids.ep1)
        .replace("{catalog_id}", "wsop")
        .replace("{series_id}", "s-wsop-2024-me")
        .replace("{code}", "ko")
    )
    return re.sub(r"\{[^}]+\}", "x", known)  # parameters of routes added by other areas


def _machine(url: str) -> bool:
    from archive_analyzer.web import app as app_module

    if url in app_module._PAGES_UNDER_API:
        return False
    return any(url == p or url.startswith(p + "/") for p in app_module._MACHINE_PREFIXES)


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    # FastAPI >= 0.16x keeps included routers as wrappers holding the original router.
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _api_routes(inner.routes)


def test_every_route_needs_login(web: WebEnv, anon: TestClient) -> None:
    routes = list(_api_routes(web.app.routes))
    assert len(routes) >= 15
    checked = 0
    for route in routes:
        if route.path in PUBLIC:
            continue
        for method in route.methods:
            url = _concrete(route.path, web)
            response = anon.request(method, url)
            machine = _machine(url)
            if url.startswith(("/api/", "/stream/")) and machine:
                assert response.status_code == 401, (method, url)
                if method != "HEAD":
                    assert response.json() == {"detail": "login required"}
            elif machine:  # other areas' machine routes (e.g. internal tokens): never 2xx
                assert response.status_code in (401, 403, 404), (method, url)
            else:
                assert response.status_code == 303, (method, url)
                assert response.headers["location"].startswith("/login?next=")
            checked += 1
    assert checked >= 15


def test_static_assets_are_local(anon: TestClient) -> None:
    page = anon.get("/login")
    assert page.status_code == 200
    assert "http://" not in page.text and "https://" not in page.text
    assert anon.get("/static/app.css").status_code == 200
    assert anon.get("/static/player/main.js").status_code == 200
    assert anon.get("/static/../web.db").status_code == 404


def test_login_redirects_back_and_rejects_foreign_next(web: WebEnv, anon: TestClient) -> None:
    token = csrf_from(anon.get("/login").text)
    response = anon.post(
        "/login",
        data={"username": "viewer", "password": PASSWORD, "csrf": token, "next": "//evil.test/x"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_login_with_next(web: WebEnv, anon: TestClient) -> None:
    token = csrf_from(anon.get("/login").text)
    response = anon.post(
        "/login",
        data={"username": "viewer", "password": PASSWORD, "csrf": token, "next": "/brand/wsop"},
    )
    assert response.headers["location"] == "/brand/wsop"


def test_login_without_csrf_refused(anon: TestClient) -> None:
    anon.get("/login")
    response = anon.post("/login", data={"username": "viewer", "password": PASSWORD})
    assert response.status_code == 403
    assert anon.get("/api/catalogs").status_code == 401


def test_wrong_password_then_throttled(web: WebEnv, anon: TestClient) -> None:
    token = csrf_from(anon.get("/login").text)
    for _ in range(5):
        bad = anon.post("/login", data={"username": "viewer", "password": "nope", "csrf": token})
        assert bad.status_code == 401
    blocked = anon.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf": token})
    assert blocked.status_code == 429
    web.clock.advance(minutes=16)
    ok = anon.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf": token})
    assert ok.status_code == 303


def test_logout_needs_csrf(client: TestClient) -> None:
    assert client.post("/logout").status_code == 403
    assert client.get("/api/catalogs").status_code == 200
    token = client.headers["X-Test-CSRF"]
    assert client.post("/logout", data={"csrf": token}).status_code == 303
    assert client.get("/api/catalogs").status_code == 401


def test_pages_render(web: WebEnv, client: TestClient) -> None:
    home = client.get("/")
    assert home.status_code == 200
    assert "WSOP 2024 Main Event _ Day 1A (Part 1)" in home.text
    assert "Content-Security-Policy" in home.headers
    brand = client.get("/brand/wsop")
    assert "2024 WSOP Main Event" in brand.text
    series = client.get("/series/s-wsop-2024-me")
    assert "Day 2 (Part 2)" in series.text and "1080p" in series.text
    assert "Hidden Secret Episode" not in series.text
    content = client.get(f"/content/{web.ids.ep1}")
    assert content.status_code == 200
    assert "Hand 12 - Negreanu vs Ivey" in content.text and "0:00:10" in content.text
    assert "다니엘 네그레아누" in content.text and "H264" in content.text
    # containers and languages by name, not ffprobe's format list or "und"
    assert "MP4" in content.text and "mov,mp4" not in content.text
    assert "language unknown" in content.text
    watch = client.get(f"/watch/{web.ids.clip}")
    assert f'src="/stream/{web.ids.clip}#t=10.0,15.0"' in watch.text
    assert client.get(f"/content/{web.ids.hidden}").status_code == 404


def test_language_switch_and_accept_language(client: TestClient) -> None:
    korean = client.get("/", headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"})
    assert "최근 추가됨" in korean.text and '<html lang="ko">' in korean.text
    english = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Recently added" in english.text
    switched = client.get("/lang/ko?next=/brand/wsop")
    assert switched.status_code == 303 and switched.headers["location"] == "/brand/wsop"
    assert "최근 추가됨" in client.get("/", headers={"Accept-Language": "en"}).text
    assert client.get("/lang/en?next=https://evil.test").headers["location"] == "/"


def test_api_catalog_series_content(web: WebEnv, client: TestClient) -> None:
    catalogs = client.get("/api/catalogs").json()
    assert [c["id"] for c in catalogs] == ["wsop", "hcl"]
    brand = client.get("/api/catalogs/wsop").json()
    assert brand["series"][0]["title"] == "2024 WSOP Main Event"
    series = client.get("/api/series/s-wsop-2024-me").json()
    assert [c["day"] for c in series["contents"]] == ["1A", "2"]
    content = client.get(f"/api/contents/{web.ids.ep1}").json()
    assert content["media"]["video_codec"] == "h264"
    assert content["clips"][0]["start_sec"] == 10.0
    assert {p["name_kr"] for p in content["players"]} == {"다니엘 네그레아누", "필 아이비"}
    listed = client.get("/api/contents", params={"catalog": "wsop"}).json()
    assert listed["total"] == 3  # two episodes and the clip
    by_series = client.get("/api/contents", params={"series": "s-hcl-2025"}).json()
    assert by_series["items"][0]["id"] == web.ids.hcl1


def test_api_search(web: WebEnv, client: TestClient) -> None:
    result = client.get("/api/search", params={"q": "네그레아누"}).json()
    assert {i["id"] for i in result["items"]} == {web.ids.ep1, web.ids.clip, web.ids.hcl1}
    assert client.get("/api/search", params={"q": "ㄴㄱㄹㅇㄴ"}).json()["total"] == 3
    ivey = client.get("/api/search", params={"q": "ivey", "brand": "wsop"}).json()
    assert ivey["total"] == 2
    year = client.get("/api/search", params={"q": "negreanu", "year": 2025}).json()
    assert [i["id"] for i in year["items"]] == [web.ids.hcl1]
    player = client.get("/api/search", params={"q": "", "player": web.ids.ivey}).json()
    assert player["total"] == 2
    paged = client.get("/api/search", params={"q": "negreanu", "per_page": 1, "page": 2}).json()
    assert paged["total"] == 3 and paged["pages"] == 3 and len(paged["items"]) == 1
    # the cursor walks the same ranking the pages do
    by_page = [
        client.get("/api/search", params={"q": "negreanu", "per_page": 1, "page": n}).json()
        for n in (1, 2, 3)
    ]
    walked = _walk(client, "/api/search", q="negreanu", per_page=1)
    assert walked == [page["items"][0]["id"] for page in by_page]
    assert by_page[2]["next_cursor"] is None


def _walk(client: TestClient, url: str, **params: Any) -> list[str]:
    """Every item id of a listing, following next_cursor from the first page."""
    seen: list[str] = []
    body = client.get(url, params=params).json()
    while True:
        seen += [item["id"] for item in body["items"]]
        if body["next_cursor"] is None:
            return seen
        body = client.get(url, params={**params, "cursor": body["next_cursor"]}).json()
        assert body["page"] is None


def test_api_contents_without_a_filter_lists_every_content_newest_first(
    web: WebEnv, client: TestClient
) -> None:
    visible = {web.ids.ep1, web.ids.ep2, web.ids.hcl1, web.ids.clip}
    listed = client.get("/api/contents").json()
    assert listed["total"] == 4 and {item["id"] for item in listed["items"]} == visible
    keys = [(item["created_at"], item["id"]) for item in listed["items"]]
    assert keys == sorted(keys, reverse=True)
    assert listed["page"] == 1 and listed["next_cursor"] is None
    # its filters are kept
    assert client.get("/api/contents", params={"year": 2025}).json()["total"] == 1
    both = client.get("/api/contents", params={"catalog": "wsop", "year": 2024}).json()
    assert both["total"] == 3
    # page by page and cursor by cursor give the same listing
    by_page = [
        client.get("/api/contents", params={"per_page": 1, "page": n}).json()["items"][0]["id"]
        for n in range(1, 5)
    ]
    assert _walk(client, "/api/contents", per_page=1) == by_page
    assert _walk(client, "/api/contents", per_page=3, series="s-wsop-2024-me") == [
        web.ids.ep1,
        web.ids.ep2,
    ]


def test_api_contents_cursor_keeps_its_place_when_contents_are_added(
    web: WebEnv, client: TestClient
) -> None:
    first = client.get("/api/contents", params={"per_page": 2}).json()
    conn = web.conn()
    try:
        with db.transaction(conn):  # a newer episode arrives between two page requests
            conn.execute(
                "INSERT INTO contents (id, kind, series_id, catalog_id, title, created_at, "
                "updated_at) VALUES ('newer', 'episode', 's-hcl-2025', 'hcl', 'Newer', "
                "'2100-01-01T00:00:00.000000Z', '2100-01-01T00:00:00.000000Z')"
            )
            search_index.catch_up(conn)
    finally:
        conn.close()
    rest = client.get(
        "/api/contents", params={"per_page": 2, "cursor": first["next_cursor"]}
    ).json()
    ids = [item["id"] for item in first["items"] + rest["items"]]
    assert len(ids) == len(set(ids)) == 4 and "newer" not in ids  # no repeat, no skip
    assert rest["total"] is None and rest["next_cursor"] is None  # counted on page requests
    assert client.get("/api/contents").json()["total"] == 5


def test_api_cursors_are_refused_elsewhere(web: WebEnv, client: TestClient) -> None:
    contents = client.get("/api/contents", params={"per_page": 1}).json()["next_cursor"]
    found = client.get("/api/search", params={"q": "negreanu", "per_page": 1}).json()
    assert found["next_cursor"]
    # a cursor belongs to its listing and filters; junk is a 400, never a 500
    for url, params in [
        ("/api/contents", {"cursor": contents, "catalog": "hcl"}),
        ("/api/search", {"q": "negreanu", "cursor": contents}),
        ("/api/search", {"q": "ivey", "cursor": found["next_cursor"]}),
        ("/api/contents", {"cursor": "not-a-cursor"}),
        ("/api/contents", {"cursor": "eyJ2IjoxfQ"}),
        ("/api/search", {"q": "x", "cursor": "%%%"}),
    ]:
        response = client.get(url, params=params)
        assert response.status_code == 400, (url, params)
        assert "cursor" in response.json()["detail"]


HOSTILE = [
    "../../../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "x' OR '1'='1",
    "1; DROP TABLE users; --",
    '" OR 1=1 --',
    "WSOP/2024 WSOP Main Event/WSOP 2024 Main Event _ Day 1A (Part 1).mp4",
    "/etc/passwd",
    "..",
    "%00",
]


def test_hostile_ids_are_not_found(web: WebEnv, client: TestClient) -> None:
    prefixes = (
        "/stream/",
        "/api/contents/",
        "/api/series/",
        "/api/catalogs/",
        "/content/",
        "/watch/",
        "/series/",
        "/brand/",
    )
    for hostile in HOSTILE:
        for prefix in prefixes:
            response = client.get(prefix + hostile)
            assert not response.headers.get("content-type", "").startswith("video/")
            if hostile != "..":  # the client itself resolves "/x/.." to "/"
                assert response.status_code in (404, 405), (prefix, hostile, response.status_code)
            assert b"root:" not in response.content
    conn = web.conn()
    assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 2
    conn.close()


SEARCH_HOSTILE = [
    *HOSTILE,
    'NEAR("a" "b")',
    "title:foo",
    "a AND OR NOT",
    "*",
    '"',
    "((",
    "%",
    "_",
    "\\",
    "ㄱ",
]


def test_hostile_search_strings(web: WebEnv, client: TestClient) -> None:
    for hostile in SEARCH_HOSTILE:
        response = client.get("/api/search", params={"q": hostile})
        assert response.status_code == 200, hostile
        assert web.ids.hidden not in response.text
        page = client.get("/search", params={"q": hostile, "brand": hostile, "player": hostile})
        assert page.status_code == 200, hostile
        assert client.get("/api/search", params={"q": "x", "year": hostile}).status_code == 422
    assert client.get("/search", params={"q": "wsop", "page": "abc"}).status_code == 200
    # a wildcard-looking short query matches literally, not everything
    assert client.get("/api/search", params={"q": "%"}).json()["total"] == 0


def test_progress_requires_csrf_and_resumes(web: WebEnv, client: TestClient) -> None:
    body = {"content_id": web.ids.ep1, "position_s": 12.5}
    assert client.post("/api/progress", json=body).status_code == 403
    bad = client.post("/api/progress", json=body, headers={"X-CSRF-Token": "forged"})
    assert bad.status_code == 403
    token = client.headers["X-Test-CSRF"]
    saved = client.post("/api/progress", json=body, headers={"X-CSRF-Token": token})
    assert saved.status_code == 200 and saved.json()["finished"] is False
    assert client.get("/api/progress").json()[0]["position_s"] == 12.5
    home = client.get("/")
    assert "Continue watching" in home.text
    assert 'data-resume="12.5"' in client.get(f"/watch/{web.ids.ep1}").text
    done = client.post(
        "/api/progress",
        json={"content_id": web.ids.clip, "position_s": 14.9},
        headers={"X-CSRF-Token": token},
    )
    assert done.json()["finished"] is True
    missing = client.post(
        "/api/progress",
        json={"content_id": "../etc/passwd", "position_s": 1},
        headers={"X-CSRF-Token": token},
    )
    assert missing.status_code == 404


def test_api_me_gives_csrf_token(client: TestClient) -> None:
    me = client.get("/api/me").json()
    assert me["username"] == "viewer" and me["role"] == "viewer"
    assert me["csrf_token"] == client.headers["X-Test-CSRF"]


def test_docs_are_local_and_behind_login(client: TestClient, anon: TestClient) -> None:
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/api/search" in docs.text
    assert "cdn" not in docs.text.lower()
    schema = client.get("/api/openapi.json").json()
    assert "/stream/{content_id}" in schema["paths"]
    assert anon.get("/api/openapi.json").status_code == 401
    assert client.get("/docs").status_code == 404


def test_first_admin_must_change_password(web: WebEnv, anon: TestClient) -> None:
    from archive_analyzer.web import accounts

    conn = web.conn()
    conn.execute("DELETE FROM users")
    password = accounts.ensure_first_admin(conn)
    assert password and accounts.ensure_first_admin(conn) is None
    conn.close()
    token = csrf_from(anon.get("/login").text)
    response = anon.post("/login", data={"username": "admin", "password": password, "csrf": token})
    assert response.headers["location"] == "/account/password"
    assert anon.get("/").headers["location"] == "/account/password"
    token = csrf_from(anon.get("/account/password").text)
    changed = anon.post(
        "/account/password",
        data={
            "current": password,
            "password": "a new secret 1",
            "repeat": "a new secret 1",
            "csrf": token,
        },
    )
    assert changed.status_code == 303
    assert anon.get("/").status_code == 200


def test_password_change_ends_other_sessions(web: WebEnv, client: TestClient) -> None:
    from archive_analyzer.web import accounts

    conn = web.conn()
    accounts.set_password(conn, "viewer", "another password")
    conn.close()
    assert client.get("/api/catalogs").status_code == 401
    with TestClient(web.app, follow_redirects=False) as other:
        login(other, "viewer", "another password")
        assert other.get("/api/catalogs").status_code == 200
