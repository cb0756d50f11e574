"""The SQLite catalog: files, media info, brands, series, contents, players."""
