"""Streaming throughput and memory: ``/stream`` from the loopback Samba share vs local disk.

Starts a throwaway smbd (``tests.fixtures.smb.SambaServer``), puts one file of ``--mib`` MiB in
its share, and runs two real servers, ``archive-analyzer serve`` in subprocesses: one whose
source is the SMB share, one whose source is the share's folder on local disk (the baseline,
same file, same run). For each: 1 stream, then ``--streams`` concurrent streams of the whole
file (``curl`` clients, so the client costs no Python); then the same number of slow streams
(``--limit-rate``, like players buffering ahead) while sampling the server's RSS, for memory
per stream. The file sits in the page cache for both, so the difference is the SMB path.

    .venv/bin/python -m bench.stream [--mib 256] [--streams 8]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
from tests.fixtures.net import free_port, port_open, wait_for
from tests.fixtures.smb import SambaServer

from archive_analyzer.catalog import db
from archive_analyzer.config import Settings
from archive_analyzer.pipeline import source_opener

PASSWORD = "quiet lantern orchard 1"
FILE = "bench/stream-test.mp4"


def seed(db_path: Path, source_name: str, size: int, mtime: float) -> str:
    """A catalog with one episode playing ``FILE`` on ``source_name``; returns its id."""
    conn = db.connect(db_path)
    now = db.timestamp(db.utc_now())
    with db.transaction(conn):
        conn.execute(
            "INSERT INTO files (id, source, path, name, ext, size, mtime, first_seen, last_seen, "
            "updated_at) VALUES ('f1', ?, ?, 'stream-test.mp4', 'mp4', ?, ?, ?, ?, ?)",
            (source_name, FILE, size, mtime, now, now, now),
        )
        conn.execute(
            "INSERT INTO contents (id, kind, file_id, title, created_at, updated_at) "
            "VALUES ('c1', 'episode', 'f1', 'Stream test', ?, ?)",
            (now, now),
        )
    conn.close()
    return "c1"


class Server:
    """``archive-analyzer serve`` in a subprocess, with one user logged in via httpx."""

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cli = str(Path(sys.executable).with_name("archive-analyzer"))
        base_env = {**os.environ, **env, "ARCHIVE_DATA_DIR": str(work / "data")}
        subprocess.run(
            [cli, "users", "add", "bench", "--db", str(work / "web.db")],
            input=PASSWORD + "\n",
            text=True,
            check=True,
            env=base_env,
            capture_output=True,
        )
        self.proc = subprocess.Popen(
            [cli, "serve", "--db", str(work / "web.db"), "--port", str(self.port)],
            env=base_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: port_open(self.port), timeout=60, what="serve")
        with httpx.Client(base_url=self.url) as client:
            page = client.get("/login")
            token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
            assert token
            client.post(
                "/login",
                data={"username": "bench", "password": PASSWORD, "csrf": token.group(1)},
            )
            self.cookie = f"archive_session={client.cookies['archive_session']}"

    def stream(self, content_id: str, rate: str | None = None) -> tuple[int, float]:
        """Download the whole stream with curl; returns (bytes, seconds)."""
        cmd = [
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-b",
            self.cookie,
            "-w",
            "%{size_download} %{time_total}",
        ]
        if rate:
            cmd += ["--limit-rate", rate]
        out = subprocess.run(
            [*cmd, f"{self.url}/stream/{content_id}"], capture_output=True, text=True, check=True
        ).stdout.split()
        return int(out[0]), float(out[1])

    def rss(self) -> int:
        return int(psutil.Process(self.proc.pid).memory_info().rss)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def run_streams(server: Server, content_id: str, count: int, size: int) -> float:
    """MiB/s of ``count`` concurrent whole-file streams (total bytes / wall time)."""
    start = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        results = list(pool.map(lambda _: server.stream(content_id), range(count)))
    wall = time.perf_counter() - start
    assert all(n == size for n, _ in results), results
    return count * size / wall / 2**20


def slow_memory(server: Server, content_id: str, count: int, seconds: float) -> tuple[int, int]:
    """Server RSS before and at peak while ``count`` rate-limited streams run ``seconds``."""
    before = server.rss()
    peak = before
    stop = threading.Event()

    def one() -> None:
        cmd = [
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-b",
            server.cookie,
            "--limit-rate",
            "4M",
            "--max-time",
            str(seconds),
            f"{server.url}/stream/{content_id}",
        ]
        subprocess.run(cmd, check=False)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        peak = max(peak, server.rss())
        time.sleep(0.1)  # sampling interval, not a wait for a condition
    stop.set()
    for t in threads:
        t.join()
    return before, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--slow-seconds", type=float, default=6.0)
    args = parser.parse_args()
    if not shutil.which("curl"):
        raise SystemExit("curl is needed")
    smb = SambaServer()
    work = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    servers: list[Server] = []
    try:
        target = smb.root / FILE
        target.parent.mkdir(parents=True)
        block = os.urandom(1 << 20)
        with open(target, "wb") as handle:
            for _ in range(args.mib):
                handle.write(block)
        target.parent.chmod(0o755)
        target.chmod(0o644)
        smb.start()
        size, mtime = target.stat().st_size, target.stat().st_mtime
        configs = {
            "local disk": {"ARCHIVE_SOURCE": str(smb.root)},
            "SMB (loopback smbd)": {
                "ARCHIVE_SOURCE": smb.url,
                "ARCHIVE_SMB_PASSWORD": smb.password,
            },
        }
        rows = []
        for label, env in configs.items():
            folder = work / re.sub(r"\W+", "-", label)
            folder.mkdir()
            settings = Settings(
                source=env["ARCHIVE_SOURCE"], smb_password=env.get("ARCHIVE_SMB_PASSWORD")
            )  # type: ignore[arg-type]
            content = seed(
                folder / "web.db", source_opener(settings)(settings.source or "").name, size, mtime
            )
            server = Server(folder, env)
            servers.append(server)
            server.stream(content)  # warm up: connection, page cache
            one = run_streams(server, content, 1, size)
            many = run_streams(server, content, args.streams, size)
            before, peak = slow_memory(server, content, args.streams, args.slow_seconds)
            rows.append((label, one, many, before, peak))
            print(
                f"{label}: 1 stream {one:.0f} MiB/s, {args.streams} streams {many:.0f} MiB/s "
                f"total; RSS idle {before / 2**20:.1f} MiB, peak with {args.streams} slow "
                f"streams {peak / 2**20:.1f} MiB",
                flush=True,
            )
        print(
            f"\nfile {args.mib} MiB, {args.streams} concurrent streams, curl clients, "
            f"{os.cpu_count()} cores\n"
        )
        print(
            f"| source | 1 stream MiB/s | {args.streams} streams MiB/s (total) | "
            f"per stream | server RSS idle MiB | RSS peak, {args.streams} slow streams | "
            "RSS per stream |"
        )
        print("|---|---|---|---|---|---|---|")
        for label, one, many, before, peak in rows:
            print(
                f"| {label} | {one:.0f} | {many:.0f} | {many / args.streams:.0f} | "
                f"{before / 2**20:.1f} | {peak / 2**20:.1f} | "
                f"{(peak - before) / args.streams / 2**20:.2f} MiB |"
            )
        local, remote = rows[0], rows[1]
        print(
            f"\nSMB / local: 1 stream {remote[1] / local[1]:.2f}, "
            f"{args.streams} streams {remote[2] / local[2]:.2f}"
        )
    finally:
        for server in servers:
            server.stop()
        smb.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
