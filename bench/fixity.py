"""Fixity benchmarks (issue 18), all over a throwaway loopback smbd.

``throughput``: one ``--mib`` MiB file read front to back through the source's sequential read
path, first without hashing (the baseline: the raw read path, same file, same run), then
through ``fixity.hasher.hash_file`` (whole-file xxh128 + 256 MiB chunk hashes + the sampled
hash, no rate cap). Reports MiB/s, the ratio (target >= 0.9) and CPU seconds per GiB of this
process (user + system; smbd's own CPU is not counted). Three rounds, alternating.

``viewer``: a viewer's ``/stream`` of a second file through ``archive-analyzer serve`` (curl,
whole file) alone, then while a hash job reads a third file at its cap (``hash_max_mib_s``)
with the viewer signal ignored, then with it honoured (the web app's beacon through the queue
store: hashing drops to ``hash_busy_mib_s``).

``duplicates``: 1,000 files (64 KiB-4 MiB, random bytes, 50 of them byte copies of others in
other folders) catalogued, then the time until the duplicate report lists the 50 copies:
sampled (size + first/middle/last MiB, then the report) vs full (whole-file hashes in the
order the hasher takes files, the report checked after each).

    .venv/bin/python -m bench.fixity throughput [--mib 1024]
    .venv/bin/python -m bench.fixity viewer [--mib 512]
    .venv/bin/python -m bench.fixity duplicates [--files 1000 --copies 50]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from tests.fixtures.net import free_port, port_open, wait_for
from tests.fixtures.smb import SambaServer

from archive_analyzer import pipeline
from archive_analyzer.catalog import db, duplicates
from archive_analyzer.config import Settings
from archive_analyzer.fixity.hasher import HashControl, HashRequest, hash_file
from archive_analyzer.fixity.reading import read_blocks
from archive_analyzer.fixity.throttle import MIB, Throttle
from archive_analyzer.scan.progress import NullProgress
from archive_analyzer.sources.base import Source
from archive_analyzer.verification import FixityOptions, sample_all

GIB = 1024 * MIB
PASSWORD = "quiet lantern orchard 1"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _fill(path: Path, size: int, seed: int) -> None:
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        left = size
        block = rng.randbytes(8 * MIB)
        while left > 0:
            out.write(block[: min(left, len(block))])
            left -= len(block)
            block = block[1:] + block[:1]  # cheap variation between blocks


def _server(root_files: Callable[[Path], None]) -> SambaServer:
    server = SambaServer()
    root_files(server.root)
    for folder, _, files in os.walk(server.root):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    server.start()
    return server


def _settings(server: SambaServer, **extra: object) -> Settings:
    return Settings(smb_password=server.password, smb_timeout_s=30.0, **extra)  # type: ignore[arg-type]


def _source(server: SambaServer) -> Source:
    source = pipeline.source_opener(_settings(server))(server.url)
    source.connect()
    return source


# --- throughput ------------------------------------------------------------------------------


def throughput(mib: int, rounds: int) -> None:
    size = mib * MIB
    server = _server(lambda root: _fill(root / "master.bin", size, 1))
    try:
        source = _source(server)
        info = source.stat("master.bin")
        rows: list[tuple[str, float, float]] = []
        for n in range(rounds):
            t0, c0 = time.perf_counter(), _cpu()
            read = sum(len(b) for b in read_blocks(source, "master.bin"))
            raw = (time.perf_counter() - t0, _cpu() - c0)
            assert read == size
            request = HashRequest("master.bin", info.size, info.mtime, 256 * MIB)
            t0, c0 = time.perf_counter(), _cpu()
            result = hash_file(source, request, throttle=Throttle(max_bps=0))
            hashed = (time.perf_counter() - t0, _cpu() - c0)
            assert result.xxh128 is not None and result.bytes_read == size
            rows.append(("raw read", mib / raw[0], raw[1] / (size / GIB)))
            rows.append(("hash", mib / hashed[0], hashed[1] / (size / GIB)))
            print(f"round {n + 1}: raw {mib / raw[0]:.1f} MiB/s, hash {mib / hashed[0]:.1f} MiB/s,"
                  f" ratio {raw[0] / hashed[0]:.2f}; CPU s/GiB raw {raw[1] / (size / GIB):.2f},"
                  f" hash {hashed[1] / (size / GIB):.2f}", flush=True)  # fmt: skip
        source.close()
        raws = [r for r in rows if r[0] == "raw read"]
        hashes = [r for r in rows if r[0] == "hash"]
        ratios = sorted(h[1] / r[1] for r, h in zip(raws, hashes, strict=True))
        mid = len(ratios) // 2

        def median(values: list[float]) -> float:
            return sorted(values)[mid]

        print(f"median of the rounds' ratios: {ratios[mid]:.2f} (all: "
              f"{', '.join(f'{x:.2f}' for x in ratios)}); median MiB/s raw "
              f"{median([r[1] for r in raws]):.1f}, hash {median([h[1] for h in hashes]):.1f};"
              f" median CPU s/GiB raw {median([r[2] for r in raws]):.2f}, hash "
              f"{median([h[2] for h in hashes]):.2f}")  # fmt: skip
        print(f"load average: {os.getloadavg()}")
    finally:
        server.close()


# --- a viewer's stream while hashing -------------------------------------------------------


def viewer(mib: int, seconds: float, rounds: int) -> None:
    size = mib * MIB

    def files(root: Path) -> None:
        _fill(root / "stream.mp4", size, 2)
        _fill(root / "hash.bin", size, 3)

    server = _server(files)
    work = Path(tempfile.mkdtemp(prefix="bench-fixity-"))
    try:
        serve = _Serve(work, server)

        def measure() -> float:
            return serve.stream(seconds)

        alone: list[float] = []
        capped: list[tuple[float, float]] = []
        polite: list[tuple[float, float]] = []
        try:
            for n in range(rounds):  # alternating, so a load swing hits every case alike
                alone.append(measure())
                capped.append(_with_hashing(server, work, ignore_viewers=True, during=measure))
                polite.append(_with_hashing(server, work, ignore_viewers=False, during=measure))
                print(f"round {n + 1}: alone {alone[-1]:.1f}, hashing at cap {capped[-1][0]:.1f} "
                      f"(hash {capped[-1][1]:.1f}), viewers first {polite[-1][0]:.1f} "
                      f"(hash {polite[-1][1]:.1f}) MiB/s", flush=True)  # fmt: skip
        finally:
            serve.stop()
        defaults = Settings()
        mid = rounds // 2

        def med(values: list[float]) -> float:
            return sorted(values)[mid]

        print(f"median stream alone: {med(alone):.1f} MiB/s")
        print(f"median stream while hashing at hash_max_mib_s={defaults.hash_max_mib_s:g}, "
              f"viewers ignored: {med([c[0] for c in capped]):.1f} MiB/s "
              f"(hash {med([c[1] for c in capped]):.1f} MiB/s)")  # fmt: skip
        print(f"median stream while hashing, viewers first (hash_busy_mib_s="
              f"{defaults.hash_busy_mib_s:g}): {med([p[0] for p in polite]):.1f} MiB/s "
              f"(hash {med([p[1] for p in polite]):.1f} MiB/s)")  # fmt: skip
        print(f"load average: {os.getloadavg()}")
    finally:
        server.close()
        shutil.rmtree(work, ignore_errors=True)


class _Serve:
    """``archive-analyzer serve`` on the SMB share, one user, one episode on stream.mp4."""

    def __init__(self, work: Path, server: SambaServer) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.work = work
        cli = str(Path(sys.executable).with_name("archive-analyzer"))
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")},
            "ARCHIVE_DATA_DIR": str(work / "data"),
            "ARCHIVE_SOURCE": server.url,
            "ARCHIVE_SMB_PASSWORD": server.password,
            "ARCHIVE_DB": str(work / "web.db"),
        }
        settings = _settings(server, db=work / "web.db", source=server.url)
        pipeline.scan(settings, progress=NullProgress())
        subprocess.run([cli, "users", "add", "bench"], input=PASSWORD + "\n", text=True,
                       check=True, env=self.env, capture_output=True)  # fmt: skip
        self.proc = subprocess.Popen(
            [cli, "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: port_open(self.port), timeout=30, what="serve")
        conn = db.connect(work / "web.db", migrate=False)
        self.content = conn.execute(
            "SELECT c.id FROM contents c JOIN files f ON f.id = c.file_id "
            "WHERE f.path = 'stream.mp4'"
        ).fetchone()[0]
        conn.close()
        with httpx.Client(base_url=self.url) as client:
            page = client.get("/login")
            token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
            client.post("/login", data={"username": "bench", "password": PASSWORD,
                                        "csrf": token, "next": "/"})  # fmt: skip
            self.cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())

    def stream(self, seconds: float) -> float:
        """MiB/s of one curl client streaming the file for up to ``seconds``."""
        done = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{time_total}",
             "--max-time", str(seconds), "-H", f"Cookie: {self.cookie}",
             f"{self.url}/stream/{self.content}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        nbytes, total = done.stdout.split()
        return int(nbytes) / MIB / float(total)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def _with_hashing(
    server: SambaServer, work: Path, *, ignore_viewers: bool, during: Callable[[], float]
) -> tuple[float, float]:
    """Run ``during`` while a thread hashes hash.bin over and over with the default caps."""
    from archive_analyzer.jobs.hashing import viewers_present
    from archive_analyzer.jobs.queue import WRITER_QUEUE, open_queue_storage

    settings = _settings(server, data_dir=work / "data")
    options = FixityOptions.from_settings(settings)
    huey = open_queue_storage(settings).huey(WRITER_QUEUE)
    viewers = (lambda: False) if ignore_viewers else viewers_present(huey)
    stop = threading.Event()
    moved = [0]  # bytes hashed so far, counted as the throttle sees them

    class Counting(Throttle):
        def take(self, nbytes: int) -> None:
            moved[0] += nbytes
            super().take(nbytes)

    def hasher() -> None:
        source = _source(server)
        info = source.stat("hash.bin")
        while not stop.is_set():
            throttle = Counting(max_bps=options.max_bps, busy_bps=options.busy_bps,
                                viewers=viewers, should_stop=stop.is_set)  # fmt: skip
            hash_file(
                source, HashRequest("hash.bin", info.size, info.mtime, 256 * MIB),
                throttle=throttle, control=HashControl(should_stop=stop.is_set),
            )  # fmt: skip
        source.close()

    thread = threading.Thread(target=hasher)
    thread.start()
    time.sleep(3)  # hashing up to speed
    start_bytes, start = moved[0], time.perf_counter()
    rate = during()
    hashed = (moved[0] - start_bytes) / MIB / max(1e-9, time.perf_counter() - start)
    stop.set()
    thread.join()
    return rate, hashed


# --- time to the first duplicate report -------------------------------------------------------


def duplicates_bench(count: int, copies: int) -> None:
    rng = random.Random(7)
    sizes = [rng.randrange(64 * 1024, 4 * MIB) for _ in range(count - copies)]
    originals = [f"Show {i // 40:02d}/Episode {i:04d}.bin" for i in range(count - copies)]
    copied = rng.sample(range(len(originals)), copies)

    def files(root: Path) -> None:
        for i, (name, size) in enumerate(zip(originals, sizes, strict=True)):
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(random.Random(i).randbytes(size))
        for n, i in enumerate(copied):
            target = root / f"Backup {n % 5}/복사본/{Path(originals[i]).name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / originals[i], target)

    server = _server(files)
    work = Path(tempfile.mkdtemp(prefix="bench-dupes-"))
    try:
        total = sum(sizes) + sum(sizes[i] for i in copied)
        for mode in ("sampled", "full"):
            db_path = work / f"{mode}.db"
            settings = _settings(server, db=db_path, source=server.url, hash_chunk_mib=256)
            pipeline.scan(settings, progress=NullProgress(), probe=False)
            conn = db.connect(db_path)
            source = _source(server)
            t0 = time.perf_counter()
            first = all_found = None
            if mode == "sampled":
                sample_all(conn, source, clock=db.utc_now)
                found = [g for g in duplicates.report(conn) if g.kind == "identical"]
                first = all_found = time.perf_counter() - t0
                assert len(found) == copies, len(found)
            else:
                from archive_analyzer import verification
                from archive_analyzer.catalog import fixity as store

                options = FixityOptions(chunk_bytes=256 * MIB, max_bps=0, frames=False)
                throttle = Throttle(max_bps=0)
                targets = store.targets(conn, source.name, now=db.utc_now(), interval_days=0)
                seen: dict[str, int] = {}
                groups = 0
                for target in targets:
                    line = verification.check_one(conn, source, target, options,
                                                  clock=db.utc_now, throttle=throttle)  # fmt: skip
                    if line.xxh128 is None:
                        continue
                    seen[line.xxh128] = seen.get(line.xxh128, 0) + 1
                    if seen[line.xxh128] == 2:
                        groups += 1
                        if first is None:
                            first = time.perf_counter() - t0
                        if groups == copies:
                            all_found = time.perf_counter() - t0
                            break
                found = [g for g in duplicates.report(conn) if g.confirmed]
                assert len(found) == copies, len(found)
            source.close()
            conn.close()
            print(f"{mode}: first group after {first:.2f} s, all {copies} after {all_found:.2f} s "
                  f"({count} files, {total / GIB:.2f} GiB)", flush=True)  # fmt: skip
        print(f"load average: {os.getloadavg()}")
    finally:
        server.close()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    one = sub.add_parser("throughput")
    one.add_argument("--mib", type=int, default=1024)
    one.add_argument("--rounds", type=int, default=3)
    two = sub.add_parser("viewer")
    two.add_argument("--mib", type=int, default=512)
    two.add_argument("--seconds", type=float, default=15.0)
    two.add_argument("--rounds", type=int, default=3)
    three = sub.add_parser("duplicates")
    three.add_argument("--files", type=int, default=1000)
    three.add_argument("--copies", type=int, default=50)
    args = parser.parse_args()
    if args.what == "throughput":
        throughput(args.mib, args.rounds)
    elif args.what == "viewer":
        viewer(args.mib, args.seconds, args.rounds)
    else:
        duplicates_bench(args.files, args.copies)


if __name__ == "__main__":
    main()
