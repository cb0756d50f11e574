"""Server-side sessions, the forced password change and the password form (httpx)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from archive_analyzer.web import accounts
from tests.web.conftest import PASSWORD, WebEnv, csrf_from, login

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


def _client(web: WebEnv, user: str = "viewer", agent: str = CHROME) -> TestClient:
    client = TestClient(web.app, follow_redirects=False, headers={"User-Agent": agent})
    client.headers["X-Test-CSRF"] = login(client, user)
    return client


def test_sessions_are_listed_and_ended(web: WebEnv) -> None:
    laptop = _client(web)
    phone = _client(web, agent="VLC/3.0.18 LibVLC/3.0.18")
    page = laptop.get("/account")
    assert page.status_code == 200
    assert "Chrome 120 · Linux" in page.text and "VLC 3" in page.text
    assert page.text.count("data-session=") == 2 and "This session" in page.text
    conn = web.conn()
    phone_id = conn.execute("SELECT id FROM sessions WHERE user_agent LIKE 'VLC%'").fetchone()[0]
    hashes = [r[0] for r in conn.execute("SELECT secret_hash FROM sessions")]
    conn.close()
    assert all(len(h) == 64 for h in hashes)  # only hashes of the cookie secrets are kept
    token = csrf_from(page.text)
    assert laptop.post(f"/account/sessions/{phone_id}/end", data={}).status_code == 403
    ended = laptop.post(f"/account/sessions/{phone_id}/end", data={"csrf": token})
    assert ended.status_code == 303
    assert phone.get("/api/me").status_code == 401
    assert laptop.get("/api/me").status_code == 200
    # someone else's session id: not found
    boss = _client(web, "boss")
    conn = web.conn()
    boss_id = conn.execute(
        "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'boss'"
    ).fetchone()[0]
    conn.close()
    assert laptop.post(f"/account/sessions/{boss_id}/end", data={"csrf": token}).status_code == 404
    assert boss.get("/api/me").status_code == 200


def test_end_other_sessions_and_everywhere(web: WebEnv) -> None:
    first, second, third = _client(web), _client(web), _client(web)
    token = first.headers["X-Test-CSRF"]
    done = first.post("/account/sessions/end-all", data={"csrf": token, "keep_this": "1"})
    assert done.headers["location"] == "/account?done=sessions"
    assert first.get("/api/me").status_code == 200
    assert second.get("/api/me").status_code == 401 and third.get("/api/me").status_code == 401
    gone = first.post("/account/sessions/end-all", data={"csrf": token})
    assert gone.headers["location"] == "/login"
    assert first.get("/api/me").status_code == 401


def test_logout_ends_the_server_session(web: WebEnv) -> None:
    client = _client(web)
    cookie = client.cookies.get("archive_session")
    assert client.post("/logout", data={"csrf": client.headers["X-Test-CSRF"]}).status_code == 303
    replay = TestClient(web.app, follow_redirects=False)
    replay.cookies.set("archive_session", cookie or "")
    assert replay.get("/api/me").status_code == 401  # the old cookie is worthless
    conn = web.conn()
    reasons = [r[0] for r in conn.execute("SELECT end_reason FROM sessions")]
    conn.close()
    assert reasons == ["logout"]


def test_idle_timeout_and_absolute_lifetime(web: WebEnv) -> None:
    client = _client(web)
    web.clock.advance(hours=23)
    assert client.get("/api/me").status_code == 200  # active within the idle timeout
    web.clock.advance(hours=24, minutes=1)
    assert client.get("/api/me").status_code == 401  # idle too long
    client = _client(web)
    for _ in range(14):  # in use every day, yet it ends after the lifetime
        web.clock.advance(hours=23)
        assert client.get("/api/me").status_code == 200
    web.clock.advance(hours=23)
    assert client.get("/api/me").status_code == 401
    conn = web.conn()
    reasons = sorted(r[0] for r in conn.execute("SELECT end_reason FROM sessions"))
    conn.close()
    assert reasons == ["expired", "idle"]


def test_must_change_session_can_only_change_the_password(web: WebEnv, anon: TestClient) -> None:
    conn = web.conn()
    conn.execute("UPDATE users SET must_change_password = 1 WHERE username = 'viewer'")
    conn.close()
    token = csrf_from(anon.get("/login").text)
    response = anon.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf": token})
    assert response.headers["location"] == "/account/password"
    for url in ("/api/me", "/api/contents", "/api/search?q=wsop", "/api/catalogs"):
        assert anon.get(url).status_code == 403, url
        assert anon.get(url).json() == {"detail": "password change required"}
    for url in (
        f"/stream/{web.ids.ep1}",
        f"/hls/{web.ids.ep1}/index.m3u8",
        f"/hls/{web.ids.ep1}/0.ts",
        f"/thumb/{web.ids.ep1}",
    ):
        assert anon.get(url).status_code == 403, url
    for url in ("/", f"/content/{web.ids.ep1}", "/account", "/search?q=x", "/admin"):
        assert anon.get(url).headers["location"] == "/account/password", url
    page = anon.get("/account/password")
    assert page.status_code == 200 and "Please choose a new password" in page.text
    csrf = csrf_from(page.text)
    progress = anon.post(
        "/api/progress",
        json={"content_id": web.ids.ep1, "position_s": 1},
        headers={"X-CSRF-Token": csrf},
    )
    assert progress.status_code == 403
    changed = anon.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "password": "tangerine umbrella voyage",
            "repeat": "tangerine umbrella voyage",
            "csrf": csrf,
        },
    )
    assert changed.status_code == 303 and changed.headers["location"] == "/"
    assert anon.get("/api/me").status_code == 200


def test_password_form_rules(web: WebEnv, client: TestClient) -> None:
    other = _client(web)
    token = client.headers["X-Test-CSRF"]

    def change(current: str, new: str, repeat: str | None = None, lang: str = "en") -> object:
        return client.post(
            "/account/password",
            data={"current": current, "password": new, "repeat": repeat or new, "csrf": token},
            headers={"Accept-Language": lang},
        )

    wrong = change("not my password", "tangerine umbrella voyage")
    assert wrong.status_code == 403 and "The current password is wrong." in wrong.text
    weak = change(PASSWORD, "password")
    assert weak.status_code == 400 and "at least 10 characters" in weak.text
    guessable = change(PASSWORD, "password123456", lang="ko")
    assert guessable.status_code == 400
    assert "추측하기 너무 쉬운 비밀번호입니다" in guessable.text
    assert "흔히 쓰이는 비밀번호와 비슷합니다" in guessable.text  # zxcvbn feedback, translated
    named = change(PASSWORD, "viewer on the sofa")
    assert "must not contain the user name" in named.text
    app_words = change(PASSWORD, "archiveanalyzer")
    assert app_words.status_code == 400
    differ = change(PASSWORD, "tangerine umbrella voyage", "tangerine umbrella voyages")
    assert "differ" in differ.text
    same = change(PASSWORD, PASSWORD)
    assert "must differ from the current" in same.text
    assert other.get("/api/me").status_code == 200  # nothing changed so far
    done = change(PASSWORD, "tangerine umbrella voyage")
    assert done.status_code == 303 and done.headers["location"] == "/account?done=password"
    assert client.get("/api/me").status_code == 200  # this session stays
    assert other.get("/api/me").status_code == 401  # the others end
    conn = web.conn()
    assert accounts.authenticate(conn, "viewer", "tangerine umbrella voyage", "127.0.0.1")
    actions = [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY id")]
    conn.close()
    assert "password" in actions and actions.count("login_failed") == 1  # the wrong current one


def test_disabled_account_is_out_at_once(web: WebEnv) -> None:
    client = _client(web)
    conn = web.conn()
    accounts.set_disabled(conn, "viewer", True)
    conn.close()
    assert client.get("/api/me").status_code == 401
    with TestClient(web.app, follow_redirects=False) as again:
        token = csrf_from(again.get("/login").text)
        refused = again.post(
            "/login", data={"username": "viewer", "password": PASSWORD, "csrf": token}
        )
        assert refused.status_code == 401 and "This account is disabled." in refused.text
