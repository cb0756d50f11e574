"""What keeping the search index in the writer's transaction costs the writer.

    .venv/bin/python -m bench.index_cost [--rounds 3] [--batch 500]

Classifies the generated archive (``bench/archive_paths.py``, ~3,000 paths) into a fresh
catalog with ``contents.refresh`` in batches of ``--batch`` files, one transaction each, as a
scan does: once as it runs now (each batch also renders its contents' search documents,
``search_index.catch_up``) and, as the baseline in the same run, with the index left to
someone else (the queue filled by the triggers, nothing rendered: the writer's cost before
issue 12). Reports ms per file for both, the difference per indexed content, and what
rendering the baseline's queued documents afterwards costs (the work that moved).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from archive_analyzer.catalog import contents, db, search_index
from archive_analyzer.catalog.files import is_media
from archive_analyzer.catalog.rules import default_rules
from bench.archive_paths import generate


def _files(conn: db.sqlite3.Connection, paths: list[str]) -> list[str]:
    stamp = db.timestamp(db.utc_now())
    ids: list[str] = []
    with db.transaction(conn):
        for path in paths:
            fid = db.new_id()
            name = path.rsplit("/", 1)[-1]
            conn.execute(
                "INSERT INTO files (id, source, path, name, ext, size, mtime, is_media, "
                "first_seen, last_seen, updated_at) VALUES (?, 'bench', ?, ?, ?, 1, 0, ?, ?, ?, ?)",
                (
                    fid,
                    path,
                    name,
                    name.rsplit(".", 1)[-1].lower(),
                    int(is_media(path)),
                    stamp,
                    stamp,
                    stamp,
                ),
            )
            ids.append(fid)
    return ids


def run(tmp: Path, paths: list[str], batch: int, index: bool) -> tuple[float, int, float]:
    """Seconds to classify every path in batches, the number of documents made, and (for
    the baseline) the seconds that rendering the queued documents afterwards takes."""
    conn = db.connect(tmp / f"{'index' if index else 'queue'}-{time.monotonic_ns()}.db")
    ids = _files(conn, paths)
    rules = default_rules()
    keep = search_index.catch_up
    if not index:
        search_index.catch_up = lambda conn: 0  # type: ignore[assignment]
    try:
        t0 = time.perf_counter()
        for start in range(0, len(ids), batch):
            with db.transaction(conn):
                contents.refresh(conn, ids[start : start + batch], now=db.utc_now, rules=rules)
        elapsed = time.perf_counter() - t0
    finally:
        search_index.catch_up = keep  # type: ignore[assignment]
    later = 0.0
    if not index:
        t0 = time.perf_counter()
        with db.transaction(conn):
            search_index.catch_up(conn)
        later = time.perf_counter() - t0
    docs = int(conn.execute("SELECT count(*) FROM search_docs").fetchone()[0])
    conn.close()
    return elapsed, docs, later


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    paths = [s.path.replace("\\", "/") for s in generate()]
    with tempfile.TemporaryDirectory() as tmp:
        with_index: list[float] = []
        without: list[float] = []
        afterwards: list[float] = []
        docs = 0
        for n in range(args.rounds):
            # alternate which goes first, so neither always meets a warmer machine
            for index in (True, False) if n % 2 == 0 else (False, True):
                elapsed, made, later = run(Path(tmp), paths, args.batch, index=index)
                if index:
                    with_index.append(elapsed)
                else:
                    without.append(elapsed)
                    afterwards.append(later)
                docs = made
    n = len(paths)
    a, b = statistics.median(with_index), statistics.median(without)
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{n} paths, {docs} documents, batches of {args.batch}, median of {args.rounds}")
    print(f"classify + index in the transaction: {a * 1000 / n:.2f} ms/file ({a:.1f} s)")
    print(f"classify, index left queued (before): {b * 1000 / n:.2f} ms/file ({b:.1f} s)")
    print(f"ratio {a / b:.2f}x; difference {(a - b) * 1000 / max(1, docs):.2f} ms per document")
    later = statistics.median(afterwards)
    print(f"rendering the {docs} queued documents afterwards: {later * 1000 / docs:.2f} ms each")


if __name__ == "__main__":
    main()
