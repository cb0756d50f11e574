"""Scanning: full scans with checkpoints, and the polling watcher."""
