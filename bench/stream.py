"""Streaming throughput and memory: ``/stream`` from the loopback Samba share vs local disk
vs Samba's own client.

Starts a throwaway smbd (``tests.fixtures.smb.SambaServer``), puts one file of ``--mib`` MiB in
its share (and a sparse file of ``--sparse-gib`` GiB), and runs two real servers,
``archive-analyzer serve`` in subprocesses: one whose source is the SMB share, one whose
source is the share's folder on local disk (same file, same run). For each: 1 stream, then
``--streams`` concurrent streams of the whole file (``curl`` clients, so the client costs no
Python), with the server process's CPU seconds per GiB sent; then the same number of slow
streams (``--limit-rate``, like players buffering ahead) while sampling the server's RSS, for
memory per stream; then the time to the first byte of a range in the middle of the sparse
file (``curl``'s ``time_starttransfer``, median of ``--ttfb-runs``, a fresh request each).
The third contender is ``smbclient -c 'get FILE /dev/null'`` (login included), 1 and
``--streams`` at once, in the same run. The file sits in the page cache for all, so the
differences are the SMB paths.

    .venv/bin/python -m bench.stream [--mib 256] [--streams 8]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
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


SPARSE = "bench/sparse-master.mxf"


def seed(db_path: Path, source_name: str, files: dict[str, Path]) -> dict[str, str]:
    """A catalog with one episode per file (catalog path -> file on disk) on
    ``source_name``; returns catalog path -> content id."""
    conn = db.connect(db_path)
    now = db.timestamp(db.utc_now())
    ids: dict[str, str] = {}
    with db.transaction(conn):
        for n, (path, disk) in enumerate(files.items(), start=1):
            st = disk.stat()
            name = path.rpartition("/")[2]
            conn.execute(
                "INSERT INTO files (id, source, path, name, ext, size, mtime, first_seen, "
                "last_seen, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    f"f{n}",
                    source_name,
                    path,
                    name,
                    name.rpartition(".")[2],
                    st.st_size,
                    st.st_mtime,
                    now,
                    now,
                    now,
                ),
            )
            conn.execute(
                "INSERT INTO contents (id, kind, file_id, title, created_at, updated_at) "
                "VALUES (?, 'episode', ?, ?, ?, ?)",
                (f"c{n}", f"f{n}", name, now, now),
            )
            ids[path] = f"c{n}"
    conn.close()
    return ids


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

    def stream(
        self, content_id: str, rate: str | None = None, byte_range: str | None = None
    ) -> tuple[int, float, float]:
        """Download the stream with curl; returns (bytes, seconds, seconds to first byte)."""
        cmd = [
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-b",
            self.cookie,
            "-w",
            "%{size_download} %{time_total} %{time_starttransfer}",
        ]
        if rate:
            cmd += ["--limit-rate", rate]
        if byte_range:
            cmd += ["-r", byte_range]
        out = subprocess.run(
            [*cmd, f"{self.url}/stream/{content_id}"], capture_output=True, text=True, check=True
        ).stdout.split()
        return int(out[0]), float(out[1]), float(out[2])

    def rss(self) -> int:
        return int(psutil.Process(self.proc.pid).memory_info().rss)

    def cpu(self) -> float:
        times = psutil.Process(self.proc.pid).cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def run_streams(server: Server, content_id: str, count: int, size: int) -> tuple[float, float]:
    """(MiB/s of ``count`` concurrent whole-file streams (total bytes / wall time), server
    CPU seconds per GiB sent)."""
    cpu = server.cpu()
    start = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        results = list(pool.map(lambda _: server.stream(content_id), range(count)))
    wall = time.perf_counter() - start
    assert all(n == size for n, _, _ in results), results
    return count * size / wall / 2**20, (server.cpu() - cpu) / (count * size / 2**30)


def smbclient_streams(smb: SambaServer, auth: Path, count: int, size: int) -> float:
    """MiB/s of ``count`` concurrent ``smbclient get`` of the file (login included)."""

    def one(_: int) -> None:
        subprocess.run(
            [
                "smbclient",
                f"//127.0.0.1/{smb.share}",
                "-p",
                str(smb.port),
                "-A",
                str(auth),
                "-c",
                f"get {FILE.replace('/', chr(92))} /dev/null",
            ],
            check=True,
            capture_output=True,
        )

    start = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        list(pool.map(one, range(count)))
    return count * size / (time.perf_counter() - start) / 2**20


def ttfb(server: Server, content_id: str, total: int, runs: int) -> float:
    """Median ms to the first byte of a 64 KiB range in the middle of the file."""
    middle = total // 2
    times = []
    for _ in range(runs):
        got, _, first = server.stream(content_id, byte_range=f"{middle}-{middle + 65535}")
        assert got == 65536, got
        times.append(first * 1000)
    return statistics.median(times)


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
    parser.add_argument("--sparse-gib", type=int, default=50)
    parser.add_argument("--ttfb-runs", type=int, default=15)
    parser.add_argument("--runs", type=int, default=3, help="throughput runs (best taken)")
    args = parser.parse_args()
    if not shutil.which("curl") or not shutil.which("smbclient"):
        raise SystemExit("curl and smbclient are needed")
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
        sparse = smb.root / SPARSE
        with open(sparse, "wb") as handle:
            handle.truncate(args.sparse_gib * 2**30)
        target.parent.chmod(0o755)
        for path in (target, sparse):
            path.chmod(0o644)
        smb.start()
        auth = work / "auth"
        auth.write_text(f"username = {smb.user}\npassword = {smb.password}\n")
        auth.chmod(0o600)
        size = target.stat().st_size
        load_before = os.getloadavg()
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
            ids = seed(
                folder / "web.db",
                source_opener(settings)(settings.source or "").name,
                {FILE: target, SPARSE: sparse},
            )
            content = ids[FILE]
            server = Server(folder, env)
            servers.append(server)
            server.stream(content)  # warm up: connection, page cache
            ones = [run_streams(server, content, 1, size) for _ in range(args.runs)]
            manys = [run_streams(server, content, args.streams, size) for _ in range(args.runs)]
            one, one_cpu = max(ones)
            many, many_cpu = max(manys)
            before, peak = slow_memory(server, content, args.streams, args.slow_seconds)
            first_byte = ttfb(server, ids[SPARSE], args.sparse_gib * 2**30, args.ttfb_runs)
            rows.append((label, one, many, before, peak, one_cpu, many_cpu, first_byte))
            print(
                f"{label}: 1 stream {one:.0f} MiB/s, {args.streams} streams {many:.0f} MiB/s "
                f"total; server CPU {one_cpu:.2f} / {many_cpu:.2f} s per GiB; RSS idle "
                f"{before / 2**20:.1f} MiB, peak with {args.streams} slow streams "
                f"{peak / 2**20:.1f} MiB; TTFB mid-file {first_byte:.1f} ms",
                flush=True,
            )
        theirs_one = max(smbclient_streams(smb, auth, 1, size) for _ in range(args.runs))
        theirs_many = max(
            smbclient_streams(smb, auth, args.streams, size) for _ in range(args.runs)
        )
        print(f"smbclient get: 1 {theirs_one:.0f} MiB/s, {args.streams} {theirs_many:.0f} MiB/s")
        load_after = os.getloadavg()
        print(
            f"\nfile {args.mib} MiB, {args.streams} concurrent streams, curl clients, best of "
            f"{args.runs}, {os.cpu_count()} cores, load average {load_before[0]:.2f} before, "
            f"{load_after[0]:.2f} after\n"
        )
        print(
            f"| source | 1 stream MiB/s | {args.streams} streams MiB/s (total) | "
            f"server CPU s/GiB (1 / {args.streams}) | server RSS idle MiB | "
            f"RSS peak, {args.streams} slow streams | RSS per stream | "
            f"TTFB mid-file ({args.sparse_gib} GiB) |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for label, one, many, before, peak, one_cpu, many_cpu, first_byte in rows:
            print(
                f"| {label} | {one:.0f} | {many:.0f} | {one_cpu:.2f} / {many_cpu:.2f} | "
                f"{before / 2**20:.1f} | {peak / 2**20:.1f} | "
                f"{(peak - before) / args.streams / 2**20:.2f} MiB | {first_byte:.1f} ms |"
            )
        print(f"| smbclient get (Samba) | {theirs_one:.0f} | {theirs_many:.0f} | | | | | |")
        local, remote = rows[0], rows[1]
        print(
            f"\nSMB / local: 1 stream {remote[1] / local[1]:.2f}, "
            f"{args.streams} streams {remote[2] / local[2]:.2f}; SMB / smbclient: 1 stream "
            f"{remote[1] / theirs_one:.2f}, {args.streams} streams "
            f"{remote[2] / theirs_many:.2f}; SMB {args.streams} streams / 1 stream "
            f"{remote[2] / remote[1]:.2f}"
        )
    finally:
        for server in servers:
            server.stop()
        smb.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
