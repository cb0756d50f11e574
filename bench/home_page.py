"""The home page's catalog reads over 100,000 contents (brands, recently added, brand rows).

    .venv/bin/python -m bench.home_page --db FILE [--rounds 5]

Uses the synthetic catalog of ``bench.search`` (build it first with ``bench.search --db FILE``
or ``bench.contents_listing --db FILE``). Times ``web.queries`` as ``GET /`` calls it; the
functions it uses exist before and after issue 12, so the same command run on an older
source tree (``PYTHONPATH=<tree>/src``) gives the baseline on the same database.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from archive_analyzer.web import queries
from bench.timing import timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    # read only, no migration: the same file serves an older source tree as the baseline
    conn = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA cache_size = -32768")  # as the web app's pooled connections

    def home() -> None:
        brands = [c for c in queries.catalogs(conn) if c.content_count]
        queries.recently_added(conn)
        rows = getattr(queries, "brand_rows", None)
        if rows is not None:
            rows(conn)
        else:
            for brand in brands:
                queries.brand_row(conn, brand.id)

    parts: dict[str, Callable[[], object]] = {
        "catalogs (brand counts)": lambda: queries.catalogs(conn),
        "recently added": lambda: queries.recently_added(conn),
        "the whole home page": home,
    }
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; {queries.__file__}")
    for name, fn in parts.items():
        print(f"  {name:28} {timed(fn, args.rounds):8.1f} ms")
    conn.close()


if __name__ == "__main__":
    main()
