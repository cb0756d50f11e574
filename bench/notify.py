"""Change notifications (issue 19): upload-to-published latency, a burst of 1,000 files, idle
cost, and what the SMB watch itself costs.

    .venv/bin/python -m bench.notify latency [--uploads 20] [--interval 60] [--gap 5:25]
    .venv/bin/python -m bench.notify burst [--files 1000] [--interval 60]
    .venv/bin/python -m bench.notify idle [--minutes 10] [--files 2000] [--interval 60]
    .venv/bin/python -m bench.notify watch-cost [--files 1000]

``latency``: one throwaway writable smbd, the Firestore emulator, and two real
``archive-analyzer run --no-web`` processes side by side, each on its own folder of the share
(2,000 non-media files each, so polls list a realistic tree) and its own catalog and Firestore
project: notifications on, and off (the baseline: polls only). Every few seconds (``--gap``,
uniform) the same small real MP4 is uploaded through SMB into both folders (an smbprotocol
client, order alternating); the clock starts when the uploader has closed the file and stops
when the file's ``files/{id}`` document exists in Firestore (the emulator is read every
0.1 s). Both modes see the same uploads at the same moments under the same load.

``burst``: 1,000 small real MP4s copied into the share with ``smbclient -c 'mput *'``, into a
fresh ``run`` with notifications on, then into one with them off: the watcher's catalog
transactions (notification rounds + polls that changed something), time until all are
active and until all are probed, and the ``run`` process's peak RSS (``VmHWM``).

``idle``: two ``archive-analyzer watch`` processes on a 2,000-file share, notifications on
and off, left alone for ``--minutes``: CPU seconds (user + system, ``/proc/PID/stat``) per hour
after the first minute.

``watch-cost``: an ``SMBWatch`` alone in this process while ``smbclient`` copies ``--files``
files in: notify answers, events, this process's CPU per event.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fixtures.corpus import build
from tests.fixtures.firestore import FirestoreEmulator
from tests.fixtures.net import wait_for
from tests.fixtures.smb import SambaServer, Uploader, smb_options

SAMPLE = "mp4_faststart"


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def machine() -> str:
    return f"{os.cpu_count()} cores, {platform.python_version()}, load {load()}"


def sidecars(folder: Path, files: int, per_folder: int = 20) -> None:
    """``files`` small non-media files (``.xmp`` sidecars) in folders of ``per_folder``: a
    tree every poll lists, nothing the probers have to do."""
    for n in range(files):
        target = folder / f"Brand {n // 400:02d}" / f"Season {n // per_folder:03d}" / f"{n:05d}.xmp"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"<x/>")


def give_all(server: SambaServer, path: Path) -> None:
    server.give(path)
    for folder, _dirs, files in os.walk(path):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Deployment:
    """One ``archive-analyzer`` process over one folder of the share."""

    name: str
    folder: Path
    url: str
    work: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.work / f"{self.name}.log"

    @property
    def db(self) -> Path:
        return self.work / f"{self.name}.db"

    def start(self, *args: str) -> None:
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "archive_analyzer", *args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.work,
            )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        if not self.db.exists():
            return []
        try:
            conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
            try:
                return list(conn.execute(sql, params))
            finally:
                conn.close()
        except sqlite3.Error:
            return []

    def scalar(self, sql: str, *params: object) -> Any:
        rows = self.query(sql, *params)
        return rows[0][0] if rows else None

    def alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise SystemExit(f"{self.name} exited with {self.proc.returncode}; see {self.log}")


def deployment(
    name: str,
    server: SambaServer,
    work: Path,
    *,
    notify: bool,
    interval: float,
    emulator: FirestoreEmulator | None = None,
) -> Deployment:
    folder = server.root / name
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env.pop("GOOGLE_CLOUD_PROJECT", None)
    env.pop("FIRESTORE_EMULATOR_HOST", None)
    (work / "none.toml").write_text("")
    env.update(
        {
            "ARCHIVE_DB": str(work / f"{name}.db"),
            "ARCHIVE_DATA_DIR": str(work / f"{name}-data"),
            "ARCHIVE_SOURCE": f"{server.url}/{name}",
            "ARCHIVE_SMB_PASSWORD": server.password,
            "ARCHIVE_POLL_INTERVAL_S": str(interval),
            "ARCHIVE_NOTIFY": "true" if notify else "false",
            "ARCHIVE_RECONCILE_HOUR": "-1",
            "ARCHIVE_CONFIG": str(work / "none.toml"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if emulator is not None:
        env["ARCHIVE_FIRESTORE_PROJECT"] = f"bench-{name}"
        env["FIRESTORE_EMULATOR_HOST"] = emulator.host
    return Deployment(name, folder, f"{server.url}/{name}", work, env)


def wait(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    try:
        return wait_for(condition, timeout=timeout, interval=every, what=what)
    except TimeoutError as exc:
        raise SystemExit(str(exc)) from None


def mput(server: SambaServer, local: Path, remote: str) -> float:
    """Copy every file of ``local`` into the share's folder ``remote`` with Samba's own
    ``smbclient`` (the uploader); returns how long the copy took."""
    t0 = time.monotonic()
    copy = subprocess.run(
        ["smbclient", f"//{server.host}/{server.share}", "-p", str(server.port),
         "-U", f"{server.user}%{server.password}",
         "-c", f"prompt OFF; lcd {local}; cd {remote}; mput *"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if copy.returncode != 0:
        raise SystemExit(f"smbclient failed: {copy.stderr[-500:]}")
    return time.monotonic() - t0


def started(dep: Deployment, notify: bool) -> None:
    def ready() -> bool:
        dep.alive()
        polls = dep.scalar("SELECT count(*) FROM scans WHERE kind = 'poll'") or 0
        if not notify:
            return polls >= 1
        return polls >= 1 and dep.scalar("SELECT health FROM notify_state") == "active"

    wait(ready, 300, f"{dep.name} to start")


@contextlib.contextmanager
def share(files: int, names: tuple[str, ...]) -> Iterator[tuple[SambaServer, Path]]:
    work = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    server = SambaServer(writable=True)
    try:
        for name in names:
            folder = server.root / name
            (folder / "Uploads").mkdir(parents=True)
            sidecars(folder, files)
            give_all(server, folder)
        server.start()
        yield server, work
    finally:
        server.close()
        shutil.rmtree(work, ignore_errors=True)


# --- latency ---------------------------------------------------------------------------------


def latency(args: argparse.Namespace) -> None:
    sample = build()[SAMPLE].read_bytes()
    low, high = (float(x) for x in args.gap.split(":"))
    emulator = FirestoreEmulator().start()
    try:
        with share(args.files, ("on", "off")) as (server, work):
            deps = {
                mode: deployment(
                    mode,
                    server,
                    work,
                    notify=mode == "on",
                    interval=args.interval,
                    emulator=emulator,
                )
                for mode in ("on", "off")
            }
            for dep in deps.values():
                dep.start("run", "--no-web")
            for mode, dep in deps.items():
                started(dep, mode == "on")
            print(f"both running ({args.files} files each, poll every {args.interval:g} s); "
                  f"{machine()}")  # fmt: skip
            samples = run_uploads(server, deps, emulator, sample, args.uploads, low, high)
            for dep in deps.values():
                dep.stop()
    finally:
        emulator.stop()
    print(f"\n{args.uploads} uploads, poll interval {args.interval:g} s; load now {load()}")
    results = {}
    for mode in ("on", "off"):
        values = samples[mode]
        results[mode] = (statistics.median(values), percentile(values, 0.95))
        median, p95 = results[mode]
        print(f"  notifications {mode:3}: median {median:6.2f} s, p95 {p95:6.2f} s, "
              f"min {min(values):6.2f}, max {max(values):6.2f}")  # fmt: skip
    on, off = results["on"], results["off"]
    print(f"  ratio off/on: median {off[0] / on[0]:.1f}x, p95 {off[1] / on[1]:.1f}x")


def run_uploads(
    server: SambaServer,
    deps: dict[str, Deployment],
    emulator: FirestoreEmulator,
    sample: bytes,
    uploads: int,
    low: float,
    high: float,
) -> dict[str, list[float]]:
    """Upload into every deployment at random moments; latency until each file's document
    exists in Firestore (watched by a thread while the uploads go on)."""
    waiting: dict[tuple[str, str], float] = {}  # (mode, path) -> closed at (monotonic)
    done: dict[str, list[float]] = {mode: [] for mode in deps}
    lock = threading.Lock()
    stop = threading.Event()

    def watcher() -> None:
        while not stop.is_set() or waiting:
            with lock:
                pending = list(waiting.items())
            if pending:
                docs = set(emulator.dump())
                now = time.monotonic()
                for (mode, path), closed in pending:
                    file_id = deps[mode].scalar("SELECT id FROM files WHERE path = ?", path)
                    if file_id is not None and f"files/{file_id}" in docs:
                        with lock:
                            waiting.pop((mode, path), None)
                        done[mode].append(now - closed)
                        print(f"    {mode:3} {path}: {now - closed:6.2f} s")
            for dep in deps.values():
                dep.alive()
            time.sleep(0.1)

    thread = threading.Thread(target=watcher, daemon=True)
    thread.start()
    uploaders = {mode: Uploader(server, mode) for mode in deps}
    rng = random.Random(19)
    try:
        for i in range(uploads):
            time.sleep(rng.uniform(low, high))
            order = list(deps) if i % 2 == 0 else list(reversed(deps))
            for mode in order:
                path = f"Uploads/WSOP 2025 Event #{i:02d}.mp4"
                uploaders[mode].put(path, sample)
                with lock:
                    waiting[(mode, path)] = time.monotonic()
            print(f"  upload {i + 1}/{uploads} (load {load()})")
        stop.set()
        thread.join(timeout=900)
    finally:
        for uploader in uploaders.values():
            uploader.close()
    if waiting:
        raise SystemExit(f"never published: {sorted(waiting)}")
    return done


# --- burst -----------------------------------------------------------------------------------


def burst(args: argparse.Namespace) -> None:
    sample = build()[SAMPLE].read_bytes()
    local = Path(tempfile.mkdtemp(prefix="bench-burst-src-"))
    try:
        for i in range(args.files):
            (local / f"clip {i:04d}.mp4").write_bytes(sample)
        rows = []
        for notify in (True, False):
            mode = "on" if notify else "off"
            with share(args.background, (mode,)) as (server, work):
                dep = deployment(mode, server, work, notify=notify, interval=args.interval)
                dep.start("run", "--no-web")
                started(dep, notify)
                rows.append(burst_once(server, dep, local, args.files, notify))
                dep.stop()
        print(f"\n{args.files} files of {len(sample):,} bytes, poll interval {args.interval:g} s; "
              f"{machine()}")  # fmt: skip
        for row in rows:
            print("  " + ", ".join(f"{k} {v}" for k, v in row.items()))
    finally:
        shutil.rmtree(local, ignore_errors=True)


def burst_once(
    server: SambaServer, dep: Deployment, local: Path, files: int, notify: bool
) -> dict[str, str]:
    polls0 = dep.scalar("SELECT count(*) FROM scans WHERE kind = 'poll'") or 0
    rounds0 = dep.scalar("SELECT rounds FROM notify_state") or 0 if notify else 0
    t0 = time.monotonic()
    copied = mput(server, local, f"{dep.name}/Uploads")

    def count(sql: str) -> int:
        dep.alive()
        return int(dep.scalar(sql) or 0)

    active_sql = "SELECT count(*) FROM files WHERE path LIKE 'Uploads/%' AND status = 'active'"
    wait(lambda: count(active_sql) >= files, 900, "all active", every=0.2)
    active = time.monotonic() - t0
    probed_sql = active_sql + " AND probe_state IN ('done', 'failed')"
    wait(lambda: count(probed_sql) >= files, 900, "all probed", every=0.2)
    probed = time.monotonic() - t0
    assert dep.proc is not None
    peak = peak_rss_mb(dep.proc.pid)
    polls = count("SELECT count(*) FROM scans WHERE kind = 'poll'") - polls0
    changing = count(
        "SELECT count(*) FROM scans WHERE kind = 'poll' AND "
        "files_new + files_changed + files_moved + files_stable + files_restored > 0"
    )
    rounds = (count("SELECT rounds FROM notify_state") - rounds0) if notify else 0
    return {
        "notifications": "on" if notify else "off",
        "copy": f"{copied:.1f} s",
        "all active after": f"{active:.1f} s",
        "all probed after": f"{probed:.1f} s",
        "rounds": str(rounds),
        "polls": str(polls),
        "polls that wrote": str(changing),
        "peak RSS": f"{peak:.0f} MB",
    }


# --- idle ------------------------------------------------------------------------------------


def idle(args: argparse.Namespace) -> None:
    with share(args.files, ("on", "off")) as (server, work):
        deps = {
            mode: deployment(mode, server, work, notify=mode == "on", interval=args.interval)
            for mode in ("on", "off")
        }
        for dep in deps.values():
            dep.start("watch", "--interval", str(args.interval))
        for mode, dep in deps.items():
            started(dep, mode == "on")
        time.sleep(60)  # start-up (first polls, the rescan) is not idle
        assert all(d.proc is not None for d in deps.values())
        cpu0 = {m: cpu_seconds(d.proc.pid) for m, d in deps.items()}  # type: ignore[union-attr]
        t0 = time.monotonic()
        time.sleep(args.minutes * 60)
        elapsed = time.monotonic() - t0
        cpu = {m: cpu_seconds(d.proc.pid) - cpu0[m] for m, d in deps.items()}  # type: ignore[union-attr]
        polls = {
            m: d.scalar("SELECT count(*) FROM scans WHERE kind = 'poll'") for m, d in deps.items()
        }
        for dep in deps.values():
            dep.stop()
    print(f"\nidle {elapsed / 60:.1f} min, {args.files} files, poll every {args.interval:g} s; "
          f"{machine()}")  # fmt: skip
    for mode in ("on", "off"):
        per_hour = cpu[mode] * 3600 / elapsed
        print(f"  notifications {mode:3}: {per_hour:6.1f} CPU s per hour "
              f"({per_hour / 36:.2f}% of one core), {polls[mode]} polls in all")  # fmt: skip


# --- watch-cost ------------------------------------------------------------------------------


def watch_cost(args: argparse.Namespace) -> None:
    from archive_analyzer.sources import open_source
    from archive_analyzer.sources.changes import Change, WatchHealth, WatchStatus

    class Sink:
        def __init__(self) -> None:
            self.answers = 0
            self.events = 0
            self.status_seen: WatchHealth | None = None

        def changes(self, batch: list[Change]) -> None:
            self.answers += 1
            self.events += len(batch)

        def status(self, status: WatchStatus) -> None:
            self.status_seen = status.health

    local = Path(tempfile.mkdtemp(prefix="bench-watch-src-"))
    try:
        for i in range(args.files):
            (local / f"f{i:04d}.bin").write_bytes(b"x" * 1000)
        with share(0, ("w",)) as (server, _work):
            source = open_source(f"{server.url}/w", smb_options(server))
            sink = Sink()
            watch = source.watch_changes(sink)  # type: ignore[attr-defined]
            wait(lambda: sink.status_seen is WatchHealth.ACTIVE, 30, "armed")
            time.sleep(1)
            idle_cpu0, idle_t0 = time.process_time(), time.monotonic()
            time.sleep(args.idle)
            idle_cpu = time.process_time() - idle_cpu0
            idle_s = time.monotonic() - idle_t0
            answers0, events0, cpu0 = sink.answers, sink.events, time.process_time()
            mput(server, local, "w/Uploads")
            wait(lambda: sink.events - events0 >= args.files, 60, "the events", every=0.2)
            time.sleep(1)
            cpu = time.process_time() - cpu0
            answers, events = sink.answers - answers0, sink.events - events0
            watch.close()
            source.close()
    finally:
        shutil.rmtree(local, ignore_errors=True)
    print(f"\nSMBWatch (smbprotocol) while smbclient copies {args.files} files; {machine()}")
    print(f"  {answers} notify answers, {events} events, this process's CPU {cpu * 1000:.0f} ms "
          f"({cpu * 1e6 / max(1, events):.0f} us per event, "
          f"{cpu * 1e3 / max(1, answers):.2f} ms per answer)")  # fmt: skip
    print(f"  idle: {idle_cpu * 1000:.1f} ms CPU in {idle_s:.0f} s "
          f"({idle_cpu * 3600 / idle_s:.2f} CPU s per hour)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    lat = sub.add_parser("latency")
    lat.add_argument("--uploads", type=int, default=20)
    lat.add_argument("--interval", type=float, default=60.0)
    lat.add_argument("--gap", default="5:25")
    lat.add_argument("--files", type=int, default=2000)
    bur = sub.add_parser("burst")
    bur.add_argument("--files", type=int, default=1000)
    bur.add_argument("--interval", type=float, default=60.0)
    bur.add_argument("--background", type=int, default=2000)
    idl = sub.add_parser("idle")
    idl.add_argument("--minutes", type=float, default=10.0)
    idl.add_argument("--files", type=int, default=2000)
    idl.add_argument("--interval", type=float, default=60.0)
    cost = sub.add_parser("watch-cost")
    cost.add_argument("--files", type=int, default=1000)
    cost.add_argument("--idle", type=float, default=120.0)
    args = parser.parse_args()
    {"latency": latency, "burst": burst, "idle": idle, "watch-cost": watch_cost}[args.command](args)


if __name__ == "__main__":
    main()
