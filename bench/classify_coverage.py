"""How much of an archive the classification rules understand.

    .venv/bin/python -m bench.classify_coverage            # the generated archive, with truth
    .venv/bin/python -m bench.classify_coverage --paths FILE  # real paths, one per line

On the generated archive (``bench/archive_paths.py``) it prints the share of media files left
unclassified (no brand), the share whose brand, year, season, episode, day, part and event
number are all right, the share with every checked fact right (also location, buy-in, kind,
duplicate flag, players), and the misses by fact. On a list of real paths there is no truth:
it prints the unclassified share and the facts found.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from archive_analyzer.catalog.classify import classify
from archive_analyzer.catalog.classify_json import as_json
from archive_analyzer.catalog.rules import load_rules
from archive_analyzer.paths import extension
from bench.archive_paths import FACTS, check, generate

MEDIA = {"mp4", "mov", "mxf", "mkv", "avi", "webm", "ts", "m2ts", "mpg", "wmv", "m4v"}


def generated(rules_file: Path | None, show: int) -> None:
    rules = load_rules(rules_file)
    samples = [s for s in generate() if s.media]
    started = time.perf_counter()
    results = [as_json(classify(s.path, rules)) for s in samples]
    elapsed = time.perf_counter() - started
    misses: Counter[str] = Counter()
    core_ok = all_ok = unclassified = 0
    examples: list[str] = []
    for sample, got in zip(samples, results, strict=True):
        wrong = check(sample, got)
        misses.update(wrong)
        unclassified += got["catalog"] is None
        core_ok += not any(f in FACTS for f in wrong)
        all_ok += not wrong
        if wrong and len(examples) < show:
            examples.append(f"  {sample.path}: {', '.join(wrong)}")
    n = len(samples)
    print(f"generated archive: {n} media files, {len(generate()) - n} non-media")
    print(f"unclassified (no brand): {unclassified} ({100 * unclassified / n:.2f}%)")
    print(f"brand+year+season+episode+day+part+event right: {core_ok} ({100 * core_ok / n:.2f}%)")
    print(f"every checked fact right: {all_ok} ({100 * all_ok / n:.2f}%)")
    print(f"misses by fact: {dict(misses.most_common())}")
    print(f"classify: {1e6 * elapsed / n:.0f} us per path")
    if examples:
        print("examples:")
        print("\n".join(examples))


def real(paths_file: Path, rules_file: Path | None) -> None:
    rules = load_rules(rules_file)
    lines = [p for p in paths_file.read_text(encoding="utf-8").splitlines() if p.strip()]
    media = [p for p in lines if extension(p) in MEDIA]
    found: Counter[str] = Counter()
    unclassified = 0
    for path in media:
        got = as_json(classify(path, rules))
        unclassified += got["catalog"] is None
        found.update(k for k in ("year", "season", "episode", "day", "part") if got[k])
    n = max(1, len(media))
    print(f"{paths_file}: {len(media)} media files of {len(lines)} paths")
    print(f"unclassified (no brand): {unclassified} ({100 * unclassified / n:.2f}%)")
    print("facts found: " + ", ".join(f"{k} {100 * v / n:.1f}%" for k, v in found.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=Path, help="real archive paths, one per line")
    parser.add_argument("--rules", type=Path, help="rules file layered over the shipped one")
    parser.add_argument("--show", type=int, default=10, help="misclassified examples to print")
    args = parser.parse_args()
    if args.paths:
        real(args.paths, args.rules)
    else:
        generated(args.rules, args.show)


if __name__ == "__main__":
    main()
