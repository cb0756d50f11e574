"""CLI commands: watch."""
