-- Scrubbing previews (issue 15): one thumbnail strip per file version, made by the previews
-- job (its only writer, docs/jobs.md). The sprites, the WebVTT thumbnails track and the
-- poster are files in the data folder (data_dir/previews/xx/<file>-<size>-<mtime ms>/, the
-- poster in data_dir/thumbs like the on-demand frames); this row says what was made and what
-- making it cost. status: done; failed (no retry for this version); evicted (over the size
-- cap; made again only when the file changes).
CREATE TABLE previews (
    file         TEXT PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
    size         INTEGER NOT NULL,
    mtime        REAL NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('done', 'failed', 'evicted')),
    interval_s   REAL NOT NULL,
    frames       INTEGER NOT NULL DEFAULT 0,
    tile_width   INTEGER NOT NULL DEFAULT 0,
    tile_height  INTEGER NOT NULL DEFAULT 0,
    columns      INTEGER NOT NULL DEFAULT 0,
    sprites      INTEGER NOT NULL DEFAULT 0,
    poster_s     REAL,
    bytes_read   INTEGER NOT NULL DEFAULT 0,  -- what libavformat read of the file
    cpu_s        REAL NOT NULL DEFAULT 0,
    ms           REAL NOT NULL DEFAULT 0,
    stored_bytes INTEGER NOT NULL DEFAULT 0,  -- sprites + track on disk
    error        TEXT,
    made_at      TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX previews_status ON previews (status, updated_at);
