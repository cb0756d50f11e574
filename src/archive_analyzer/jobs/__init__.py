"""Huey jobs: polling, probing, syncing, on SQLite or Redis storage."""
