"""Versions, fixity and duplicates in the web app, over a catalog built by the real pipeline:
a local archive with one programme as ProRes and H.264, another programme, a differing copy
in a copy folder; scanned, probed, hashed (``verification.verify``), served.

The split goes through a real writer task on a Huey queue (immediate mode: the task runs in
the caller's thread, the reply travels through Huey's key-value store as in production).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from huey import MemoryHuey
from huey.storage import MemoryStorage

from archive_analyzer import pipeline, verification
from archive_analyzer.catalog import db
from archive_analyzer.config import Settings
from archive_analyzer.jobs.edits import Edit, EditClient, EditReply
from archive_analyzer.jobs.queue import Queues, ResultsQueue
from archive_analyzer.jobs.tasks import TaskOptions, register_tasks
from archive_analyzer.jobs.writer import Writer
from archive_analyzer.scan.progress import NullProgress
from archive_analyzer.sources.local import LocalSource
from archive_analyzer.web import accounts
from archive_analyzer.web.app import create_app
from archive_analyzer.web.server import SourceRegistry
from tests.fixtures.net import wait_for
from tests.web.conftest import PASSWORD, csrf_from, login

LAVFI = ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i"]
H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]
FILES = {
    "PAD/PAD S13/PAD S13 EP02.mp4": ("testsrc2", H264),
    "PAD/PAD S13/ProRes/PAD S13 EP02.mov": ("testsrc2", ["-c:v", "prores_ks", "-profile:v", "0"]),
    "PAD/PAD S13/PAD S13 EP03.mp4": ("mandelbrot", H264),
    "PAD/PAD S13 - 복사본/PAD S13 EP03.mp4": ("life", H264),  # a copy that differs
}
WEB = "PAD/PAD S13/PAD S13 EP02.mp4"
MASTER = "PAD/PAD S13/ProRes/PAD S13 EP02.mov"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("versions") / "archive"
    for rel, (graph, codec) in FILES.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        source = f"{graph}=size=320x240:rate=25" if graph != "life" else "life=size=320x240:rate=25"
        subprocess.run([*LAVFI, source, "-t", "12", *codec, str(target)], check=True, timeout=120)
    return root


@dataclass
class Site:
    app: Any
    db_path: Path
    ids: dict[str, str]  # path -> content id

    def conn(self) -> Any:
        return db.connect(self.db_path, migrate=False)


def _immediate_queues() -> Queues:
    from archive_analyzer.jobs.queue import SqliteQueueStorage

    def huey(name: str) -> Any:
        return MemoryHuey(name, immediate=True, results=False)

    return Queues(
        storage=SqliteQueueStorage(Path("/nonexistent")),  # never used in immediate mode
        writer=huey("w"),
        probe=huey("p"),
        results=ResultsQueue(MemoryStorage("r")),
        export=huey("e"),
        hash=huey("h"),
        hash_results=ResultsQueue(MemoryStorage("hr")),
    )


class QueuedWriter:
    """The web app's ``WriterRequests`` over real writer tasks on immediate queues."""

    def __init__(self, client: EditClient) -> None:
        self._client = client

    def request_reprobe(self, file_id: str) -> None:
        raise AssertionError("not used here")

    def submit_edit(self, edit: Edit) -> EditReply:
        return self._client.submit(edit)


@pytest.fixture
def site(tmp_path: Path, archive: Path) -> Iterator[Site]:
    db_path = tmp_path / "v.db"
    settings = Settings(
        db=db_path, data_dir=tmp_path / "data", source=str(archive), hash_chunk_mib=1
    )
    pipeline.scan(settings, progress=NullProgress())
    conn = db.connect(db_path)
    source = LocalSource(archive)
    verification.verify(conn, source, verification.FixityOptions.from_settings(settings))
    accounts.add_user(conn, "viewer", PASSWORD)
    accounts.add_user(conn, "boss", PASSWORD, role="admin")
    accounts.add_user(conn, "eddie", PASSWORD, role="editor")
    ids = {
        r[0]: r[1]
        for r in conn.execute(
            "SELECT f.path, c.id FROM contents c JOIN files f ON f.id = c.file_id"
        )
    }
    conn.close()
    queues = _immediate_queues()
    tasks = register_tasks(queues, TaskOptions())
    writer = Writer(settings, queues, enqueue_probe=tasks.probe.enqueue, source=source)
    tasks.writer.serve(writer)
    client = EditClient(tasks.writer.request_edit, tasks.writer.take, timeout_s=5)
    app = create_app(
        settings,
        conn_factory=lambda: db.connect(db_path, migrate=False),
        source_factory=SourceRegistry(settings),
        writer=QueuedWriter(client),
    )
    try:
        yield Site(app, db_path, ids)
    finally:
        writer.close()


@pytest.fixture
def boss(site: Site) -> Iterator[TestClient]:
    with TestClient(site.app, base_url="http://testserver", follow_redirects=False) as client:
        login(client, "boss")
        yield client


