-- Foundation: files, media info, scans and their checkpoints, file history.
-- Timestamps are ISO 8601 UTC text with microseconds (catalog.db.timestamp): sortable as text.

CREATE TABLE files (
    id          TEXT PRIMARY KEY,          -- stable catalog id, never derived from the path
    source      TEXT NOT NULL,             -- display-safe source name (no password)
    path        TEXT NOT NULL,             -- relative to the source root, '/', NFC
    name        TEXT NOT NULL,
    ext         TEXT NOT NULL,             -- lower case, no dot
    size        INTEGER NOT NULL,
    mtime       REAL NOT NULL,             -- POSIX seconds
    file_id     TEXT,                      -- the server's file id (SMB FileId / inode)
    status      TEXT NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'incoming', 'missing', 'deleted')),
    is_media    INTEGER NOT NULL DEFAULT 1,  -- 0 for junk and sidecars (.part, .zip, .xmp ...)
    probe_state TEXT NOT NULL DEFAULT 'pending'
                CHECK (probe_state IN ('pending', 'done', 'failed', 'skipped')),
    missing_since TEXT,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (source, path)
);
CREATE INDEX files_updated_at ON files (updated_at);
CREATE INDEX files_status ON files (status);
CREATE INDEX files_file_id ON files (source, file_id);
CREATE INDEX files_size ON files (source, size);
CREATE INDEX files_probe_state ON files (probe_state) WHERE probe_state = 'pending';

-- One row per file; media_info.id = files.id.
CREATE TABLE media_info (
    id               TEXT PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
    status           TEXT NOT NULL,
    container        TEXT,
    format_long_name TEXT,
    duration_s       REAL,
    bit_rate         INTEGER,
    size             INTEGER,
    video_codec      TEXT,
    video_profile    TEXT,
    width            INTEGER,
    height           INTEGER,
    frame_rate       REAL,
    pix_fmt          TEXT,
    field_order      TEXT,
    audio            TEXT NOT NULL DEFAULT '[]',  -- JSON list of {codec, channels, sample_rate, language}
    subtitle_count   INTEGER NOT NULL DEFAULT 0,
    creation_time    TEXT,
    error            TEXT,
    bytes_read       INTEGER NOT NULL DEFAULT 0,
    reads            INTEGER NOT NULL DEFAULT 0,
    strategy         TEXT NOT NULL,
    probe_ms         REAL NOT NULL DEFAULT 0,
    browser_playable INTEGER NOT NULL DEFAULT 0,
    probed_size      INTEGER,                   -- the file's size and mtime when probed
    probed_mtime     REAL,
    probed_at        TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX media_info_updated_at ON media_info (updated_at);
CREATE INDEX media_info_status ON media_info (status);

CREATE TABLE scans (
    id            INTEGER PRIMARY KEY,
    source        TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('full', 'incremental', 'poll')),
    status        TEXT NOT NULL CHECK (status IN ('in_progress', 'completed', 'failed', 'suspect')),
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    files_seen    INTEGER NOT NULL DEFAULT 0,
    bytes_seen    INTEGER NOT NULL DEFAULT 0,
    files_new     INTEGER NOT NULL DEFAULT 0,
    files_changed INTEGER NOT NULL DEFAULT 0,
    files_moved   INTEGER NOT NULL DEFAULT 0,
    files_missing INTEGER NOT NULL DEFAULT 0,
    errors        INTEGER NOT NULL DEFAULT 0,
    duration_s    REAL,
    message       TEXT
);
CREATE INDEX scans_started ON scans (started_at);

CREATE TABLE scan_checkpoints (
    scan_id         INTEGER PRIMARY KEY REFERENCES scans (id) ON DELETE CASCADE,
    source          TEXT NOT NULL,
    last_path       TEXT,
    processed_files INTEGER NOT NULL DEFAULT 0,
    processed_bytes INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL CHECK (status IN ('in_progress', 'completed')),
    updated_at      TEXT NOT NULL
);

CREATE TABLE file_events (
    id      INTEGER PRIMARY KEY,
    file    TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL,  -- new, changed, moved, missing, deleted, restored, probed, probe_failed, incoming
    detail  TEXT            -- JSON
);
CREATE INDEX file_events_file ON file_events (file, at);
CREATE INDEX file_events_at ON file_events (at);
