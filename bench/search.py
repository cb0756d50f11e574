"""Search latency over 100,000 contents: FTS5 trigram index vs a plain LIKE scan (baseline),
typo tolerance included (the vocabulary warm, as in a running server; its first load is timed
apart).

Builds a synthetic catalog in a temporary database (brands, series, episodes and clips with
realistic titles, 3,000 players with Korean names, hand tags), indexes it with
``catalog.search_index.catch_up`` (what every catalog writer runs) and times a query mix
through ``web.search.search`` (what /api/search runs, first page of 24, ranked) against the
same queries as ``haystack LIKE '%q%'`` over every document (the baseline: no index). Reports
p50/p95 per query kind and overall.

    .venv/bin/python -m bench.search [--contents 100000] [--rounds 3] [--db FILE]

``--db FILE`` keeps the generated catalog there and reuses it on the next run (building and
indexing 100,000 contents takes a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from archive_analyzer.catalog import db, search_index
from archive_analyzer.catalog.hangul import choseong
from archive_analyzer.web import search, spelling

FAMOUS = [
    ("Daniel Negreanu", "다니엘 네그레아누"),
    ("Phil Ivey", "필 아이비"),
    ("Tom Dwan", "톰 드완"),
    ("Phil Hellmuth", "필 헬뮤스"),
    ("Alex Foxen", "알렉스 폭슨"),
    ("Doug Polk", "더그 폴크"),
    ("Jennifer Tilly", "제니퍼 틸리"),
    ("Chris Moneymaker", "크리스 머니메이커"),
    ("Johnny Chan", "조니 챈"),
    ("Maria Ho", "마리아 호"),
    ("Erik Seidel", "에릭 사이델"),
    ("Fedor Holz", "페도르 홀츠"),
    ("Justin Bonomo", "저스틴 보노모"),
    ("Bryn Kenney", "브린 케니"),
    ("Stephen Chidwick", "스티븐 치드윅"),
]
SYLLABLES = "가나다라마바사아자차카타파하고노도로모보소오조초코토포호구누두루무부수우주추"
BRANDS = [
    ("wsop", "WSOP"),
    ("hcl", "HCL"),
    ("pad", "Poker After Dark"),
    ("mpp", "MPP"),
    ("ggm", "GGMillions"),
    ("gog", "Game of Gold"),
    ("pgo", "PokerGO"),
    ("wpt", "WPT"),
]
EVENTS = [
    "Main Event",
    "Bracelet Events",
    "High Roller",
    "Super High Roller",
    "PLO Championship",
    "Mystery Bounty",
    "Ladies Event",
    "Seniors",
    "Millionaire Maker",
    "Monster Stack",
]
TAGS = ["preflop_allin", "hero_call", "cooler", "badbeat", "bluff", "river_suckout", "slowplay"]
QUERIES = {
    "english word": ["negreanu", "main event", "hellmuth", "bounty", "paradise", "final table"],
    "english rare": ["chidwick", "bonomo", "seidel day 3", "ladies event 2011"],
    "korean name": ["네그레아누", "아이비", "헬뮤스", "머니메이커", "사이델"],
    "choseong": ["ㄴㄱㄹㅇㄴ", "ㅎㅁㅅ", "ㅁㄴㅁㅇㅋ"],
    "short (1-2 chars)": ["필", "폭슨"[:2], "1a", "톰"],
    "with filters": ["day 2|wsop|2019", "negreanu|hcl|", "bluff||2023"],
    # typo tolerance (issue 16): words of 5+ letters found nowhere, one edit (two from 9)
    "typos": ["moneymakr", "negreano", "helmuth", "chidwik", "네그레아노", "seidle day 3"],
    # nothing found: the "did you mean" work on top
    "nothing (suggest)": ["ivy", "zzqxv"],
}


def build(path: Path, contents: int, seed: int = 7) -> sqlite3.Connection:
    rng = random.Random(seed)
    conn = db.connect(path)
    now = db.timestamp(db.utc_now())
    players: list[tuple[str, str, str | None]] = []
    for i, (name, kr) in enumerate(FAMOUS):
        players.append((f"p{i}", name, kr))
    for i in range(len(FAMOUS), 3000):
        kr = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        players.append((f"p{i}", f"Player {i:04d} {kr}", kr if rng.random() < 0.7 else None))
    with db.transaction(conn):
        conn.executemany(
            "INSERT INTO catalogs (id, title, sort_order, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [(b, t, i, now, now) for i, (b, t) in enumerate(BRANDS)],
        )
        series_rows = []
        for b, t in BRANDS:
            for year in range(2003, 2026):
                for event in EVENTS:
                    sid = f"{b}-{year}-{event}".replace(" ", "-").lower()
                    series_rows.append((sid, b, sid, f"{year} {t} {event}", year, now, now))
        conn.executemany(
            "INSERT INTO series (id, catalog_id, key, title, year, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            series_rows,
        )
        conn.executemany(
            "INSERT INTO players (id, name, name_key, name_kr, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(pid, name, name.casefold(), kr, now, now) for pid, name, kr in players],
        )
        conn.executemany(
            "INSERT INTO tags (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
            [(t, t, now, now) for t in TAGS],
        )
        episodes: list[str] = []
        rows, links, tag_links = [], [], []
        for n in range(contents):
            sid, brand, _, stitle, year, _, _ = rng.choice(series_rows)
            cid = f"c{n:06d}"
            if episodes and rng.random() < 0.35:
                parent = rng.choice(episodes)
                a, b = rng.sample(players, 2)
                title = f"Hand {rng.randint(1, 400)} - {a[1]} vs {b[1]}"
                start = rng.uniform(0, 30000)
                rows.append(
                    (
                        cid,
                        "clip",
                        parent,
                        start,
                        start + 90,
                        None,
                        None,
                        title,
                        year,
                        None,
                        None,
                        now,
                        now,
                    )
                )
                links += [(cid, a[0], now), (cid, b[0], now)]
                tag_links.append((cid, rng.choice(TAGS), now))
            else:
                day = rng.choice(["1A", "1B", "1C", "2", "3", "4", "5", "FINAL"])
                part = rng.randint(1, 3)
                title = f"{stitle} _ Day {day} (Part {part})"
                rows.append(
                    (cid, "episode", None, None, None, sid, brand, title, year, day, part, now, now)
                )
                episodes.append(cid)
                for p in rng.sample(players, rng.randint(0, 3)):
                    links.append((cid, p[0], now))
        conn.executemany(
            "INSERT INTO contents (id, kind, parent_id, start_sec, end_sec, series_id, "
            "catalog_id, title, year, day, part, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.executemany(
            "INSERT OR IGNORE INTO content_players (content_id, player_id, updated_at) "
            "VALUES (?, ?, ?)",
            links,
        )
        conn.executemany(
            "INSERT OR IGNORE INTO content_tags (content_id, tag_id, updated_at) VALUES (?, ?, ?)",
            tag_links,
        )
    return conn


def _query(raw: str) -> search.SearchQuery:
    text, _, rest = raw.partition("|")
    brand, _, year = rest.partition("|")
    return search.SearchQuery(text=text, catalog_id=brand or None, year=int(year) if year else None)


def _baseline(conn: sqlite3.Connection, q: search.SearchQuery) -> int:
    where = ["haystack LIKE ? ESCAPE '\\'"]
    params: list[object] = ["%" + search_index.normalize_text(q.text) + "%"]
    if q.catalog_id:
        where.append("catalog_id = ?")
        params.append(q.catalog_id)
    if q.year:
        where.append("year = ?")
        params.append(q.year)
    rows = conn.execute(
        f"SELECT content_id FROM search_docs WHERE {' AND '.join(where)} "
        "ORDER BY kind, sort_key LIMIT 24",
        params,
    ).fetchall()
    return len(rows)


VOCABULARY_WORDS = 50_000


def vocabulary_scaling(queries: list[str], rounds: int, seed: int = 11) -> list[float]:
    """Milliseconds of ``Terms.near`` per typo word over a synthetic vocabulary of
    ``VOCABULARY_WORDS`` words (the generated catalog's own vocabulary is small: its players are
    numbered), so the figure covers an archive with many more distinct names."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words: set[str] = set()
    while len(words) < VOCABULARY_WORDS * 0.8:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(3, 12))))
    while len(words) < VOCABULARY_WORDS:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 5))))
    famous = [w.casefold() for name, kr in FAMOUS for w in (*name.split(), *kr.split())]
    terms = spelling.Terms.of([(w, 1) for w in words] + [(w, 50) for w in famous])
    timings: list[float] = []
    for _ in range(rounds):
        for raw in queries:
            for word in search.words_of_query(raw.partition("|")[0]):
                edits = spelling.allowed_edits(word)
                if not edits:
                    continue
                s = time.perf_counter()
                terms.near(word, edits)
                timings.append((time.perf_counter() - s) * 1000)
    return timings


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contents", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", type=Path, default=None, help="keep/reuse the catalog here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        conn = db.connect(path) if path.exists() else build(path, args.contents)
        conn.execute("PRAGMA cache_size = -32768")  # as the web app's pooled connections
        t1 = time.perf_counter()
        with db.transaction(conn):
            indexed = search_index.catch_up(conn)
        t2 = time.perf_counter()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        docs = conn.execute("SELECT count(*) FROM search_docs").fetchone()[0]
        print(
            f"catalog: {docs} indexed contents, 3000 players; build {t1 - t0:.1f} s, "
            f"index {indexed} docs in {t2 - t1:.1f} s; "
            f"database {path.stat().st_size / 2**20:.0f} MiB"
        )
        assert choseong("네그레아누") == "ㄴㄱㄹㅇㄴ"
        vocabulary = spelling.Vocabulary()
        s = time.perf_counter()
        terms = vocabulary.terms(conn)
        print(
            f"vocabulary: {len(terms)} words, first load {(time.perf_counter() - s) * 1000:.0f} ms "
            "(then cached per process)"
        )
        per_kind: dict[str, tuple[list[float], list[float], list[int]]] = {}
        for _ in range(args.rounds):
            for kind, queries in QUERIES.items():
                fts_ms, base_ms, hits = per_kind.setdefault(kind, ([], [], []))
                for raw in queries:
                    q = _query(raw)
                    s = time.perf_counter()
                    page = search.search(conn, q, vocabulary=vocabulary)
                    fts_ms.append((time.perf_counter() - s) * 1000)
                    hits.append(page.total)
                    s = time.perf_counter()
                    _baseline(conn, q)
                    base_ms.append((time.perf_counter() - s) * 1000)
        all_fts: list[float] = []
        all_base: list[float] = []
        print(
            "\n| query kind | queries | median hits | FTS p50 ms | FTS p95 ms | "
            "LIKE-scan p50 ms | LIKE-scan p95 ms |"
        )
        print("|---|---|---|---|---|---|---|")
        for kind, (fts_ms, base_ms, hits) in per_kind.items():
            all_fts += fts_ms
            all_base += base_ms
            print(
                f"| {kind} | {len(QUERIES[kind])} | {int(statistics.median(hits))} | "
                f"{pct(fts_ms, 50):.1f} | {pct(fts_ms, 95):.1f} | {pct(base_ms, 50):.1f} | "
                f"{pct(base_ms, 95):.1f} |"
            )
        print(
            f"| **all** | {sum(len(v) for v in QUERIES.values())} | | "
            f"**{pct(all_fts, 50):.1f}** | **{pct(all_fts, 95):.1f}** | "
            f"{pct(all_base, 50):.1f} | {pct(all_base, 95):.1f} |"
        )
        print(
            f"\nratio (LIKE scan / FTS) p50 {pct(all_base, 50) / pct(all_fts, 50):.1f}x, "
            f"p95 {pct(all_base, 95) / pct(all_fts, 95):.1f}x; target FTS p95 <= 50 ms: "
            f"{'met' if pct(all_fts, 95) <= 50 else 'NOT met'}"
        )
        near_ms = vocabulary_scaling(QUERIES["typos"], args.rounds)
        print(
            f"\ntypo lookup alone over a {VOCABULARY_WORDS:,}-word vocabulary (a large real "
            f"archive's titles, series and players): p50 {pct(near_ms, 50):.1f} ms, "
            f"p95 {pct(near_ms, 95):.1f} ms per query word"
        )
        print(json.dumps({"fts_p50": pct(all_fts, 50), "fts_p95": pct(all_fts, 95)}))
        conn.close()


if __name__ == "__main__":
    main()
