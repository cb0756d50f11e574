"""Accounts in a real browser (Chromium via Playwright) against the app served by uvicorn:
the password form and its rules, login throttling, sessions (end another browser's),
personal access tokens, "copy stream link" / "Open in VLC / mpv", and the admin's users
page (roles, brand limits, disable) and audit log, as the people using them would.
Screenshots go to ./artifacts/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from archive_analyzer.web import accounts
from tests.web.conftest import PASSWORD, WebEnv, make_env

pytestmark = pytest.mark.slow
NEW_PASSWORD = "marble lantern orchard"


@pytest.fixture
def site(
    tmp_path: Path, web_media: Path, live_server: Callable[[Any], Any]
) -> Iterator[tuple[WebEnv, str]]:
    env = make_env(tmp_path, web_media)
    with live_server(env.app) as server:
        yield env, server.url


def _log_in(page: Any, url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")


def test_password_sessions_tokens_and_links(
    site: tuple[WebEnv, str], chromium: Any, artifacts: Path
) -> None:
    env, url = site
    laptop = chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    laptop.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    page = laptop.new_page()
    page.set_default_timeout(20_000)
    _log_in(page, url, "viewer")
    page.wait_for_url(f"{url}/")

    # a second browser (a phone) logged in as the same user
    phone = chromium.new_context(locale="ko-KR", viewport={"width": 390, "height": 844})
    mobile = phone.new_page()
    mobile.set_default_timeout(20_000)
    _log_in(mobile, url, "viewer")
    mobile.wait_for_url(f"{url}/")

    # the account page lists both sessions; end the phone's
    page.click("a.account-link")
    page.wait_for_url(f"{url}/account")
    rows = page.locator("table.sessions tbody tr")
    assert rows.count() == 2
    page.screenshot(path=artifacts / "account-sessions.png", full_page=True)
    page.locator("table.sessions tbody tr:not(.current) button").click()
    page.wait_for_url("**/account?done=session")
    assert page.locator("#done").inner_text() == "Session ended."
    mobile.goto(f"{url}/")
    assert mobile.url.startswith(f"{url}/login")

    # password change: the rules speak up, then a good password is taken
    page.click("text=Change password")
    page.wait_for_url(f"{url}/account/password")
    page.fill("input[name=current]", PASSWORD)
    page.fill("input[name=password]", "password1234")
    page.fill("input[name=repeat]", "password1234")
    page.click("main button[type=submit]")
    assert "too easy to guess" in page.locator("#password-error").inner_text()
    assert page.locator("ul.hints li").count() >= 1
    page.screenshot(path=artifacts / "password-weak.png")
    page.fill("input[name=current]", PASSWORD)
    page.fill("input[name=password]", NEW_PASSWORD)
    page.fill("input[name=repeat]", NEW_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/account?done=password")

    # a personal access token: shown once, works as a Bearer token, then revoked
    page.fill("form.token-form input[name=name]", "nightly script")
    page.select_option("form.token-form select[name=days]", "30")
    page.click("form.token-form button[type=submit]")
    token = page.locator("#new-token-value").input_value()
    assert token.startswith("aat_")
    page.screenshot(path=artifacts / "account-token.png", full_page=True)
    script = chromium.new_context()
    api = script.request
    reply = api.get(f"{url}/api/search?q=negreanu", headers={"Authorization": f"Bearer {token}"})
    assert reply.status == 200 and reply.json()["total"] == 3
    page.goto(f"{url}/account")
    assert page.locator("#new-token-value").count() == 0  # never shown again
    page.locator("tr[data-token='nightly script'] button").click()
    page.wait_for_url("**/account?done=token")
    reply = api.get(f"{url}/api/me", headers={"Authorization": f"Bearer {token}"})
    assert reply.status == 401

    # content page: copy the stream link, open it without a cookie; the m3u for VLC / mpv
    page.goto(f"{url}/content/{env.ids.ep1}")
    page.click("#copy-link")
    page.wait_for_selector("#link-copied:not([hidden])")
    link = page.locator("#link-text").input_value()
    assert link.startswith(f"{url}/stream/{env.ids.ep1}?u=")
    assert page.evaluate("navigator.clipboard.readText()") == link
    page.screenshot(path=artifacts / "content-stream-link.png", full_page=True)
    ranged = api.get(link, headers={"Range": "bytes=0-1023"})
    assert ranged.status == 206 and len(ranged.body()) == 1024
    with page.expect_download() as download:
        page.click("#open-in-player")
    saved = Path(download.value.path()).read_text()
    assert saved.startswith("#EXTM3U") and f"/stream/{env.ids.ep1}?u=" in saved
    assert download.value.suggested_filename == f"{env.ids.ep1}.m3u"

    # log out everywhere: the copied link dies with the sessions
    page.goto(f"{url}/account")
    page.click("#end-everywhere")
    page.wait_for_url(f"{url}/login")
    assert api.get(link).status == 403
    script.close()
    laptop.close()
    phone.close()


def test_login_throttling_message(site: tuple[WebEnv, str], chromium: Any, artifacts: Path) -> None:
    _env, url = site
    context = chromium.new_context(locale="en-US")
    page = context.new_page()
    for _ in range(5):
        _log_in(page, url, "viewer", "wrong password here")
        assert "Wrong username or password." in page.locator("p.error").inner_text()
    _log_in(page, url, "viewer")
    message = page.locator("p.error").inner_text()
    assert "Too many failed logins" in message and "seconds" in message
    page.screenshot(path=artifacts / "login-throttled.png")
    context.close()


def test_admin_manages_users_and_reads_the_audit_log(
    site: tuple[WebEnv, str], chromium: Any, artifacts: Path
) -> None:
    env, url = site
    conn = env.conn()
    accounts.add_user(conn, "guest", PASSWORD)
    conn.close()
    admin = chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = admin.new_page()
    page.set_default_timeout(20_000)
    _log_in(page, url, "boss")
    page.wait_for_url(f"{url}/")
    page.click("header a[href='/admin']")
    page.click("text=Users")
    page.wait_for_url(f"{url}/admin/users")

    # make "viewer" an editor, limit "guest" to HCL
    row = page.locator("tr[data-user='viewer']")
    row.locator("select[name=role]").select_option("editor")
    row.locator("form.role-form button").click()
    page.wait_for_url("**/admin/users?done=role")
    guest = page.locator("tr[data-user='guest']")
    guest.locator("input[value=hcl]").check()
    guest.locator("form.brands-form button").click()
    page.wait_for_url("**/admin/users?done=brands")
    assert "HCL" in page.locator("tr[data-user='guest']").inner_text()
    page.screenshot(path=artifacts / "admin-users.png", full_page=True)

    # the limited guest sees and finds HCL only
    visitor = chromium.new_context(locale="en-US")
    other = visitor.new_page()
    other.set_default_timeout(20_000)
    _log_in(other, url, "guest")
    other.wait_for_url(f"{url}/")
    assert other.locator("text=20250611 - Nik Airball, Daniel Negreanu").count() >= 1
    assert other.locator("text=WSOP 2024 Main Event _ Day 1A (Part 1)").count() == 0
    other.goto(f"{url}/search?q=negreanu")
    assert other.locator("#result-count").inner_text().startswith("1 ")
    other.goto(f"{url}/content/{env.ids.ep1}")
    assert other.locator("text=Not found.").count() == 1
    other.screenshot(path=artifacts / "limited-viewer-search.png", full_page=True)

    # disabling ends the guest's session at once
    page.locator("tr[data-user='guest'] button.disable").click()
    page.wait_for_url("**/admin/users?done=disabled")
    other.goto(f"{url}/")
    assert other.url.startswith(f"{url}/login")
    visitor.close()

    # the audit log shows what happened
    page.goto(f"{url}/admin/audit")
    actions = page.locator("table.audit tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.action)"
    )
    assert {"login", "role", "brands", "disable"} <= set(actions)
    page.select_option("select[name=action]", "role")
    page.click("form.filters button[type=submit]")
    assert page.locator("table.audit tbody tr").count() == 1
    assert "From: viewer; To: editor" in page.locator("table.audit tbody tr").inner_text()
    page.screenshot(path=artifacts / "admin-audit.png", full_page=True)
    admin.close()
