"""Jobs benchmark: probe throughput through the job queue over a loopback Samba share.

For each queue backend (SQLite = the embedded default, Redis = the multi-host one), enqueues one
probe task per file and runs a probe consumer with 1, 2 and 4 worker threads (what
``archive-analyzer worker --workers N`` runs) until every outcome is in the results queue.
The baseline, in the same run: ``pipeline.run_probe`` called directly, one file after the
other, in this process. Overhead per job = (queue with 1 worker - direct) / files.

    .venv/bin/python -m bench.jobs [--files 240] [--reps 3] [--workers 1,2,4] [--no-processes]

Worker threads in one process (``worker --workers N``) and N worker processes (``worker``
started N times, the model for more hosts) are both measured.

The baseline opens an SMB session per probe (``pipeline.run_probe`` on a closed pool); queued
workers reuse one open source per thread (``sources.SourcePool``); the reference line "one
shared connection" is the engine alone on one open connection.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.fixtures.corpus import build
from tests.fixtures.net import free_port, port_open, wait_for
from tests.fixtures.smb import SambaServer

from archive_analyzer.config import Settings
from archive_analyzer.jobs.client import task_options
from archive_analyzer.jobs.consumers import probe_consumer, probing_tasks
from archive_analyzer.jobs.queue import Queues, build_queues
from archive_analyzer.jobs.tasks import Tasks, register_tasks
from archive_analyzer.pipeline import ProbeJob, probe_options, run_probe, source_opener
from archive_analyzer.probe.engine import probe_file
from archive_analyzer.sources import SourcePool

# Small files of each container family the archive holds (sizes 40 KB - 1 MB).
NAMES = ("mp4_faststart", "mp4_moov_end", "mov_h264", "mxf_closed", "mkv", "ts_2audio", "webm")


def fill_share(folder: Path, corpus: dict[str, Path], files: int) -> list[tuple[str, int]]:
    """``files`` hard links (or copies) of the corpus files under ``folder``."""
    made: list[tuple[str, int]] = []
    for n in range(files):
        src = corpus[NAMES[n % len(NAMES)]]
        rel = f"Season {n // 40:02d}/Episode {n:04d}{src.suffix}"
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.parent.chmod(0o755)
        try:
            os.link(src, target)
        except OSError:
            shutil.copyfile(src, target)
        target.chmod(0o644)
        made.append((rel, src.stat().st_size))
    return made


def direct(jobs: list[ProbeJob], settings: Settings, expect: str = "ok") -> float:
    """Seconds to probe every job with ``pipeline.run_probe``, one after the other, each on a
    source opened and closed for it (a closed pool)."""
    once = SourcePool(source_opener(settings))
    once.close()
    start = time.perf_counter()
    for job in jobs:
        result = run_probe(job, once, probe_options(settings))
        assert result.status.value == expect, result
    return time.perf_counter() - start


def shared_connection(jobs: list[ProbeJob], settings: Settings) -> float:
    """Seconds to probe every job on one open source (the engine alone, no per-job login)."""
    source = source_opener(settings)(jobs[0].source)
    source.connect()
    try:
        start = time.perf_counter()
        for job in jobs:
            result = probe_file(source, job.path, probe_options(settings), size=job.size)
            assert result.status.value == "ok", result
        return time.perf_counter() - start
    finally:
        source.close()


def _empty_queues(settings: Settings) -> Queues:
    """The queues of ``settings``, emptied of what an earlier run left (jobs and outcomes)."""
    queues = build_queues(settings)
    for huey in (queues.writer, queues.probe):
        huey.flush()
    queues.results.take(10**6)
    return queues


def _probe_all(jobs: list[ProbeJob], queues: Queues, tasks: Tasks) -> float:
    """Seconds from the first enqueue of ``jobs`` until every outcome is in the results
    queue (the clock the figures report)."""
    start = time.perf_counter()
    for job in jobs:
        tasks.probe.enqueue(job)
    wait_for(lambda: queues.results.size() >= len(jobs), timeout=600, interval=0.005, what="all")
    return time.perf_counter() - start


def queued(jobs: list[ProbeJob], settings: Settings, workers: int, expect: str = "ok") -> float:
    """Seconds from the first enqueue until every outcome is in the results queue, with a
    probe consumer of ``workers`` threads (started before the enqueues, as in production)."""
    queues = _empty_queues(settings)
    with probing_tasks(queues, settings) as tasks:
        consumer = probe_consumer(queues, settings, workers)
        consumer.start()
        try:
            elapsed = _probe_all(jobs, queues, tasks)
        finally:
            consumer.stop(graceful=True)
    outcomes = queues.results.take(len(jobs))
    assert len(outcomes) == len(jobs)
    assert all(o.result is not None and o.result.status.value == expect for o in outcomes)
    return elapsed


def queued_processes(jobs: list[ProbeJob], settings: Settings, processes: int) -> float:
    """Like ``queued`` but with ``processes`` separate ``archive-analyzer worker --workers 1``
    processes (the model for more hosts), started and ready before the clock starts."""
    queues = _empty_queues(settings)
    tasks = register_tasks(queues, task_options(settings))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env.update(
        {
            "ARCHIVE_DATA_DIR": str(settings.data_dir),
            "ARCHIVE_PROBE_STRATEGY": settings.probe_strategy,
            "ARCHIVE_SMB_TIMEOUT_S": str(settings.smb_timeout_s),
        }
    )
    if settings.smb_password is not None:
        env["ARCHIVE_SMB_PASSWORD"] = settings.smb_password.get_secret_value()
    if settings.redis_url is not None:
        env["ARCHIVE_REDIS_URL"] = settings.redis_url.get_secret_value()
    logs = [settings.data_dir / f"worker-{n}.log" for n in range(processes)]
    procs = []
    for log in logs:
        with log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "archive_analyzer", "worker", "--workers", "1"],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        for proc, log in zip(procs, logs, strict=True):

            def up(proc: subprocess.Popen[bytes] = proc, log: Path = log) -> bool:
                if proc.poll() is not None:
                    raise RuntimeError(f"worker exited early:\n{log.read_text()[-2000:]}")
                return "probe worker up" in log.read_text()

            wait_for(up, timeout=300, what="worker start-up")
        # Warm up: the first probe in a process imports the probe engine (PyAV and all).
        for job in jobs[: 2 * processes]:
            tasks.probe.enqueue(job)
        wait_for(lambda: queues.results.size() >= 2 * processes, timeout=120, what="warm-up")
        queues.results.take(2 * processes)
        elapsed = _probe_all(jobs, queues, tasks)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)
    outcomes = queues.results.take(len(jobs))
    assert len(outcomes) == len(jobs)
    return elapsed


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: port_open(port), timeout=20, what="redis-server")
    return proc, f"redis://127.0.0.1:{port}/0"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=240)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--backends", default="sqlite,redis")
    parser.add_argument("--overhead-jobs", type=int, default=400)
    parser.add_argument(
        "--no-processes", dest="processes", action="store_false", help="threads only"
    )
    args = parser.parse_args(argv)
    worker_counts = [int(w) for w in args.workers.split(",")]

    corpus = build()
    server = SambaServer()
    server.start()
    work = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    redis_proc: subprocess.Popen[bytes] | None = None
    lines: list[str] = []
    overhead_lines: list[str] = []
    try:
        folder = server.new_folder("bench")
        made = fill_share(folder.root, corpus, args.files)
        common = {"data_dir": work / "data", "probe_strategy": "smart"}
        base = server.settings(**common)
        jobs = [
            ProbeJob(f"id{n:05d}", folder.url, rel, size, 0.0) for n, (rel, size) in enumerate(made)
        ]
        total_bytes = sum(size for _, size in made)
        direct(jobs[:1], base)  # warm caches and imports for every contender alike

        contenders: list[tuple[str, Callable[[], float]]] = [
            ("direct `pipeline.run_probe`, 1 thread (baseline)", lambda: direct(jobs, base)),
            (
                "reference: `probe_file` on one shared connection",
                lambda: shared_connection(jobs, base),
            ),
        ]
        backends: list[tuple[str, Settings]] = []
        for backend in args.backends.split(","):
            settings = base
            if backend == "redis":
                redis_proc, url = start_redis(work)
                settings = server.settings(**common, redis_url=url)
            backends.append((backend, settings))
            for workers in worker_counts:
                contenders.append(
                    (
                        f"{backend} queue, 1 process x {workers} worker thread(s)",
                        functools.partial(queued, jobs, settings, workers),
                    )
                )
            for processes in worker_counts if args.processes else ():
                if processes > 1:  # one process is one thread plus a process start-up
                    contenders.append(
                        (
                            f"{backend} queue, {processes} worker processes x 1 thread",
                            functools.partial(queued_processes, jobs, settings, processes),
                        )
                    )
        # Queue overhead on its own: the same probe task on a tiny local non-media file (the
        # probe itself takes well under a millisecond), direct against through each queue.
        local = work / "local"
        local.mkdir()
        (local / "note.mp4").write_text("not a video\n" * 100)
        tiny = [
            ProbeJob(f"tiny{n:05d}", str(local), "note.mp4", 1200, 0.0)
            for n in range(args.overhead_jobs)
        ]
        overhead: list[tuple[str, Callable[[], float]]] = [
            ("direct `pipeline.run_probe`, tiny local file", lambda: direct(tiny, base, "invalid"))
        ]
        for backend, settings in backends:
            overhead.append(
                (
                    f"{backend} queue, 1 worker thread, tiny local file",
                    functools.partial(queued, tiny, settings, 1, "invalid"),
                )
            )
        # Interleaved: every repetition runs every contender once, so load from elsewhere on
        # the machine hits them alike; the overhead is the median of same-repetition pairs.
        times: dict[str, list[float]] = {label: [] for label, _ in contenders + overhead}
        for _ in range(args.reps):
            for label, run in contenders + overhead:
                times[label].append(run())
        tiny_base = times[overhead[0][0]]
        for label, _ in overhead:
            med = statistics.median(times[label])
            pairs = [(q - d) / len(tiny) for q, d in zip(times[label], tiny_base, strict=True)]
            extra = "-" if label == overhead[0][0] else f"{1000 * statistics.median(pairs):+.3f}"
            overhead_lines.append(
                f"| {label} | {1000 * med / len(tiny):.3f} | {extra} | {_fmt(times[label])} |"
            )
        n = len(jobs)
        baseline = times[contenders[0][0]]
        for label, _ in contenders:
            med = statistics.median(times[label])
            overhead = "-"
            if "1 process x 1 worker" in label:
                pairs = [(q - d) / n for q, d in zip(times[label], baseline, strict=True)]
                overhead = f"{1000 * statistics.median(pairs):+.2f}"
            lines.append(
                f"| {label} | {n / med:.1f} | {1000 * med / n:.2f} | {overhead} | "
                f"{_fmt(times[label])} |"
            )
        load = os.getloadavg()
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)
        server.close()
        shutil.rmtree(work, ignore_errors=True)

    print(f"machine: {platform.node()}, {os.cpu_count()} cores, {platform.platform()}, "
          f"Python {platform.python_version()}")  # fmt: skip
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"files: {args.files} ({total_bytes / 1e6:.1f} MB) on a loopback smbd, "
          f"strategy smart, {args.reps} interleaved reps (median)")  # fmt: skip
    print()
    print("| path | files/s | ms/file | queue overhead ms/job | runs (s) |")
    print("|---|---|---|---|---|")
    for line in lines:
        print(line)
    print()
    print(f"queue overhead: {args.overhead_jobs} jobs on a tiny local file per run")
    print()
    print("| path | ms/job | overhead ms/job (paired median) | runs (s) |")
    print("|---|---|---|---|")
    for line in overhead_lines:
        print(line)
    return 0


def _fmt(times: list[float]) -> str:
    return " ".join(f"{t:.2f}" for t in times)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
