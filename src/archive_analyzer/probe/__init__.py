"""Probing: technical metadata from a few KB per file."""
