"""Listing benchmark: a 20,000-file tree on a loopback smbd, our SMBSource vs Samba's smbclient.

Run: ``.venv/bin/python -m bench.listing [--reps 5] [--folders 1000] [--files 20000]``

Builds the tree (1,000 folders: 40 top folders with 24 sub-folders each, 20 zero-byte files per
folder), starts a throwaway smbd (``tests.fixtures.smb.SambaServer``), then alternates
repetitions of ``smbclient //127.0.0.1/archive -p PORT -U user%*** -c 'recurse; ls'`` and a full
recursive ``SMBSource.list_directory`` (fresh connection each time, login included), and
prints the medians and the ratio smbclient/ours (> 1 means we are faster).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.fixtures.smb import SambaServer

from archive_analyzer.pipeline import smb_options
from archive_analyzer.sources.smb import SMBSource
from archive_analyzer.sources.url import SMBSpec, parse


def build_tree(root: Path, folders: int, files: int) -> tuple[int, int]:
    """40 top folders, the rest as their sub-folders; ``files`` spread evenly. Returns counts."""
    tops = 40 if folders >= 40 else folders
    subs_per_top = (folders - tops) // tops
    per_folder = files // folders
    made_folders = made_files = 0
    for t in range(tops):
        top = root / f"Brand {t:02d}"
        dirs = [top] + [top / f"Season {s:02d}" for s in range(subs_per_top)]
        for folder in dirs:
            folder.mkdir(parents=True, exist_ok=True)
            made_folders += 1
            for f in range(per_folder):
                (folder / f"Episode {f:03d}.mp4").touch()
                made_files += 1
    return made_folders, made_files


def time_it(action: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    count = action()
    return time.perf_counter() - start, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--folders", type=int, default=1000)
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument(
        "--compat", action="store_true", help="also time the smbprotocol-only listing path"
    )
    args = parser.parse_args()

    server = SambaServer()
    try:
        folders, files = build_tree(server.root, args.folders, args.files)
        server.start()
        settings = server.settings(
            **({"smb_list_concurrency": args.concurrency} if args.concurrency else {})
        )
        spec = parse(server.url)
        assert isinstance(spec, SMBSpec)
        smbclient = shutil.which("smbclient") or "/usr/bin/smbclient"
        command = [
            smbclient,
            f"//127.0.0.1/{server.share}",
            "-p",
            str(server.port),
            "-U",
            f"{server.user}%{server.password}",
            "-c",
            "recurse; ls",
        ]

        def run_smbclient() -> int:
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            return sum(1 for line in out.splitlines() if line.startswith("  ")) - 0

        def run_ours(fast: bool = True) -> int:
            source = SMBSource(spec, smb_options(settings), fast_listing=fast)
            try:
                return sum(1 for _ in source.list_directory("", recursive=True))
            finally:
                source.close()

        run_smbclient()  # warm the server's caches for both contenders alike
        run_ours()
        theirs: list[float] = []
        ours: list[float] = []
        compat: list[float] = []
        counts: set[int] = set()
        for _ in range(args.reps):
            seconds, _lines = time_it(run_smbclient)
            theirs.append(seconds)
            seconds, count = time_it(run_ours)
            ours.append(seconds)
            counts.add(count)
            if args.compat:
                seconds, count = time_it(lambda: run_ours(fast=False))
                compat.append(seconds)
                counts.add(count)
        load = os.getloadavg()
    finally:
        server.close()

    median_theirs = statistics.median(theirs)
    median_ours = statistics.median(ours)
    shown = " ".join([*command[:-4], "-U", f"{server.user}%***", "-c", "'recurse; ls'"])
    print(f"machine: {platform.node()} {os.cpu_count()} cores, {platform.platform()}")
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"tree: {files} files in {folders} folders; entries listed by us: {sorted(counts)}")
    print(f"smbclient: {shown}")
    print(f"  runs (s): {' '.join(f'{t:.3f}' for t in theirs)}  median {median_theirs:.3f}")
    print("SMBSource.list_directory('', recursive=True), fresh connection per run:")
    print(f"  runs (s): {' '.join(f'{t:.3f}' for t in ours)}  median {median_ours:.3f}")
    if compat:
        median_compat = statistics.median(compat)
        print("same, listing through smbprotocol (fast_listing=False):")
        print(f"  runs (s): {' '.join(f'{t:.3f}' for t in compat)}  median {median_compat:.3f}")
        print(f"  ratio smbclient/smbprotocol path: {median_theirs / median_compat:.2f}")
    ratio = median_theirs / median_ours
    print(f"ratio smbclient/ours: {ratio:.2f} (>= 1.0 means at least as fast)")


if __name__ == "__main__":
    main()
