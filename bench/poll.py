"""No-change poll benchmark: a 100,000-file tree on a loopback smbd, our watcher vs watchdog.

Run: ``.venv/bin/python -m bench.poll [--files 100000] [--folders 2000] [--reps 3]
[--rounds 2] [--naive-files 2000]``

Builds the tree (``bench.listing.build_tree``), starts a throwaway smbd, fills a catalog with a
full scan (every file marked probed, as in steady state), then, each in a fresh child process
(peak RSS measured there):

- ours: ``pipeline.poll_once`` ``--reps`` + 1 times (list, load the catalog, diff, record
  the poll); the first poll of a fresh watcher state (which must read every catalog row) is
  reported separately; ``--rounds`` children, alternating with watchdog's;
- watchdog ``PollingObserverVFS`` as the issue suggests, its ``stat``/``listdir`` fed by our
  fast SMB listing (one directory query per folder, stats cached from it): the time of one
  poll = one ``DirectorySnapshot`` + ``DirectorySnapshotDiff`` against the previous one;
- watchdog with smbprotocol's own ``smbclient.scandir``/``smbclient.stat`` (one round trip
  per file), on a ``--naive-files`` subtree only (it needs ~20 ms per file here), reported as
  measured and extrapolated per file to the whole tree.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import stat as stat_module
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.listing import build_tree


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _stat_result(is_dir: bool, ino: int, size: int, mtime: float) -> os.stat_result:
    mode = 0o040755 if is_dir else 0o100644
    return os.stat_result((mode, ino, 1, 1, 0, 0, size, mtime, mtime, mtime))


def _ino(file_id: str | None, path: str) -> int:
    if file_id is not None and file_id.isdigit():
        return int(file_id)
    return hash(path) & 0x7FFFFFFFFFFF


class _Entry:
    def __init__(self, name: str) -> None:
        self.name = name


def _vfs_over_source(url: str) -> tuple[Callable[..., Any], Callable[..., Any], str]:
    """watchdog stat/listdir callables backed by our SMBSource: one query per folder."""
    from archive_analyzer.config import load_settings
    from archive_analyzer.pipeline import source_opener

    # a child process: its environment (ARCHIVE_SMB_PASSWORD) is its settings
    source = source_opener(load_settings(environ=os.environ, cwd=Path()))(url)
    source.connect()
    cache: dict[str, os.stat_result] = {}
    root = "/"

    def rel(path: str) -> str:
        return path.strip("/")

    def listdir(path: str | None) -> Iterator[_Entry]:
        base = rel(path or root)
        entries = []
        for info in source.list_directory(base, recursive=False):
            name = info.path.rsplit("/", 1)[-1]
            cache["/" + info.path] = _stat_result(
                info.is_dir, _ino(info.file_id, info.path), info.size, info.mtime
            )
            entries.append(_Entry(name))
        return iter(entries)

    def stat(path: str) -> os.stat_result:
        hit = cache.get(path)
        if hit is not None:
            return hit
        if rel(path) == "":
            return _stat_result(True, 1, 0, 0.0)
        info = source.stat(rel(path))
        return _stat_result(info.is_dir, _ino(info.file_id, info.path), info.size, info.mtime)

    return stat, listdir, root


def _vfs_smbclient(url: str, password: str) -> tuple[Callable[..., Any], Callable[..., Any], str]:
    """watchdog stat/listdir straight over smbprotocol's smbclient (a stat per file)."""
    import smbclient

    from archive_analyzer.sources.url import SMBSpec, parse

    spec = parse(url)
    assert isinstance(spec, SMBSpec)
    kw = {"username": spec.user, "password": password, "port": spec.port}
    root = f"//{spec.host}/{spec.share}" + (f"/{spec.path}" if spec.path else "")

    def stat(path: str) -> os.stat_result:
        result: os.stat_result = smbclient.stat(path, **kw)
        return result

    def listdir(path: str | None) -> Iterator[Any]:
        return iter(list(smbclient.scandir(path or root, **kw)))

    return stat, listdir, root


def _child_watchdog(args: argparse.Namespace) -> dict[str, Any]:
    from watchdog.utils.dirsnapshot import DirectorySnapshot, DirectorySnapshotDiff

    if args.mode == "watchdog-ours":
        stat, listdir, root = _vfs_over_source(args.url)
    else:
        stat, listdir, root = _vfs_smbclient(args.url, os.environ["ARCHIVE_SMB_PASSWORD"])
    first = DirectorySnapshot(root, recursive=True, stat=stat, listdir=listdir)
    times = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        again = DirectorySnapshot(root, recursive=True, stat=stat, listdir=listdir)
        diff = DirectorySnapshotDiff(first, again)
        times.append(time.perf_counter() - t0)
        assert not diff.files_created and not diff.files_deleted and not diff.files_modified
        first = again
    files = sum(1 for p in first.paths if not stat_module.S_ISDIR(first.stat_info(p).st_mode))
    return {"times": times, "entries": len(first.paths), "files": files, "peak_mb": _peak_mb()}


