"""Archive Analyzer: catalog, probe, sync and serve a broadcast video archive on a NAS."""

__version__ = "0.1.0"
