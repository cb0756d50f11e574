"""CLI commands: scan."""
