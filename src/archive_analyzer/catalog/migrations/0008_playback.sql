-- Playback (issue 9): one poster frame per file version, with what making it cost.
-- The JPEG itself lives in the thumbnail cache folder (data_dir/thumbs), keyed by file version.

CREATE TABLE thumbnails (
    file        TEXT PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
    size        INTEGER NOT NULL,   -- the file version the frame was taken from
    mtime       REAL NOT NULL,
    position_s  REAL,               -- where the frame was taken (about 10 % in)
    bytes_read  INTEGER NOT NULL DEFAULT 0,  -- input bytes ffmpeg read (its AVIO statistics)
    seeks       INTEGER NOT NULL DEFAULT 0,
    ms          REAL NOT NULL DEFAULT 0,
    error       TEXT,               -- why no frame could be made (then no retry for this version)
    made_at     TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX thumbnails_updated_at ON thumbnails (updated_at);
