"""Detection latency: a file written to the loopback Samba share -> visible in the catalog.

Run: ``.venv/bin/python -m bench.poll_latency [--interval 5] [--samples 8] [--files 1000]``

Starts a throwaway smbd with a tree of ``--files`` files, runs the real
``archive-analyzer watch URL --interval 5`` in a child process, then writes a small real MP4
(ffmpeg lavfi) into the share at random moments and polls the catalog (read-only, every 20 ms)
until the file's row appears (status ``incoming``) and until it is probed (``active``, one poll
later: size and mtime must hold across two polls). Expected: seen after U(0, interval) plus one
poll; probed one interval later.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.listing import build_tree


def _row(db: Path, name: str) -> tuple[str, str] | None:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            found = conn.execute(
                "SELECT status, probe_state FROM files WHERE name = ?", (name,)
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return None if found is None else (found[0], found[1])


def _polls(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute("SELECT count(*) FROM scans WHERE kind = 'poll'").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _wait(check: object, timeout: float) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if check():  # type: ignore[operator]
            return time.perf_counter() - start
        time.sleep(0.02)
    raise SystemExit("timed out")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()

    from tests.fixtures.smb import SambaServer

    work = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    sample = work / "sample.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         "testsrc=size=160x90:rate=25:duration=1", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", str(sample)],
        check=True,
    )  # fmt: skip
    data = sample.read_bytes()
    server = SambaServer()
    db = work / "catalog.db"
    watcher: subprocess.Popen[bytes] | None = None
    try:
        build_tree(server.root / "archive", max(1, args.files // 20), args.files)
        incoming = server.root / "archive" / "Uploads"
        incoming.mkdir()
        for folder, _dirs, _files in os.walk(server.root):
            os.chmod(folder, 0o755)
        server.start()
        env = {**os.environ, "ARCHIVE_SMB_PASSWORD": server.password}
        command = [sys.executable, "-m", "archive_analyzer", "watch", f"{server.url}/archive"]
        command += ["--db", str(db), "--interval", str(args.interval)]
        watcher = subprocess.Popen(
            command, env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait(lambda: _polls(db) >= 2, 120)
        print(f"watching {args.files} files every {args.interval} s; "
              f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
        rng = random.Random(5)
        seen: list[float] = []
        probed: list[float] = []
        for i in range(args.samples):
            time.sleep(rng.uniform(0, args.interval))
            name = f"WSOP 2025 Event #{i:02d}.mp4"
            target = incoming / name
            target.write_bytes(data)
            target.chmod(0o644)
            t0 = time.perf_counter()
            _wait(lambda name=name: _row(db, name) is not None, 60)
            seen.append(time.perf_counter() - t0)
            _wait(lambda name=name: _row(db, name) == ("active", "done"), 60)
            probed.append(time.perf_counter() - t0)
            print(f"  sample {i}: visible after {seen[-1]:.2f} s, probed after {probed[-1]:.2f} s")
        print(f"visible (incoming): median {statistics.median(seen):.2f} s, max {max(seen):.2f} s")
        print(f"probed (active): median {statistics.median(probed):.2f} s, "
              f"max {max(probed):.2f} s; load {os.getloadavg()[0]:.2f}")  # fmt: skip
    finally:
        if watcher is not None:
            watcher.terminate()
            watcher.wait(timeout=30)
        server.close()
        for leftover in work.glob("*"):
            leftover.unlink()
        work.rmdir()


if __name__ == "__main__":
    main()
