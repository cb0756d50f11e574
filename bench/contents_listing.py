"""GET /api/contents over 100,000 contents: a deep page by cursor vs by page number (offset).

    .venv/bin/python -m bench.contents_listing [--db FILE] [--contents 100000] [--rounds 5]

Uses the synthetic catalog of ``bench.search`` (the same ``--db`` is reused; building it takes
about a minute). Times the read model's listing (``listing.list_contents``, what the route runs,
50 per page, newest first) and its count: the first page, a page deep in the listing reached
by ``offset`` (the baseline: ``page=N``) and the same page reached by its key (``cursor``).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from archive_analyzer.catalog import db, listing
from bench.search import build
from bench.timing import timed

PER_PAGE = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contents", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--db", type=Path, default=None, help="keep/reuse the catalog here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.db"
        conn = db.connect(path) if path.exists() else build(path, args.contents)
        conn.execute("PRAGMA cache_size = -32768")  # as the web app's pooled connections
        everything = listing.ContentFilter()
        total = listing.count_contents(conn, everything)
        deep = (total // 2) // PER_PAGE * PER_PAGE
        before, _ = listing.list_contents(conn, everything, limit=1, offset=deep - 1)
        key = (before[0].created_at, before[0].id)
        by_offset = listing.list_contents(conn, everything, limit=PER_PAGE, offset=deep)[0]
        by_key = listing.list_contents(conn, everything, limit=PER_PAGE, after=key)[0]
        assert [r.id for r in by_offset] == [r.id for r in by_key]
        brand = listing.ContentFilter(
            catalog_id=conn.execute("SELECT id FROM catalogs").fetchone()[0]
        )
        rows = {
            "count (total)": lambda: listing.count_contents(conn, everything),
            "first page": lambda: listing.list_contents(conn, everything, limit=PER_PAGE),
            f"page {deep // PER_PAGE + 1} by page number (offset {deep})": lambda: (
                listing.list_contents(conn, everything, limit=PER_PAGE, offset=deep)
            ),
            f"page {deep // PER_PAGE + 1} by cursor": lambda: listing.list_contents(
                conn, everything, limit=PER_PAGE, after=key
            ),
            "first page of one brand": lambda: listing.list_contents(conn, brand, limit=PER_PAGE),
        }
        print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
        print(f"{total} visible contents, {PER_PAGE} per page, median of {args.rounds}")
        results = {name: timed(fn, args.rounds) for name, fn in rows.items()}
        for name, ms in results.items():
            print(f"  {name:45} {ms:8.1f} ms")
        names = list(results)
        print(f"deep page: offset / cursor = {results[names[2]] / results[names[3]]:.0f}x")
        conn.close()


if __name__ == "__main__":
    main()
