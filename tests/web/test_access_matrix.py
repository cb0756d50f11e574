"""Every route x every kind of caller (httpx): who gets in, who is refused, and how.

Routes are discovered from the app; the role each one needs is read from its dependencies
(``deps.require_role`` / ``page_user`` mark it), so a route added later is checked too, and a
route that declares no role fails here. Callers: anonymous, a session that must change its
password, viewer, editor, admin, a viewer limited to one brand, a read-only token, a revoked
token, an expired stream link, a stream link of another content, a valid stream link.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from archive_analyzer.web import accounts
from archive_analyzer.web.accounts import Role
from tests.web.conftest import PASSWORD, WebEnv, login, make_env
from tests.web.test_api import _api_routes, _machine

PUBLIC = {"/login", "/lang/{code}"}
INTERNAL = "/internal/"  # loopback ffmpeg tokens: 404 for every caller without one
RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2}


@dataclass
class Caller:
    name: str
    client: TestClient
    role: Role | None = None  # None: not a usable account
    kind: str = "session"  # session, token, anonymous, must_change, link
    limited: bool = False
    query: str = ""  # a stream link's query (link callers)
    notes: list[str] = field(default_factory=list)


def _walk(dependant: Any) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _walk(sub)


def needs(route: APIRoute) -> Role | str:
    """The role a route requires, or 'public' / 'password' / 'internal' / 'metrics'."""
    if route.path in PUBLIC:
        return "public"
    if route.path.startswith(INTERNAL):
        return "internal"
    if route.path == "/metrics":
        return "metrics"
    calls = list(_walk(route.dependant))
    roles = [c.required_role for c in calls if hasattr(c, "required_role")]  # type: ignore[attr-defined]
    if roles:
        return max(roles, key=lambda r: RANK[r])
    if any(getattr(c, "must_change_allowed", False) for c in calls):
        return "password"
    raise AssertionError(f"{route.path} declares no role (deps.require_role / page_user)")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebEnv, list[Caller]]]:
    from argon2 import PasswordHasher

    from tests.web.catalog_data import media_root

    previous = accounts.hasher()
    accounts.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    env = make_env(tmp_path_factory.mktemp("matrix"), media_root())
    conn = env.conn()
    accounts.add_user(conn, "eddie", PASSWORD, role="editor")
    accounts.add_user(conn, "lim", PASSWORD)
    accounts.set_brands(conn, "lim", ["hcl"])
    accounts.add_user(conn, "newbie", PASSWORD, must_change_password=True)
    conn.close()

    def session(name: str) -> TestClient:
        client = TestClient(env.app, follow_redirects=False)
        client.headers["X-Test-CSRF"] = login(client, name)
        return client

    def link(client: TestClient, content_id: str) -> str:
        reply = client.post(
            f"/api/contents/{content_id}/stream-link",
            headers={"X-CSRF-Token": client.headers["X-Test-CSRF"]},
        )
        return urlsplit(reply.json()["url"]).query

    viewer = session("viewer")
    expired = link(viewer, env.ids.ep1)
    env.clock.advance(hours=13)  # past the 12 h of a link, within a session's idle time
    other_content = link(viewer, env.ids.hcl1)
    valid = link(viewer, env.ids.ep1)

    def bearer(token: str) -> TestClient:
        return TestClient(
            env.app, follow_redirects=False, headers={"Authorization": f"Bearer {token}"}
        )

    def new_token(name: str) -> str:
        page = viewer.post(
            "/account/tokens", data={"name": name, "csrf": viewer.headers["X-Test-CSRF"]}
        )
        match = re.search(r'value="(aat_[^"]+)"', page.text)
        assert match
        return match.group(1)

    token = new_token("matrix")
    revoked = new_token("gone")
    conn = env.conn()
    gone_id = conn.execute("SELECT id FROM api_tokens WHERE name = 'gone'").fetchone()[0]
    conn.close()
    viewer.post(f"/account/tokens/{gone_id}/revoke", data={"csrf": viewer.headers["X-Test-CSRF"]})

    must_change = TestClient(env.app, follow_redirects=False)
    must_change.get("/login")
    from tests.web.conftest import csrf_from

    csrf = csrf_from(must_change.get("/login").text)
    must_change.post("/login", data={"username": "newbie", "password": PASSWORD, "csrf": csrf})
    nobody = TestClient(env.app, follow_redirects=False)
    callers = [
        Caller("anonymous", nobody, kind="anonymous"),
        Caller("must-change", must_change, kind="must_change"),
        Caller("viewer", viewer, Role.VIEWER),
        Caller("editor", session("eddie"), Role.EDITOR),
        Caller("admin", session("boss"), Role.ADMIN),
        Caller("limited viewer", session("lim"), Role.VIEWER, limited=True),
        Caller("token", bearer(token), Role.VIEWER, kind="token"),
        Caller("revoked token", bearer(revoked), kind="bad_token"),
        Caller("expired link", nobody, kind="link", query=expired),
        Caller("link of another content", nobody, kind="link", query=other_content),
        Caller("valid link", nobody, Role.VIEWER, kind="valid_link", query=valid),
    ]
    yield env, callers
    accounts.use_hasher(previous)


def _urls(route: APIRoute, env: WebEnv, other_brand: bool) -> str:
    ids = env.ids
    values = {
        "{content_id}": ids.hcl1 if other_brand else ids.ep1,
        "{catalog_id}": "hcl" if other_brand else "wsop",
        "{series_id}": "s-hcl-2025" if other_brand else "s-wsop-2024-me",
        "{segment}": "0.ts",
        "{file_id}": ids.file_ep1,
        "{code}": "ko",
        "{username}": "viewer",
        "{session_id}": "0" * 32,
        "{token_id}": "0" * 32,
        "{token}": "x",
        "{hand_id}": ids.clip,
        "{key}": "0" * 24,  # an export never asked for: the role check is what is tested
    }
    url = route.path
    for key, value in values.items():
        url = url.replace(key, value)
    if url in ("/search", "/api/search"):
        url += "?q=negreanu"
    if url == "/api/contents":
        url += "?catalog=wsop"
    if url == "/exports/edit-list":
        url += f"?format=edl&series={'s-hcl-2025' if other_brand else 's-wsop-2024-me'}"
    return url


HIDDEN_FROM_LIMITED = ("ep1", "ep2", "clip")


def _expect(caller: Caller, need: Role | str, url: str, method: str, post: bool) -> set[int]:
    machine = _machine(urlsplit(url).path)
    to_login = {303}
    stream = url.startswith("/stream/")
    if need == "internal":
        return {404}
    if need == "metrics":
        if caller.kind in ("bad_token", "link", "valid_link", "anonymous"):
            return {401}
        if caller.role is Role.ADMIN:
            return {200}
        return {403} if caller.role is not None or caller.kind == "must_change" else {401}
    if caller.kind in ("link", "valid_link") and stream:
        if caller.kind == "link":
            return {403}
        return {200}
    anonymous = caller.kind in ("anonymous", "link", "valid_link")
    if anonymous or (caller.kind == "bad_token" and not machine):
        return {401} if machine else to_login
    if caller.kind == "bad_token":
        return {401}
    if caller.kind == "must_change":
        if need == "password":
            return {403} if post else {200}  # POSTs here lack the CSRF token
        return {403} if machine else {303}
    if need == "password":
        if caller.kind == "token":
            return to_login
        return {403} if post else {200}
    assert isinstance(need, Role) and caller.role is not None
    if caller.kind == "token" and not machine:
        return to_login
    if caller.kind == "token" and post:
        return {403}  # read-only
    if RANK[caller.role] < RANK[need]:
        return {403}
    if post:
        return {403}  # no CSRF token: refused before anything happens
    return {200}


def test_every_route_for_every_caller(world: tuple[WebEnv, list[Caller]]) -> None:
    env, callers = world
    routes = [r for r in _api_routes(env.app.routes)]
    assert len(routes) >= 45
    checked = 0
    failures: list[str] = []
    for route in routes:
        need = needs(route)
        if need == "public":
            continue
        for method in sorted(route.methods):
            for caller in callers:
                variants = [False, True] if caller.limited else [False]
                for other_brand in variants:
                    url = _urls(route, env, other_brand)
                    if caller.query and url.startswith("/"):
                        url += ("&" if "?" in url else "?") + caller.query
                    post = method in ("POST", "PUT", "PATCH", "DELETE")
                    expected = _expect(caller, need, url, method, post)
                    if "{key}" in route.path and expected == {200}:
                        expected = {404}  # allowed in, but no such export
                    scoped = any(
                        k in route.path for k in ("{content_id}", "{catalog_id}", "{series_id}")
                    )
                    if caller.limited and not other_brand and expected == {200} and scoped:
                        expected = {404}  # a wsop content / brand / series; limited to hcl
                    reply = caller.client.request(method, url)
                    if reply.status_code not in expected:
                        failures.append(
                            f"{caller.name} {method} {url}: {reply.status_code} "
                            f"(expected {sorted(expected)})"
                        )
                    if reply.status_code == 303 and expected == {303}:
                        target = reply.headers["location"]
                        wanted = "/account/password" if caller.kind == "must_change" else "/login"
                        if not target.startswith(wanted):
                            failures.append(f"{caller.name} {method} {url}: to {target}")
                    if caller.limited and reply.status_code == 200 and method == "GET":
                        for key in HIDDEN_FROM_LIMITED:
                            if getattr(env.ids, key) in reply.text:
                                failures.append(f"limited viewer sees {key} at {url}")
                        if "s-wsop-2024-me" in reply.text:
                            failures.append(f"limited viewer sees the wsop series at {url}")
                    checked += 1
    assert not failures, "\n".join(failures)
    assert checked >= 400


def test_limited_viewer_searches_only_their_brand(world: tuple[WebEnv, list[Caller]]) -> None:
    env, callers = world
    limited = next(c for c in callers if c.limited).client
    viewer = next(c for c in callers if c.name == "viewer").client
    for q in ("negreanu", "ㄴㄱㄹㅇㄴ", "ivey", "main event", "ep"):
        everyone = {i["id"] for i in viewer.get("/api/search", params={"q": q}).json()["items"]}
        mine = limited.get("/api/search", params={"q": q}).json()
        assert {i["id"] for i in mine["items"]} == everyone & {env.ids.hcl1}, q
        assert mine["total"] == len(mine["items"])
    assert [c["id"] for c in limited.get("/api/catalogs").json()] == ["hcl"]
    assert limited.get("/api/contents", params={"catalog": "wsop"}).json()["total"] == 0
    assert limited.get("/api/contents", params={"catalog": "hcl"}).json()["total"] == 1
    # every content, newest first, and a cursor walk: the limited viewer's brand only
    everything = limited.get("/api/contents", params={"per_page": 1}).json()
    assert everything["total"] == 1 and everything["next_cursor"] is None
    assert [i["id"] for i in everything["items"]] == [env.ids.hcl1]
    assert viewer.get("/api/contents", params={"per_page": 1}).json()["next_cursor"]
    me = limited.get("/api/me").json()
    assert me["brands"] == ["hcl"]
    home = limited.get("/").text
    assert env.ids.hcl1 in home and env.ids.ep1 not in home
    token = limited.headers["X-Test-CSRF"]
    saved = limited.post(
        "/api/progress",
        json={"content_id": env.ids.ep1, "position_s": 1},
        headers={"X-CSRF-Token": token},
    )
    assert saved.status_code == 404


def test_every_route_declares_a_role(world: tuple[WebEnv, list[Caller]]) -> None:
    env, _ = world
    found = {r.path: needs(r) for r in _api_routes(env.app.routes)}
    assert found["/admin/users"] is Role.ADMIN and found["/admin/audit"] is Role.ADMIN
    assert found["/api/search"] is Role.VIEWER and found["/stream/{content_id}"] is Role.VIEWER
    assert found["/account/password"] == "password"
