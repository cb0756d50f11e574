"""Probe strategies on the generated corpus over a loopback Samba share.

For each strategy (smart, ladder = the seed's baseline, full): field accuracy against ffprobe
truth, bytes read per file (median / p95 / max), median ms per file (one at a time), and files
per second with a pool of 4 over SMB. Prints a Markdown table (the one in docs/benchmarks.md).

    .venv/bin/python -m bench.probe [--rounds N] [--strategies smart,ladder,full]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

from tests.fixtures.corpus import ITEMS, build
from tests.fixtures.smb import SambaServer
from tests.probe.truth import mismatches

from archive_analyzer.probe.engine import DEFAULT_BUDGET, ProbeOptions, probe_many
from archive_analyzer.probe.result import ProbeResult
from archive_analyzer.sources import open_source


def _p95(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _kib(value: float) -> str:
    return f"{value / 1024:,.1f} KiB" if value < 1024 * 1024 else f"{value / 1024**2:,.2f} MiB"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=8, help="corpus passes for smart's files/s")
    parser.add_argument("--strategies", default="smart,ladder,full")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)

    corpus = build()
    names = [item.name for item in ITEMS]
    server = SambaServer()
    server.start()
    try:
        folder = server.new_folder("bench")
        for path in corpus.values():
            target = folder.root / path.name
            try:
                os.link(path, target)
            except OSError:
                shutil.copyfile(path, target)
            target.chmod(0o644)
        # production read options (the test helper checks versions before every read)
        source = open_source(folder.url, folder.options(recheck_s=2.0))
        source.connect()
        paths = [(corpus[n].name, corpus[n].stat().st_size) for n in names]
        rows = []
        for strategy in args.strategies.split(","):
            # one at a time: accuracy, bytes, ms per file
            serial: list[ProbeResult] = list(
                probe_many(
                    source, paths, ProbeOptions(strategy=strategy, timeout_s=120, concurrency=1)
                )
            )
            wrong = {
                n: m for n, r in zip(names, serial, strict=True) if (m := mismatches(n, r, corpus))
            }
            # ffprobe has no truncated/incomplete verdict: count fields alone as well
            fields_wrong = [
                n for n, m in wrong.items() if any(not p.startswith("status") for p in m)
            ]
            sizes = [r.bytes_read for r in serial]
            ms = statistics.median(r.probe_ms for r in serial)
            # a pool over SMB: files per second
            rounds = args.rounds if strategy == "smart" else 1
            batch = paths * rounds
            start = time.monotonic()
            pooled = list(
                probe_many(
                    source,
                    batch,
                    ProbeOptions(strategy=strategy, timeout_s=120, concurrency=args.concurrency),
                )
            )
            elapsed = time.monotonic() - start
            rate = len(pooled) / elapsed
            rows.append(
                (
                    strategy,
                    f"{len(names) - len(wrong)}/{len(names)}",
                    f"{len(names) - len(fields_wrong)}/{len(names)}",
                    _kib(statistics.median(sizes)),
                    _kib(_p95(sizes)),
                    _kib(max(sizes)),
                    f"{ms:.1f}",
                    f"{rate:.1f}",
                    f"{len(pooled)}",
                )
            )
            for name, problems in wrong.items():
                print(f"  {strategy} wrong on {name}: {'; '.join(problems)}", file=sys.stderr)
            big = {n: r.bytes_read for n, r in zip(names, serial, strict=True)}
            for name in ("mp4_2h_moov_end", "mp4_frag_2h", "mp4_frag_31min"):
                print(f"  {strategy} {name}: {_kib(big[name])}", file=sys.stderr)
        source.close()
        if "full" in args.strategies.split(","):
            rows.append(_full_local(corpus, names, args.concurrency))
    finally:
        server.close()

    total_mb = sum(p.stat().st_size for p in corpus.values()) / 1e6
    print(
        f"Corpus: {len(names)} files ({total_mb:.0f} MB), budget {DEFAULT_BUDGET // 2**20} MiB, "
        f"loopback Samba, {os.cpu_count()} cores, Python {platform.python_version()}\n"
    )
    print(
        "| strategy | accurate (status + fields) | accurate fields | median bytes | p95 bytes | "
        "max bytes | median ms/file (serial) | files/s (pool of 4) | files in pool run |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


def _full_local(corpus: dict[str, Path], names: list[str], concurrency: int) -> tuple[str, ...]:
    """``full`` by local path (seekable: the ground truth); bytes from ffprobe's I/O counters."""
    from concurrent.futures import ThreadPoolExecutor

    from archive_analyzer.probe.engine import probe_file

    local = open_source(str(next(iter(corpus.values())).parent))
    full = ProbeOptions(strategy="full", timeout_s=120)

    def one(name: str) -> ProbeResult:
        return probe_file(local, corpus[name].name, full, local_path=corpus[name])

    serial = [one(n) for n in names]
    wrong = {n: m for n, r in zip(names, serial, strict=True) if (m := mismatches(n, r, corpus))}
    fields_wrong = [n for n, m in wrong.items() if any(not p.startswith("status") for p in m)]
    sizes = [r.bytes_read for r in serial]
    start = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        pooled = list(pool.map(one, names))
    rate = len(pooled) / (time.monotonic() - start)
    for name, problems in wrong.items():
        print(f"  full-local wrong on {name}: {'; '.join(problems)}", file=sys.stderr)
    return (
        "full, local path (truth)",
        f"{len(names) - len(wrong)}/{len(names)}",
        f"{len(names) - len(fields_wrong)}/{len(names)}",
        _kib(statistics.median(sizes)),
        _kib(_p95(sizes)),
        _kib(max(sizes)),
        f"{statistics.median(r.probe_ms for r in serial):.1f}",
        f"{rate:.1f} (local)",
        f"{len(pooled)}",
    )


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
