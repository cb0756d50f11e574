"""End to end: `archive-analyzer run` / `worker` processes on the embedded queue and on a real
redis-server, with faults (a worker SIGKILLed mid-run, Redis restarted mid-run)."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx

from archive_analyzer.catalog import db
from archive_analyzer.jobs import ledger
from archive_analyzer.web import accounts
from tests.fixtures.net import free_port, port_open, wait_for
from tests.fixtures.redis import RedisServer
from tests.jobs.conftest import SMALL, System, drop


def _alive(*procs: subprocess.Popen[bytes]) -> None:
    for proc in procs:
        assert proc.poll() is None, f"process {proc.args} exited early with {proc.returncode}"


def _wait_probed(system: System, expected: int, *procs: subprocess.Popen[bytes]) -> None:
    def done() -> bool:
        _alive(*procs)
        return system.all_probed(expected)

    try:
        wait_for(done, timeout=90, interval=0.2, what=f"{expected} files probed")
    except TimeoutError:
        names = [p.name for p in system.logs.iterdir()]
        tails = "\n".join(f"--- {n}\n{system.log(n[:-4])[-3000:]}" for n in names)
        raise AssertionError(
            f"media {system.media_files()}, probed {system.probed()} of {expected}\n{tails}"
        ) from None


def _one_row_each(system: System, expected: int) -> None:
    assert system.scalar("SELECT count(*) FROM media_info") == expected
    orphans = system.scalar(
        "SELECT count(*) FROM files WHERE is_media = 1 AND id NOT IN (SELECT id FROM media_info)"
    )
    assert orphans == 0


def test_embedded_queue_end_to_end(system: System, corpus: dict[str, Path]) -> None:
    expected = drop(corpus, system.root, SMALL, prefix="HCL/2025/")
    run = system.start("run", "--no-web", name="run")
    _wait_probed(system, expected, run)

    # files dropped into the watched folder while it runs are catalogued and probed
    expected += drop(corpus, system.root, SMALL[:3], prefix="PAD/PAD S12/")
    _wait_probed(system, expected, run)

    # a changed file is probed again (its stored result matches the new size and mtime)
    changed = system.root / "HCL/2025" / corpus["mkv"].name
    with changed.open("ab") as fh:
        fh.write(b"\0" * 4096)
    _wait_probed(system, expected, run)

    assert (system.data_dir / "queue.db").is_file()  # the embedded queue; no Redis anywhere
    assert system.stop(run) == 0
    _one_row_each(system, expected)
    assert system.scalar("SELECT count(*) FROM probe_leases") == 0
    assert "archive-analyzer stopped" in system.log("run")


def _probes_in(system: System, name: str) -> int:
    return system.log(name).count("probed ")


def test_two_workers_share_jobs_and_survive_a_sigkill(
    system: System, corpus: dict[str, Path], redis_server: RedisServer
) -> None:
    expected = 0
    for n in range(12):
        expected += drop(corpus, system.root, SMALL, prefix=f"WSOP/Day {n}/")
    redis = ("--redis", redis_server.url)
    first = system.start("worker", "--workers", "1", *redis, name="worker1")
    second = system.start("worker", "--workers", "1", *redis, name="worker2")
    for name in ("worker1", "worker2"):
        wait_for(lambda n=name: "probe worker up" in system.log(n), timeout=60, what=name)
    writer = system.start("run", "--no-web", "--workers", "0", *redis, name="writer")

    # both take jobs; then one is killed while jobs are flowing: what it held dies with it
    wait_for(
        lambda: _probes_in(system, "worker1") and _probes_in(system, "worker2"),
        timeout=90,
        interval=0.02,
        what="both workers probing",
    )
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)

    _wait_probed(system, expected, writer, second)
    wait_for(
        lambda: system.scalar("SELECT count(*) FROM probe_leases") == 0,
        timeout=30,
        what="every lease answered",
    )
    _one_row_each(system, expected)
    assert system.stop(second) == 0
    assert system.stop(writer) == 0
    assert system.scalar("SELECT count(*) FROM job_failures WHERE resolved_at IS NULL") == 0


def test_redis_restart_mid_run(
    system: System, corpus: dict[str, Path], redis_server: RedisServer
) -> None:
    expected = 0
    for n in range(3):
        expected += drop(corpus, system.root, SMALL, prefix=f"GGMillions/{n}/")
    redis = ("--redis", redis_server.url)
    # every probe goes through the separate worker process, so the run completing proves that
    # it reconnected
    worker = system.start("worker", "--workers", "2", *redis, name="worker")
    run = system.start("run", "--no-web", "--workers", "0", *redis, name="run")
    wait_for(lambda: system.probed() >= 2, timeout=90, interval=0.05, what="first probes")

    redis_server.restart()  # every queued job, flag and result is gone
    before = _probes_in(system, "worker")
    for n in range(3, 6):
        expected += drop(corpus, system.root, SMALL, prefix=f"GGMillions/{n}/")

    _wait_probed(system, expected, run, worker)
    _one_row_each(system, expected)
    assert _probes_in(system, "worker") > before
    assert system.stop(worker) == 0
    assert system.stop(run) == 0


def test_sigterm_mid_run_loses_nothing(system: System, corpus: dict[str, Path]) -> None:
    expected = 0
    for n in range(6):
        expected += drop(corpus, system.root, SMALL, prefix=f"MPP/{n}/")
    run = system.start("run", "--no-web", "--workers", "1", name="run1")
    wait_for(lambda: system.probed() >= 2, timeout=90, interval=0.02, what="first probes")
    assert system.stop(run) == 0  # jobs in flight finish; queued ones stay in queue.db
    assert "archive-analyzer stopped" in system.log("run1")

    again = system.start("run", "--no-web", "--workers", "2", name="run2")
    wait_for(lambda: "archive-analyzer running" in system.log("run2"), timeout=60, what="run2")
    _wait_probed(system, expected, again)
    assert system.stop(again) == 0
    _one_row_each(system, expected)
    assert system.scalar("SELECT count(*) FROM probe_leases") == 0


def test_unreachable_redis_is_a_one_line_error(system: System) -> None:
    from tests.fixtures.net import free_port

    url = f"redis://:secret@127.0.0.1:{free_port()}/0"
    for args in (("run", "--no-web"), ("worker",)):
        proc = system.start(*args, "--redis", url, name=args[0])
        assert proc.wait(timeout=60) == 1
        out = system.log(args[0])
        assert "error: cannot reach Redis at redis://:***@127.0.0.1" in out
        assert "Traceback" not in out
        assert "secret" not in out


def test_embedded_queue_over_smb(system: System, corpus: dict[str, Path], smb_folder: Any) -> None:
    expected = drop(corpus, smb_folder.root, SMALL, prefix="HCL/2025/")
    system.env["ARCHIVE_SOURCE"] = smb_folder.url
    system.env["ARCHIVE_SMB_PASSWORD"] = smb_folder.server.password
    run = system.start("run", "--no-web", name="run")
    _wait_probed(system, expected, run)
    expected += drop(corpus, smb_folder.root, SMALL[:2], prefix="HCL/2026/")
    _wait_probed(system, expected, run)
    assert system.stop(run) == 0
    _one_row_each(system, expected)
    assert smb_folder.server.password not in system.log("run")


def test_an_admin_reprobe_is_probed_by_a_worker_and_ingested_by_the_writer(
    system: System, corpus: dict[str, Path]
) -> None:
    """The web app of ``run`` asks the writer through the queue; nothing in the request thread
    probes or writes the catalog's probe tables."""
    expected = drop(corpus, system.root, ("mkv", "mp4_faststart"), prefix="HCL/")
    conn = db.connect(system.db)
    accounts.add_user(conn, "boss", "admin-pass-12345", role="admin")
    conn.close()
    port = free_port()
    run = system.start("run", "--port", str(port), name="run")
    _wait_probed(system, expected, run)
    wait_for(lambda: port_open(port), timeout=60, what="web app")

    # an SMB hiccup spoilt the mkv's last probe: an error verdict and a job failure
    file_id = str(system.scalar("SELECT id FROM files WHERE name = ?", corpus["mkv"].name))
    conn = db.connect(system.db, migrate=False)
    with db.transaction(conn):
        conn.execute("UPDATE media_info SET status = 'error' WHERE id = ?", (file_id,))
        ledger.record_failure(
            conn,
            key=ledger.probe_failure_key(file_id),
            task="probe",
            error="SourceTimeout: read timed out",
            attempts=4,
            now=db.utc_now(),
            file=file_id,
            path="HCL/mkv.mkv",
        )
    conn.close()

    def csrf(html: str) -> str:
        found = re.search(r'name="csrf-token" content="([^"]+)"', html)
        assert found, html[:500]
        return found.group(1)

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", follow_redirects=False) as client:
        token = csrf(client.get("/login").text)
        form = {"username": "boss", "password": "admin-pass-12345", "csrf": token, "next": "/"}
        assert client.post("/login", data=form).status_code == 303
        page = client.get("/admin/failures").text
        assert "read timed out" in page
        asked = client.post(f"/admin/reprobe/{file_id}", data={"csrf": csrf(page)})
        assert asked.status_code == 303 and asked.headers["location"].endswith("done=queued")

        def healed() -> bool:
            _alive(run)
            resolved = system.scalar(
                "SELECT resolved_at FROM job_failures WHERE key = ?",
                ledger.probe_failure_key(file_id),
            )
            status = system.scalar("SELECT status FROM media_info WHERE id = ?", file_id)
            return status == "ok" and resolved is not None

        wait_for(healed, timeout=60, interval=0.1, what="the re-probe ingested")
        assert "read timed out" not in client.get("/admin/failures").text
    assert system.stop(run) == 0
    assert system.scalar("SELECT count(*) FROM probe_leases") == 0