def _child_ours(args: argparse.Namespace) -> dict[str, Any]:
    from archive_analyzer import pipeline
    from archive_analyzer.catalog import db
    from archive_analyzer.config import load_settings
    from archive_analyzer.scan.watcher import WatchState

    settings = load_settings(environ=os.environ, cwd=Path(), db=args.db, source=args.url)
    conn = db.connect(args.db)
    source = pipeline.source_opener(settings)(args.url)
    source.connect()
    state = WatchState()
    t0 = time.perf_counter()
    listed = sum(1 for info in source.list_directory("", recursive=True) if not info.is_dir)
    listing = time.perf_counter() - t0
    times = []
    for _ in range(args.reps + 1):
        t0 = time.perf_counter()
        summary = pipeline.poll_once(conn, source, settings, state, now=db.utc_now)
        times.append(time.perf_counter() - t0)
        assert summary.changes == 0 and summary.poll.status == "completed", summary
    files = summary.poll.listed
    source.close()
    conn.close()
    assert listed == files
    return {"times": times, "files": files, "listing": listing, "peak_mb": _peak_mb()}


def _child_populate(args: argparse.Namespace) -> dict[str, Any]:
    from archive_analyzer.catalog import db
    from archive_analyzer.config import load_settings
    from archive_analyzer.pipeline import source_opener
    from archive_analyzer.scan.scanner import Scanner

    conn = db.connect(args.db)
    source = source_opener(load_settings(environ=os.environ, cwd=Path()))(args.url)
    source.connect()
    t0 = time.perf_counter()
    result = Scanner(conn, source, batch_size=2000).scan()
    seconds = time.perf_counter() - t0
    with db.transaction(conn):
        conn.execute("UPDATE files SET probe_state = 'done' WHERE probe_state = 'pending'")
    source.close()
    conn.close()
    return {"seconds": seconds, "files": result.files_seen, "peak_mb": _peak_mb()}


def run_child(mode: str, url: str, password: str, db: Path, reps: int) -> dict[str, Any]:
    env = {**os.environ, "ARCHIVE_SMB_PASSWORD": password}
    command = [sys.executable, "-m", "bench.poll", "--child", mode, "--url", url]
    command += ["--db", str(db), "--reps", str(reps)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--folders", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--naive-files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.mode = args.child
        if args.child == "ours":
            out = _child_ours(args)
        elif args.child == "populate":
            out = _child_populate(args)
        else:
            out = _child_watchdog(args)
        print(json.dumps(out))
        return

    from tests.fixtures.smb import SambaServer

    server = SambaServer()
    work = Path(tempfile.mkdtemp(prefix="bench-poll-"))
    db = work / "catalog.db"
    try:
        t0 = time.perf_counter()
        big = server.root / "archive"
        folders, files = build_tree(big, args.folders, args.files)
        naive_root = server.root / "naive"
        _, naive_files = build_tree(naive_root, max(1, args.naive_files // 50), args.naive_files)
        for folder, _dirs, _files in os.walk(server.root):
            os.chmod(folder, 0o755)
        print(f"tree: {files} files in {folders} folders (+ {naive_files} for the naive run), "
              f"built in {time.perf_counter() - t0:.0f} s")  # fmt: skip
        server.start()
        url = f"{server.url}/archive"
        print(f"python {platform.python_version()}, {os.cpu_count()} cores, "
              f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
        filled = run_child("populate", url, server.password, db, 1)
        print(f"catalog filled by a full scan: {filled['files']} files in "
              f"{filled['seconds']:.1f} s ({filled['files'] / filled['seconds']:.0f} files/s), "
              f"peak {filled['peak_mb']:.0f} MB")  # fmt: skip

        # Alternate the two contenders so a change in machine load hits both alike.
        firsts: list[float] = []
        steady: list[float] = []
        wd_times: list[float] = []
        listings: list[float] = []
        ours_peak = wd_peak = 0.0
        for _ in range(args.rounds):
            ours = run_child("ours", url, server.password, db, args.reps)
            firsts.append(ours["times"][0])
            steady += ours["times"][1:]
            listings.append(ours["listing"])
            ours_peak = max(ours_peak, ours["peak_mb"])
            wd = run_child("watchdog-ours", url, server.password, db, args.reps)
            wd_times += wd["times"]
            wd_peak = max(wd_peak, wd["peak_mb"])
        ours_med = statistics.median(steady)
        wd_med = statistics.median(wd_times)
        print(f"ours: first poll of a fresh watcher {', '.join(f'{t:.2f}' for t in firsts)} s; "
              f"then {', '.join(f'{t:.2f}' for t in steady)} s (median {ours_med:.2f} s), "
              f"{ours['files']} files, peak {ours_peak:.0f} MB; a bare listing of the tree "
              f"alone took {', '.join(f'{t:.2f}' for t in listings)} s")  # fmt: skip
        print(f"watchdog PollingObserverVFS over our listing: "
              f"{', '.join(f'{t:.2f}' for t in wd_times)} s (median {wd_med:.2f} s), "
              f"{wd['files']} files, peak {wd_peak:.0f} MB; "
              f"ratio {wd_med / ours_med:.2f}")  # fmt: skip

        naive = run_child("watchdog-smbclient", f"{server.url}/naive", server.password, db, 1)
        naive_t = naive["times"][0]
        per_file = naive_t / max(1, naive["files"])
        projected = per_file * files
        print(f"watchdog over smbclient stat/scandir: {naive_t:.2f} s for {naive['files']} files "
              f"({per_file * 1000:.1f} ms/file) -> {projected:.0f} s projected for {files}; "
              f"ratio {projected / ours_med:.0f}")  # fmt: skip
        print(f"load after: {os.getloadavg()[0]:.2f}")
    finally:
        server.close()
        for leftover in work.glob("*"):
            leftover.unlink()
        work.rmdir()


if __name__ == "__main__":
    main()
