"""CLI commands: probe."""
