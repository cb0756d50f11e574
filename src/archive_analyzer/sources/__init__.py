"""Sources: where the archive lives (a local folder or an SMB share)."""
