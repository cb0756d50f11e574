"""Admin pages: admins only (viewers 403, anonymous to login), the live sections, the failure
list with reasons, re-probe as a request to the writer (the web request writes nothing; the
writer's tasks probe and ingest), and Prometheus metrics."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from archive_analyzer.catalog import db
from archive_analyzer.config import Settings
from archive_analyzer.jobs import ledger
from archive_analyzer.jobs.consumers import probing_tasks
from archive_analyzer.jobs.queue import Queues, build_queues
from archive_analyzer.jobs.writer import Writer
from tests.fixtures.browser import serve_app
from tests.web.conftest import PASSWORD, csrf_from, login
from tests.web.test_hls import Site, make_site


@pytest.fixture
def site(tmp_path: Path, corpus: dict[str, Path]) -> Site:
    return make_site(tmp_path, corpus, ("mkv", "random_bytes", "mp4_truncated", "mxf_closed"))


@pytest.fixture
def admin_client(site: Site) -> Iterator[TestClient]:
    with TestClient(site.app, follow_redirects=False) as client:
        login(client, "boss")
        yield client


def test_viewers_and_strangers_are_refused(site: Site) -> None:
    with TestClient(site.app, follow_redirects=False) as client:
        assert client.get("/admin").status_code == 303  # to the login page
        assert client.get("/metrics").status_code == 401
        token = login(client, "viewer")
        assert "/admin" not in client.get("/").text
        for path in ("/admin", "/admin/failures", "/metrics"):
            assert client.get(path).status_code == 403, path
        file_id = _file_id(site, "mkv")
        response = client.post(f"/admin/reprobe/{file_id}", data={"csrf": token})
        assert response.status_code == 403


def test_overview_shows_the_live_system(site: Site, admin_client: TestClient) -> None:
    home = admin_client.get("/").text
    assert 'href="/admin"' in home
    page = admin_client.get("/admin")
    assert page.status_code == 200
    for title in ("Last scans", "Last polls", "Incoming files", "Missing files", "Cloud sync"):
        assert title in page.text, title
    assert "Users" in page.text and "boss" in page.text and "viewer" in page.text
    assert "Transcodes" in page.text and "0 of 2 in use" in page.text
    # readable: no raw field names, statuses or dicts; times relative with the exact time
    for raw in ("files_new", "started_at", "in_progress", "{'direct'", "bytes_read"):
        assert raw not in page.text, raw
    assert re.search(
        r'<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">', page.text
    )
    assert "0 direct, 0 HLS" in page.text
    # cloud sync off: says so and names the setting, instead of "never" and a growing lag
    assert 'id="sync-not-configured"' in page.text and "ARCHIVE_FIRESTORE_PROJECT" in page.text
    korean = admin_client.get("/admin", headers={"Accept-Language": "ko"}).text
    for words in ("최근 스캔", "클라우드 동기화", "설정되지 않음", "사용자", "관리자"):
        assert words in korean, words


def _unreadable_when_last_probed(site: Site, name: str) -> str:
    """Make ``name`` look like an SMB hiccup hit its last probe: an error verdict and a job
    failure. Returns its file id."""
    file_id = _file_id(site, name)
    conn = db.connect(site.settings.db, migrate=False)
    with db.transaction(conn):
        conn.execute(
            "UPDATE media_info SET status = 'error', error = 'SMB read timed out' WHERE id = ?",
            (file_id,),
        )
        conn.execute("UPDATE files SET probe_state = 'failed' WHERE id = ?", (file_id,))
        ledger.record_failure(
            conn,
            key=ledger.probe_failure_key(file_id),
            task="probe",
            error="SourceTimeout: SMB read timed out",
            attempts=4,
            now=db.utc_now(),
            file=file_id,
            path=f"{name}.mkv",
        )
    conn.close()
    return file_id


@contextlib.contextmanager
def writer_process(settings: Settings) -> Iterator[Queues]:
    """What ``archive-analyzer run`` has on the queues of ``settings``: the writer and the
    probe tasks. The test runs their tasks with ``drain``."""
    queues = build_queues(settings)
    with probing_tasks(queues, settings) as tasks:
        writer = Writer(
            settings, queues, enqueue_probe=tasks.probe.enqueue, on_change=tasks.writer.request_sync
        )
        tasks.writer.serve(writer)
        try:
            yield queues
        finally:
            writer.close()


def drain(queues: Queues) -> list[str]:
    """Run the queued tasks, writer queue first, until both queues are empty (as the writer
    thread and a probe worker would); returns the task names in the order they ran."""
    ran: list[str] = []
    while True:
        for huey in (queues.writer, queues.probe):
            task = huey.dequeue()
            if task is not None:
                huey.execute(task)
                ran.append(task.name)
                break
        else:
            return ran


def _media_status(site: Site, file_id: str) -> tuple[str, str | None, str | None]:
    conn = db.connect(site.settings.db, migrate=False)
    try:
        status, error = conn.execute(
            "SELECT status, error FROM media_info WHERE id = ?", (file_id,)
        ).fetchone()
        resolved = conn.execute(
            "SELECT resolved_at FROM job_failures WHERE key = ?",
            (ledger.probe_failure_key(file_id),),
        ).fetchone()
        return status, error, resolved[0] if resolved else None
    finally:
        conn.close()


def test_failure_list_and_reprobe(site: Site, admin_client: TestClient) -> None:
    mkv = _unreadable_when_last_probed(site, "mkv")

    page = admin_client.get("/admin/failures")
    assert page.status_code == 200
    rows = _rows(page.text)
    assert "random_bytes.mp4" in rows and "not media" in rows["random_bytes.mp4"]
    assert "truncated" in rows["mp4_truncated.mp4"]
    assert "SMB read timed out" in rows["mkv.mkv"]
    assert "mxf_closed.mxf" not in rows

    token = csrf_from(page.text)
    refused = admin_client.post(f"/admin/reprobe/{mkv}", data={})
    assert refused.status_code == 403  # no CSRF token
    done = admin_client.post(f"/admin/reprobe/{mkv}", data={"csrf": token})
    assert done.status_code == 303 and done.headers["location"].endswith("done=queued")
    notice = admin_client.get(done.headers["location"]).text
    assert "Re-probe queued" in notice
    # the web request asked the writer and wrote nothing itself
    assert _media_status(site, mkv) == ("error", "SMB read timed out", None)
    assert "mkv.mkv" in _rows(notice)

    with writer_process(site.settings) as queues:
        # the writer takes the request, dispatches a probe job, a worker probes, the writer
        # ingests the outcome (and resolves the job failure)
        assert drain(queues) == ["reprobe", "probe", "ingest"]
        status, error, resolved = _media_status(site, mkv)
        assert (status, error) == ("ok", None) and resolved is not None
        after = _rows(admin_client.get("/admin/failures").text)
        assert "mkv.mkv" not in after
        assert "random_bytes.mp4" in after  # still broken after a re-probe of its own
        broken = _file_id(site, "random_bytes")
        again = admin_client.post(f"/admin/reprobe/{broken}", data={"csrf": token})
        assert again.headers["location"].endswith("done=queued")
        assert drain(queues) == ["reprobe", "probe", "ingest"]
        assert _media_status(site, broken)[0] == "invalid"
    gone = admin_client.post("/admin/reprobe/" + "0" * 32, data={"csrf": token})
    assert gone.status_code == 404


def test_metrics(site: Site, admin_client: TestClient) -> None:
    admin_client.get(f"/thumb/{site.ids['mkv']}")
    text = admin_client.get("/metrics").text
    assert re.search(r'^archive_files\{status="active"\} 4\.0$', text, re.M), text
    assert 'archive_probe_duration_seconds_count{status="ok"}' in text
    assert 'archive_probe_read_bytes_sum{status="invalid"}' in text
    assert 'archive_active_streams{kind="direct"} 0.0' in text
    assert "archive_queue_depth" in text
    assert "archive_ffmpeg_runs_total" in text
    assert "archive_hls_cache_cap_bytes" in text


def _file_id(site: Site, name: str) -> str:
    conn = db.connect(site.settings.db, migrate=False)
    try:
        row = conn.execute(
            "SELECT file_id FROM contents WHERE id = ?", (site.ids[name],)
        ).fetchone()
        return str(row[0])
    finally:
        conn.close()


def _rows(html: str) -> dict[str, str]:
    """File path -> the text of its failure-list row."""
    found: dict[str, str] = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if cells:
            found[cells[0].strip()] = " ".join(re.sub(r"<[^>]+>", " ", c) for c in cells[1:])
    return found


@pytest.mark.slow
def test_admin_pages_in_chromium(site: Site, chromium: Any, artifacts: Path) -> None:
    _unreadable_when_last_probed(site, "mkv")
    with serve_app(site.app) as server:
        context = chromium.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(f"{server.url}/login")
        page.fill("input[name=username]", "boss")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/")
        page.click("text=Admin")
        page.wait_for_url(f"{server.url}/admin")
        page.screenshot(path=artifacts / "admin.png", full_page=True)
        page.click("text=Failure list")
        page.wait_for_url(f"{server.url}/admin/failures")
        assert page.locator("td.reason").count() >= 3
        # the admin re-probes a file an SMB hiccup spoilt: queued, then the writer's tasks run
        page.click("tr:has-text('mkv.mkv') button:has-text('Re-probe')")
        page.wait_for_url("**/admin/failures?done=queued")
        assert "Re-probe queued" in page.locator("#reprobe-result").inner_text()
        page.screenshot(path=artifacts / "admin-failures.png", full_page=True)
        with writer_process(site.settings) as queues:
            assert drain(queues) == ["reprobe", "probe", "ingest"]
        page.reload()
        assert page.locator("tr:has-text('mkv.mkv')").count() == 0
        assert page.locator("tr:has-text('random_bytes.mp4')").count() == 1
        context.close()
