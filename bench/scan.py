"""Full-scan benchmark: a 20,000-file tree on a loopback smbd scanned into a fresh SQLite catalog.

Run: ``.venv/bin/python -m bench.scan [--files 20000] [--folders 1000] [--batches 100,500,2000]``

Builds the tree (``bench.listing.build_tree``), starts a throwaway smbd, then for each batch size
runs a full scan in a fresh child process (fresh catalog, fresh connection, login included) and
reports files/s and the child's peak RSS. Baseline in the same run: the bare recursive listing
(``SMBSource.list_directory``) in the same kind of child, so the ratio is the cost of the
catalog writes. ``--hook contents`` adds the catalog model's classification (``contents.refresh``)
to every batch, as ``archive-analyzer scan`` does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.listing import build_tree


def _child(args: argparse.Namespace) -> None:
    from archive_analyzer.catalog import db
    from archive_analyzer.config import load_settings
    from archive_analyzer.pipeline import source_opener
    from archive_analyzer.scan.scanner import Scanner

    # a child process: its environment (ARCHIVE_SMB_PASSWORD) is its settings
    source = source_opener(load_settings(environ=os.environ, cwd=Path()))(args.url)
    t0 = time.perf_counter()
    source.connect()
    if args.mode == "list":
        files = sum(1 for info in source.list_directory("", recursive=True) if not info.is_dir)
    else:
        conn = db.connect(args.db)
        hook = None
        if args.mode == "contents":
            from archive_analyzer.pipeline import contents_hook

            hook = contents_hook(db.utc_now)
        result = Scanner(conn, source, batch_size=args.batch, refresh=hook).scan()
        files = result.files_seen
        conn.close()
    seconds = time.perf_counter() - t0
    source.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "files": files, "peak_mb": peak_mb}))


def run_child(url: str, password: str, mode: str, batch: int, db: Path) -> dict[str, Any]:
    env = {**os.environ, "ARCHIVE_SMB_PASSWORD": password}
    command = [sys.executable, "-m", "bench.scan", "--child", "--url", url, "--mode", mode]
    command += ["--batch", str(batch), "--db", str(db)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--folders", type=int, default=1000)
    parser.add_argument("--batches", default="100,500,2000")
    parser.add_argument("--hook", choices=("none", "contents"), default="none")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="scan", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=500, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    from tests.fixtures.smb import SambaServer

    server = SambaServer()
    work = Path(tempfile.mkdtemp(prefix="bench-scan-"))
    try:
        folders, files = build_tree(server.root, args.folders, args.files)
        server.start()
        load = os.getloadavg()
        print(f"tree: {files} files in {folders} folders; {platform.python_version()}, "
              f"{os.cpu_count()} cores, load {load[0]:.2f}")  # fmt: skip
        listing = run_child(server.url, server.password, "list", 0, work / "none.db")
        print(f"listing only (baseline): {listing['seconds']:.2f} s, "
              f"{listing['files'] / listing['seconds']:.0f} files/s, "
              f"peak {listing['peak_mb']:.0f} MB")  # fmt: skip
        mode = "scan" if args.hook == "none" else "contents"
        print("| batch | seconds | files/s | peak RSS MB | scan/listing time |")
        print("|---|---|---|---|---|")
        for batch in (int(b) for b in args.batches.split(",")):
            got = run_child(server.url, server.password, mode, batch, work / f"b{batch}.db")
            assert got["files"] == files, got
            print(
                f"| {batch} | {got['seconds']:.2f} | {got['files'] / got['seconds']:.0f} | "
                f"{got['peak_mb']:.0f} | {got['seconds'] / listing['seconds']:.2f} |"
            )
        print(f"load after: {os.getloadavg()[0]:.2f}")
    finally:
        server.close()
        for leftover in work.glob("*"):
            leftover.unlink()
        work.rmdir()


if __name__ == "__main__":
    main()
