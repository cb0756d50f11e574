"""Personal access tokens (Authorization: Bearer) and signed stream links (httpx)."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from archive_analyzer.web import accounts
from tests.web.conftest import WebEnv, login


def _create(client: TestClient, name: str, days: str = "90") -> str:
    page = client.post(
        "/account/tokens", data={"name": name, "days": days, "csrf": client.headers["X-Test-CSRF"]}
    )
    assert page.status_code == 200, page.text
    match = re.search(
        r'id="new-token-value" [^>]*value="(aat_[^"]+)"|value="(aat_[^"]+)"', page.text
    )
    assert match, "the new token is shown"
    return match.group(1) or match.group(2)


def _bearer(web: WebEnv, token: str) -> TestClient:
    return TestClient(web.app, follow_redirects=False, headers={"Authorization": f"Bearer {token}"})


def test_token_is_shown_once_hashed_and_read_only(web: WebEnv, client: TestClient) -> None:
    raw = _create(client, "nightly report")
    assert raw.startswith("aat_") and len(raw) > 40
    later = client.get("/account")
    assert "nightly report" in later.text and raw not in later.text  # shown once
    conn = web.conn()
    stored = conn.execute("SELECT token_hash, scope FROM api_tokens").fetchone()
    conn.close()
    assert tuple(stored) == (hashlib.sha256(raw.encode()).hexdigest(), "read")

    script = _bearer(web, raw)
    assert script.get("/api/me").json()["username"] == "viewer"
    assert script.get("/api/catalogs").status_code == 200
    assert script.get("/api/search", params={"q": "negreanu"}).json()["total"] == 3
    ranged = script.get(f"/stream/{web.ids.ep1}", headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and len(ranged.content) == 100
    assert script.head(f"/stream/{web.ids.ep1}").status_code == 200
    # read-only: no writes, even with a CSRF header; pages want a login session
    body = {"content_id": web.ids.ep1, "position_s": 3}
    write = script.post("/api/progress", json=body, headers={"X-CSRF-Token": "x"})
    assert write.status_code == 403 and write.json() == {"detail": "tokens are read-only"}
    assert script.get("/").status_code == 303
    assert script.get("/account").status_code == 303
    forged = _bearer(web, raw[:-2] + "xx")
    refused = forged.get("/api/me")
    assert refused.status_code == 401 and refused.json() == {"detail": "invalid token"}
    assert "invalid_token" in refused.headers["www-authenticate"]
    assert _bearer(web, "").get("/api/me").status_code == 401


def test_token_use_is_audited_and_shown(web: WebEnv, client: TestClient) -> None:
    raw = _create(client, "grafana")
    script = _bearer(web, raw)
    for _ in range(5):
        assert script.get("/api/catalogs").status_code == 200
    web.clock.advance(minutes=61)
    assert script.get("/api/catalogs").status_code == 200
    conn = web.conn()
    uses = conn.execute("SELECT actor, target FROM audit_log WHERE action = 'token_use'").fetchall()
    conn.close()
    assert [tuple(u) for u in uses] == [("viewer", "grafana")] * 2  # once an hour, not per call
    assert "testclient" in client.get("/account").text  # last used from


def test_revoked_and_expired_tokens(web: WebEnv, client: TestClient) -> None:
    revoked = _create(client, "old script")
    expiring = _create(client, "week", days="7")
    forever = _create(client, "cron", days="0")
    assert _bearer(web, revoked).get("/api/me").status_code == 200
    conn = web.conn()
    token_id = conn.execute("SELECT id FROM api_tokens WHERE name = 'old script'").fetchone()[0]
    conn.close()
    csrf = client.headers["X-Test-CSRF"]
    assert client.post(f"/account/tokens/{token_id}/revoke", data={"csrf": csrf}).status_code == 303
    assert _bearer(web, revoked).get("/api/me").status_code == 401
    assert _bearer(web, revoked).get(f"/stream/{web.ids.ep1}").status_code == 401
    # the name is free again; another user cannot revoke mine
    _create(client, "old script")
    web.clock.advance(days=8)
    assert _bearer(web, expiring).get("/api/me").status_code == 401
    assert _bearer(web, forever).get("/api/me").status_code == 200
    login(client)  # eight idle days ended the session
    page = client.get("/account").text
    assert "Revoked" in page and "Expired" in page
    # a disabled account's tokens stop
    conn = web.conn()
    accounts.set_disabled(conn, "viewer", True)
    conn.close()
    assert _bearer(web, forever).get("/api/me").status_code == 401


def test_token_names(client: TestClient) -> None:
    _create(client, "same")
    csrf = client.headers["X-Test-CSRF"]
    again = client.post("/account/tokens", data={"name": "same", "csrf": csrf})
    assert again.status_code == 400 and "already have a token" in again.text
    blank = client.post("/account/tokens", data={"name": "  ", "csrf": csrf})
    assert blank.status_code == 400
    assert client.post("/account/tokens", data={"name": "x"}).status_code == 403  # no CSRF


def _link(client: TestClient, content_id: str) -> str:
    reply = client.post(
        f"/api/contents/{content_id}/stream-link",
        headers={"X-CSRF-Token": client.headers["X-Test-CSRF"]},
    )
    assert reply.status_code == 200, reply.text
    url: str = reply.json()["url"]
    return url


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_signed_link_plays_without_cookie(web: WebEnv, client: TestClient) -> None:
    url = _link(client, web.ids.ep1)
    assert url.startswith(f"http://testserver/stream/{web.ids.ep1}?u=")
    player = TestClient(web.app, follow_redirects=False)  # no cookie, like VLC
    whole = player.get(_path(url))
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    part = player.get(_path(url), headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and len(part.content) == 100
    assert player.head(_path(url)).status_code == 200
    # the same signature on another content, or on anything else, does nothing
    query = urlsplit(url).query
    other = player.get(f"/stream/{web.ids.hcl1}?{query}")
    assert other.status_code == 403
    assert other.json() == {"detail": "invalid or expired stream link"}
    for elsewhere in (
        f"/api/contents/{web.ids.ep1}?{query}",
        f"/hls/{web.ids.ep1}/index.m3u8?{query}",
        f"/thumb/{web.ids.ep1}?{query}",
        f"/api/me?{query}",
    ):
        assert player.get(elsewhere).status_code == 401, elsewhere
    assert player.get(f"/content/{web.ids.ep1}?{query}").status_code == 303
    tampered = re.sub(r"exp=(\d+)", lambda m: f"exp={int(m.group(1)) + 3600}", _path(url))
    assert player.get(tampered).status_code == 403
    no_sig = re.sub(r"&sig=[^&]+", "&sig=", _path(url))
    assert player.get(no_sig).status_code == 403


def test_signed_link_expires_and_dies_with_sessions(web: WebEnv, client: TestClient) -> None:
    player = TestClient(web.app, follow_redirects=False)
    url = _link(client, web.ids.clip)
    web.clock.advance(hours=11)
    assert player.get(_path(url), headers={"Range": "bytes=0-9"}).status_code == 206
    web.clock.advance(hours=1, seconds=1)
    assert player.get(_path(url)).status_code == 403  # 12 h by default
    url = _link(client, web.ids.ep1)
    csrf = client.headers["X-Test-CSRF"]
    client.post("/account/sessions/end-all", data={"csrf": csrf, "keep_this": "1"})
    assert player.get(_path(url)).status_code == 403  # "end all sessions" ends links too
    url = _link(client, web.ids.ep1)
    conn = web.conn()
    accounts.set_disabled(conn, "viewer", True)
    conn.close()
    assert player.get(_path(url)).status_code == 403


def test_open_in_player_playlist(web: WebEnv, client: TestClient) -> None:
    page = client.get(f"/content/{web.ids.ep1}")
    assert "Open in VLC / mpv" in page.text and "Copy stream link" in page.text
    assert f'href="/content/{web.ids.ep1}/play.m3u"' in page.text
    playlist = client.get(f"/content/{web.ids.clip}/play.m3u")
    assert playlist.status_code == 200
    assert playlist.headers["content-type"].startswith("audio/x-mpegurl")
    assert "attachment" in playlist.headers["content-disposition"]
    lines = playlist.text.splitlines()
    assert lines[0] == "#EXTM3U" and lines[1].startswith("#EXTINF:-1,Hand 12")
    assert "#EXTVLCOPT:start-time=10" in lines and "#EXTVLCOPT:stop-time=15" in lines
    url = lines[-1]
    assert url.startswith(f"http://testserver/stream/{web.ids.clip}?u=")
    player = TestClient(web.app, follow_redirects=False)
    assert player.get(_path(url), headers={"Range": "bytes=0-0"}).status_code == 206
    conn = web.conn()
    issued = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'stream_link'").fetchone()
    conn.close()
    assert issued[0] == 1
    assert client.get(f"/content/{web.ids.hidden}/play.m3u").status_code == 404
    assert client.post(f"/api/contents/{web.ids.ep1}/stream-link").status_code == 403  # CSRF
