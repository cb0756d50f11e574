"""Timing helpers shared by the benchmarks (no project imports: runs against any source tree)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def timed(fn: Callable[[], object], rounds: int) -> float:
    """Median milliseconds of ``fn`` over ``rounds`` calls (after one warm-up call)."""
    fn()
    runs = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs)
