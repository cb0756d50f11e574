"""Benchmarks: scripts whose figures go into docs/benchmarks.md (never timed tests)."""