def test_versions_listed_played_and_split(site: Site, boss: TestClient) -> None:
    web, master = site.ids[WEB], site.ids[MASTER]
    page = boss.get(f"/content/{web}")
    assert page.status_code == 200
    rows = re.findall(r'<tr class="version( played)?" data-file', page.text)
    assert len(rows) == 2 and rows.count(" played") == 1
    assert "same programme, other encoding" in page.text and "xxh128 " in page.text
    assert 'src="/stream/' in page.text or "/hls/" in page.text
    # the joined version's own page leads to its content
    joined = boss.get(f"/content/{master}")
    assert joined.status_code == 303 and joined.headers["location"] == f"/content/{web}"
    # and it is not listed twice
    listing = boss.get("/search?q=EP02").text
    assert listing.count("/content/") >= 1 and f"/content/{master}" not in listing

    token = csrf_from(page.text)
    done = boss.post(f"/content/{master}/split", data={"csrf": token})
    assert done.status_code == 303 and done.headers["location"] == f"/content/{web}?split=done"
    assert "version was split off" in boss.get(done.headers["location"]).text
    alone = boss.get(f"/content/{master}")
    assert alone.status_code == 200 and 'class="version' not in alone.text
    conn = site.conn()
    try:
        assert conn.execute("SELECT count(*) FROM version_splits").fetchone()[0] == 2
    finally:
        conn.close()


def test_split_needs_an_editor_and_a_token(site: Site) -> None:
    with TestClient(site.app, base_url="http://testserver", follow_redirects=False) as viewer:
        token = login(viewer, "viewer")
        page = viewer.get(f"/content/{site.ids[WEB]}").text
        assert "Split off" not in page
        refused = viewer.post(f"/content/{site.ids[MASTER]}/split", data={"csrf": token})
        assert refused.status_code == 403
        assert viewer.get("/admin/fixity").status_code == 403
    with TestClient(site.app, base_url="http://testserver", follow_redirects=False) as editor:
        login(editor, "eddie")
        page = editor.get(f"/content/{site.ids[WEB]}").text
        assert "Split off" in page
        forged = editor.post(f"/content/{site.ids[MASTER]}/split", data={"csrf": "wrong"})
        assert forged.status_code == 403
        assert editor.get("/admin/fixity").status_code == 403


def test_differing_copy_and_admin_fixity_page(site: Site, boss: TestClient) -> None:
    copy = site.ids["PAD/PAD S13 - 복사본/PAD S13 EP03.mp4"]
    page = boss.get(f"/content/{copy}").text
    assert "differs from its original" in page
    admin = boss.get("/admin/fixity")
    assert admin.status_code == 200
    text = admin.text
    assert 'data-kind="same_programme"' in text and "ProRes/PAD S13 EP02.mov" in text
    assert "PAD S13 - 복사본/PAD S13 EP03.mp4" in text  # listed as a differing copy
    assert "No fixity failures." in text
    korean = boss.get("/admin/fixity", headers={"accept-language": "ko"})
    assert "무결성과 중복" in korean.text


def test_metrics_count_hashes(site: Site, boss: TestClient) -> None:
    body = boss.get("/metrics").text
    assert 'archive_fixity_files{state="hashed"} 4.0' in body
    assert "archive_fixity_failures_open 0.0" in body


def test_versions_in_the_browser(
    site: Site, chromium: Any, live_server: Callable[[Any], Any], artifacts: Path
) -> None:
    web = site.ids[WEB]
    with live_server(site.app) as server:
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR")
        try:
            page = context.new_page()
            page.set_default_timeout(20_000)
            page.goto(f"{server.url}/login")
            page.fill("input[name=username]", "boss")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server.url}/")
            page.goto(f"{server.url}/content/{web}")
            assert page.locator("#versions tr.version").count() == 2
            assert page.locator("#versions tr.played").count() == 1
            assert "재생 파일" in page.locator("#versions tr.played").inner_text()
            page.screenshot(path=artifacts / "versions.png", full_page=True)
            # playback picks the browser-playable version (the MP4, not the ProRes master)
            player = "document.getElementById('player')"
            page.wait_for_selector("#player")
            page.evaluate(f"{player}.play()")
            wait_for(lambda: page.evaluate(f"{player}.currentTime > 0.3"), timeout=20,
                     what="playback")  # fmt: skip
            assert "/stream/" in page.evaluate(f"{player}.currentSrc")
            page.click("#versions form.split button")
            page.wait_for_url(f"**/content/{web}?split=done")
            assert page.locator("#split-result").count() == 1
            assert page.locator("#versions").count() == 0
            page.screenshot(path=artifacts / "versions-split.png", full_page=True)
            page.goto(f"{server.url}/admin/fixity")
            assert page.locator("tr.duplicate-group").count() >= 1
            page.screenshot(path=artifacts / "admin-fixity.png", full_page=True)
        finally:
            context.close()
